// Line icons drawn inline (no icon font, no emoji: a machine without an emoji font shows
// boxes). 24×24 viewBox, stroked with the text colour.

const paths = {
  inbox: "M3 13h5l2 3h4l2-3h5M5 5h14l2 8v6H3v-6z",
  board: "M4 20V10M10 20V4M16 20v-7M22 20H2",
  sessions: "M8 2h8a2 2 0 0 1 2 2v16a2 2 0 0 1-2 2H8a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zM11 18h2",
  team: "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7M22 21v-1a6 6 0 0 0-4-5.6",
  bots: "M12 2v3M5 8h14v11H5zM9 13h.01M15 13h.01M9 17h6M2 12v4M22 12v4",
  campaigns: "M3 10v4h3l7 5V5L6 10zM17 8a5 5 0 0 1 0 8M20 5a9 9 0 0 1 0 14",
  reports: "M4 4v16h16M8 16v-5M12 16V8M16 16v-3M20 16V6",
  contacts: "M4 3h14a2 2 0 0 1 2 2v14a2 2 0 0 1-2 2H4zM4 7H2M4 12H2M4 17H2M12 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM7 17a5 5 0 0 1 10 0",
} as const;

export type IconName = keyof typeof paths;

export function Icon({ name }: { name: IconName }) {
  return (
    <svg class="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      <path d={paths[name]} fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" />
    </svg>
  );
}

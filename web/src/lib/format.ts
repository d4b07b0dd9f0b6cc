// Times and names as people read them.

const sameDay = (a: Date, b: Date) =>
  a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();

/** "14:05" today, "Mon" this week, "3 Dec" this year, "3 Dec 2025" before. */
export function shortTime(ms: number, now = new Date()): string {
  const d = new Date(ms);
  if (sameDay(d, now)) return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const days = (now.getTime() - ms) / 86_400_000;
  if (days < 6 && days > 0) return d.toLocaleDateString([], { weekday: "short" });
  if (d.getFullYear() === now.getFullYear()) return d.toLocaleDateString([], { day: "numeric", month: "short" });
  return d.toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" });
}

export const clock = (ms: number) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });

/** The label of a day separator: "Today", "Yesterday", or the date. */
export function dayLabel(ms: number, now = new Date()): string {
  const d = new Date(ms);
  if (sameDay(d, now)) return "Today";
  const y = new Date(now);
  y.setDate(y.getDate() - 1);
  if (sameDay(d, y)) return "Yesterday";
  return d.toLocaleDateString([], { weekday: "long", day: "numeric", month: "long", year: "numeric" });
}

export const dayKey = (ms: number) => {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
};

/** "4 s", "3 min", "2 h 5 min", "3 d" */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  if (s < 86_400) {
    const m = Math.floor((s % 3600) / 60);
    return `${Math.floor(s / 3600)} h${m ? ` ${m} min` : ""}`;
  }
  return `${Math.floor(s / 86_400)} d`;
}

/** A phone number from a WhatsApp chat id: "447700900123@c.us" → "+447700900123". */
export function phoneOf(chatId: string): string {
  const [user, server] = chatId.split("@");
  return server === "c.us" || server === "s.whatsapp.net" ? `+${user}` : chatId;
}

/** "Maria Silva" → "MS"; words that start with a digit or sign are skipped ("Customer 04" → "C"). */
export const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter((w) => /^\p{L}/u.test(w))
    .slice(0, 2)
    .map((w) => w[0]!.toUpperCase())
    .join("") || name.trim().charAt(0) || "?";

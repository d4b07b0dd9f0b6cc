import type { ComponentChildren } from "preact";
import { canUseInbox, isSupervisor, readsContacts, readsReports, runsCampaigns, type Role } from "../api/types";
import { onLink, path } from "../lib/router";
import { logout, me } from "../state/session";
import { ConnectionIndicator } from "./ConnectionIndicator";
import { Icon, type IconName } from "./icons";
import { PresenceSwitch } from "./PresenceSwitch";

interface NavItem {
  to: string;
  label: string;
  icon: IconName;
  may: (r: Role) => boolean;
}

export const NAV: NavItem[] = [
  { to: "/inbox", label: "Inbox", icon: "inbox", may: canUseInbox },
  { to: "/board", label: "Board", icon: "board", may: isSupervisor },
  { to: "/sessions", label: "Sessions", icon: "sessions", may: isSupervisor },
  { to: "/team", label: "Team", icon: "team", may: isSupervisor },
  { to: "/bots", label: "Bots", icon: "bots", may: isSupervisor },
  { to: "/contacts", label: "Contacts", icon: "contacts", may: readsContacts },
  { to: "/campaigns", label: "Campaigns", icon: "campaigns", may: runsCampaigns },
  { to: "/reports", label: "Reports", icon: "reports", may: readsReports },
];

/** The frame around every page: navigation, one's presence, the connection, sign-out. */
export function Shell({ children }: { children: ComponentChildren }) {
  const user = me.value!;
  const here = path.value;
  return (
    <div class="shell">
      <header class="topbar">
        <a class="brand" href="/" onClick={(e) => onLink(e, "/")}>
          <span class="brand-mark" aria-hidden="true">✓✓</span>
          <span class="brand-name">tickhub</span>
        </a>
        <nav aria-label="Main">
          {NAV.filter((n) => n.may(user.role)).map((n) => (
            <a
              href={n.to}
              class={here.startsWith(n.to) ? "active" : ""}
              aria-current={here.startsWith(n.to) ? "page" : undefined}
              onClick={(e) => onLink(e, n.to)}
            >
              <Icon name={n.icon} />
              <span class="nav-label">{n.label}</span>
            </a>
          ))}
        </nav>
        <div class="topbar-end">
          <ConnectionIndicator />
          <PresenceSwitch />
          <span class="me" title={user.email}>
            {user.name}
          </span>
          <button type="button" class="ghost" onClick={() => void logout()} data-testid="logout">
            Sign out
          </button>
        </div>
      </header>
      <div class="page">{children}</div>
    </div>
  );
}

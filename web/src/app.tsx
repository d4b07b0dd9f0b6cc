import type { FunctionComponent } from "preact";
import { useEffect } from "preact/hooks";
import { canUseInbox, isSupervisor, readsContacts, readsReports, runsCampaigns, type Role } from "./api/types";
import { Shell } from "./components/Shell";
import { match, navigate, path } from "./lib/router";
import { Board } from "./pages/board/Board";
import { Bots } from "./pages/bots/Bots";
import { Campaigns } from "./pages/campaigns/Campaigns";
import { ContactPage } from "./pages/contacts/ContactPage";
import { Contacts } from "./pages/contacts/Contacts";
import { Inbox } from "./pages/inbox/Inbox";
import { Login } from "./pages/Login";
import { Reports } from "./pages/reports/Reports";
import { Sessions } from "./pages/sessions/Sessions";
import { Team } from "./pages/team/Team";
import { me, noteActivity, ready } from "./state/session";

type Page = FunctionComponent<{ params: Record<string, string> }>;

const ROUTES: { pattern: string; page: Page; may: (r: Role) => boolean }[] = [
  { pattern: "/inbox", page: Inbox, may: canUseInbox },
  { pattern: "/inbox/:id", page: Inbox, may: canUseInbox },
  { pattern: "/board", page: Board, may: isSupervisor },
  { pattern: "/sessions", page: Sessions, may: isSupervisor },
  { pattern: "/team", page: Team, may: isSupervisor },
  { pattern: "/bots", page: Bots, may: isSupervisor },
  { pattern: "/bots/:id", page: Bots, may: isSupervisor },
  // Everyone reads contacts (agents do not edit them); the fixed paths before `:id`.
  { pattern: "/contacts", page: Contacts, may: readsContacts },
  { pattern: "/contacts/segments", page: Contacts, may: readsContacts },
  { pattern: "/contacts/import", page: Contacts, may: readsContacts },
  { pattern: "/contacts/duplicates", page: Contacts, may: readsContacts },
  { pattern: "/contacts/settings", page: Contacts, may: readsContacts },
  { pattern: "/contacts/:id", page: ContactPage, may: readsContacts },
  // The fixed paths before `:id`, as for contacts.
  { pattern: "/campaigns", page: Campaigns, may: runsCampaigns },
  { pattern: "/campaigns/new", page: Campaigns, may: runsCampaigns },
  { pattern: "/campaigns/templates", page: Campaigns, may: runsCampaigns },
  { pattern: "/campaigns/:id", page: Campaigns, may: runsCampaigns },
  { pattern: "/campaigns/:id/edit", page: Campaigns, may: runsCampaigns },
  // Each role reads some report; the page shows the tabs theirs (docs/permissions.md "Reports").
  { pattern: "/reports", page: Reports, may: readsReports },
  { pattern: "/reports/:tab", page: Reports, may: readsReports },
];

/** Where a member lands: the inbox, or the contacts for those without one (marketing). */
const home = (r: Role) => (canUseInbox(r) ? "/inbox" : "/contacts");

export function App() {
  const user = me.value;
  const p = path.value;
  // Read in render, with `user`: an effect of the first render that runs after the sign-in
  // check answered must not see the new `ready` beside the old `user` (and go to /login).
  const isReady = ready.value;

  useEffect(() => {
    const onInput = () => noteActivity();
    window.addEventListener("keydown", onInput, { passive: true });
    window.addEventListener("pointerdown", onInput, { passive: true });
    return () => {
      window.removeEventListener("keydown", onInput);
      window.removeEventListener("pointerdown", onInput);
    };
  }, []);

  const found = user
    ? ROUTES.map((r) => ({ r, params: match(r.pattern, p) })).find((x) => x.params && x.r.may(user.role))
    : undefined;

  useEffect(() => {
    if (!isReady) return;
    if (!user && p !== "/login") navigate("/login", { replace: true });
    else if (user && !found) navigate(home(user.role), { replace: true });
  }, [isReady, user, p, found]);

  if (!isReady) return <div class="splash" aria-busy="true" />;
  if (!user) return <Login />;
  if (!found) return <div class="splash" />;
  const PageComponent = found.r.page;
  return (
    <Shell>
      <PageComponent params={found.params!} />
    </Shell>
  );
}

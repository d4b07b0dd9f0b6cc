import { onLink, path } from "../../lib/router";
import { CampaignBuilder } from "./CampaignBuilder";
import { CampaignList } from "./CampaignList";
import { CampaignPage, EditCampaign } from "./CampaignPage";
import { Templates } from "./Templates";
import "./campaigns.css";

const TABS = [
  { to: "/campaigns", label: "Campaigns" },
  { to: "/campaigns/new", label: "New campaign" },
  { to: "/campaigns/templates", label: "Templates" },
];

/** Campaigns (admins, managers, marketing): the list, the builder, one campaign, and the saved templates. */
export function Campaigns({ params }: { params: Record<string, string> }) {
  const here = path.value;
  const id = params.id ? Number(params.id) : null;
  return (
    <main class="main campaigns" data-testid="campaigns">
      <div class="camp-top">
        <h1>Campaigns</h1>
        <nav class="camp-tabs" aria-label="Campaigns">
          {TABS.map((t) => (
            <a
              href={t.to}
              class={here === t.to ? "camp-tab-on" : ""}
              aria-current={here === t.to ? "page" : undefined}
              onClick={(e) => onLink(e, t.to)}
            >
              {t.label}
            </a>
          ))}
        </nav>
      </div>
      {id !== null && Number.isSafeInteger(id) && here.endsWith("/edit") ? (
        <EditCampaign key={`edit-${id}`} id={id} />
      ) : id !== null && Number.isSafeInteger(id) ? (
        <CampaignPage key={id} id={id} />
      ) : here === "/campaigns/new" ? (
        <CampaignBuilder />
      ) : here === "/campaigns/templates" ? (
        <Templates />
      ) : (
        <CampaignList />
      )}
    </main>
  );
}

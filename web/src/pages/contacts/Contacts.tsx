import { canWriteContacts } from "./types";
import { onLink, path } from "../../lib/router";
import { me } from "../../state/session";
import { ContactList } from "./ContactList";
import { ImportWizard } from "./ImportWizard";
import { Segments } from "./Segments";
import { useSchema } from "./useSchema";
import "./contacts.css";

const TABS = [
  { to: "/contacts", label: "Contacts" },
  { to: "/contacts/segments", label: "Segments" },
  { to: "/contacts/import", label: "Import" },
];

/** The CRM: the contact list and its filters, the segments, and the CSV import. */
export function Contacts(_: { params: Record<string, string> }) {
  const viewer = me.value!;
  const here = path.value;
  const schema = useSchema();
  const tabs = TABS.filter((t) => t.to !== "/contacts/import" || canWriteContacts(viewer.role));
  return (
    <main class="main contacts" data-testid="contacts">
      <div class="contacts-top">
        <h1>Contacts</h1>
        <nav class="contacts-tabs" aria-label="Contacts">
          {tabs.map((t) => (
            <a
              href={t.to}
              class={here === t.to ? "contacts-tab-on" : ""}
              aria-current={here === t.to ? "page" : undefined}
              onClick={(e) => onLink(e, t.to)}
            >
              {t.label}
            </a>
          ))}
        </nav>
      </div>
      {schema.error && (
        <p class="error" role="alert">
          {schema.error}
        </p>
      )}
      {here === "/contacts/segments" ? (
        <Segments schema={schema} canWrite={canWriteContacts(viewer.role)} />
      ) : here === "/contacts/import" ? (
        <ImportWizard schema={schema} />
      ) : (
        <ContactList schema={schema} />
      )}
    </main>
  );
}

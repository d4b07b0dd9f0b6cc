import { useState } from "preact/hooks";
import { isSupervisor, type Role } from "../../api/types";
import { canWriteContacts } from "./types";
import { onLink, path } from "../../lib/router";
import { me } from "../../state/session";
import { ContactList } from "./ContactList";
import { ContactSettings } from "./ContactSettings";
import { Duplicates } from "./Duplicates";
import { ImportWizard } from "./ImportWizard";
import { Segments } from "./Segments";
import { useSchema } from "./useSchema";
import "./contacts.css";

const TABS: { to: string; label: string; may: (r: Role) => boolean }[] = [
  { to: "/contacts", label: "Contacts", may: () => true },
  { to: "/contacts/segments", label: "Segments", may: () => true },
  { to: "/contacts/import", label: "Import", may: canWriteContacts },
  { to: "/contacts/duplicates", label: "Duplicates", may: () => true },
  // Types and attributes: admins and managers change them (docs/permissions.md).
  { to: "/contacts/settings", label: "Settings", may: isSupervisor },
];

/** The CRM: the contact list and its filters, the segments, the CSV import, duplicates and settings. */
export function Contacts(_: { params: Record<string, string> }) {
  const viewer = me.value!;
  const here = path.value;
  const [version, setVersion] = useState(0);
  const schema = useSchema(version);
  const tabs = TABS.filter((t) => t.may(viewer.role));
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
      ) : here === "/contacts/duplicates" ? (
        <Duplicates canWrite={canWriteContacts(viewer.role)} />
      ) : here === "/contacts/settings" && isSupervisor(viewer.role) ? (
        <ContactSettings onChanged={() => setVersion((v) => v + 1)} />
      ) : (
        <ContactList schema={schema} />
      )}
    </main>
  );
}

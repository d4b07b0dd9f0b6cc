-- Contacts CRM (issue 17): profiles, types, typed attributes, consent, owners, WhatsApp id
-- aliases and segments (saved filters). Times are milliseconds since the Unix epoch.

-- The kinds of contact the team sorts people into (lead, customer, VIP, ...): a table, not
-- configuration, so that admins and managers change the list at run time, every node of a
-- cluster reads the same list, and a contact's type is checked against it.
CREATE TABLE contact_types (
    name       TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
INSERT INTO contact_types (name, label, position, created_at) VALUES
    ('lead', 'Lead', 1, 0), ('customer', 'Customer', 2, 0), ('vip', 'VIP', 3, 0);

-- Declared custom attributes: a value written through the API to a declared name must be of
-- its type (text, number, date, boolean, choice), and segment filters compare it as such.
CREATE TABLE contact_attribute_defs (
    name       TEXT PRIMARY KEY,
    label      TEXT NOT NULL,
    type       TEXT NOT NULL,
    -- The allowed values of a `choice` (a JSON array of strings); NULL for other types.
    choices    TEXT,
    created_at INTEGER NOT NULL
);

ALTER TABLE contacts ADD COLUMN type TEXT REFERENCES contact_types(name) ON UPDATE CASCADE;
-- In minor units (cents): sums and comparisons stay exact.
ALTER TABLE contacts ADD COLUMN lifetime_spend_cents INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN owner_id INTEGER REFERENCES users(id);
-- 'opted_in' | 'opted_out' | NULL (never asked); with where and when it was given.
ALTER TABLE contacts ADD COLUMN consent TEXT;
ALTER TABLE contacts ADD COLUMN consent_source TEXT;
ALTER TABLE contacts ADD COLUMN consent_at INTEGER;
CREATE INDEX contacts_by_type ON contacts (type);
CREATE INDEX contacts_by_owner ON contacts (owner_id);

-- More WhatsApp ids of one contact in its session (a `…@lid` beside its `…@c.us`): a
-- message from any of them lands on the same contact. The contact's own `chat_id` is not
-- repeated here.
CREATE TABLE contact_wa_ids (
    session_id INTEGER NOT NULL REFERENCES wa_sessions(id),
    wa_id      TEXT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, wa_id)
);
CREATE INDEX contact_wa_ids_by_contact ON contact_wa_ids (contact_id);

-- Saved filters (docs/segments.md); the count is computed when asked, never stored.
CREATE TABLE segments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    filter     TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

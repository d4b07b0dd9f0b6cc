-- Saved message templates (issue 18): campaign material, written in the bot template
-- language with fallbacks (`{{contact.first_name | "there"}}`, docs/templates.md). A
-- campaign copies the body when it is created, so editing or deleting a template never
-- changes a campaign already planned. Times are milliseconds since the Unix epoch.
CREATE TABLE message_templates (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

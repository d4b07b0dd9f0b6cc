-- Quick replies: saved responses the team inserts into a reply by their shortcut (`/thanks`).
-- The text may hold the bot engine's template variables (`{{contact.name}}`), filled in by
-- the browser from the conversation's contact. Times are milliseconds since the Unix epoch.

CREATE TABLE quick_replies (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    -- 1 to 32 of [a-z0-9_-]: lower case only, so uniqueness needs no case folding.
    shortcut   TEXT NOT NULL UNIQUE,
    text       TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

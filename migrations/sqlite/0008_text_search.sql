-- Finding text inside contacts and messages without reading every row (issue 16): with
-- 100,000 contacts and 1,000,000 messages a `LIKE '%q%'` scan answers in tenths of a second.
-- FTS5 with the trigram tokenizer (sqlx's bundled SQLite has FTS5) finds any substring of
-- three characters or more, ignoring case; the tables hold only the index (external
-- content) and triggers keep them in step with their rows.

-- Everything a contact search matches, one field a line (a search never spans two fields);
-- the CRM's further fields join here.
ALTER TABLE contacts ADD COLUMN search_text TEXT GENERATED ALWAYS AS (
    COALESCE(name, '') || char(10) || COALESCE(push_name, '') || char(10) || COALESCE(phone, '')
        || char(10) || chat_id || char(10) || COALESCE(email, '') || char(10) || COALESCE(notes, '')
) VIRTUAL;

CREATE VIRTUAL TABLE contacts_fts USING fts5(
    search_text, content = 'contacts', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO contacts_fts (contacts_fts) VALUES ('rebuild');
-- One segment: 'rebuild' leaves several, and merging them would fall on the next writes
-- (the webhook path) instead of here.
INSERT INTO contacts_fts (contacts_fts) VALUES ('optimize');
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, push_name, phone, chat_id, email, notes ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;

CREATE VIRTUAL TABLE messages_fts USING fts5(
    text, content = 'messages', content_rowid = 'id', tokenize = 'trigram');
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
INSERT INTO messages_fts (messages_fts) VALUES ('optimize');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

-- A search's conversations from its contacts, and the contact_id filter.
CREATE INDEX conversations_by_contact ON conversations (contact_id);
-- The conversations whose own chat id and title a search reads (a person chat's chat id is
-- its contact's, found through the contact).
CREATE INDEX conversations_own_search ON conversations (id) WHERE contact_id IS NULL OR title IS NOT NULL;

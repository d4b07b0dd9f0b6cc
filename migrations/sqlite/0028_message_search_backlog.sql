-- Messages reach their FTS5 index after their webhook's transaction, not inside it
-- (issue 16, target 4): the index's insert trigger wrote a small segment into the
-- trigram index with every batch of webhooks, and on a 1,000,000-message index the
-- merges of those segments fell on the webhooks (1,000/s p99 74-94 ms against 44 ms on
-- an empty database). A background indexer (`store::search::index_messages`) now adds
-- the messages past `indexed_through` a few hundred at a time, and a search reads the
-- few not yet indexed row by row (`store::search::Search::message`).
CREATE TABLE message_search (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    indexed_through INTEGER NOT NULL
);
INSERT INTO message_search (id, indexed_through) VALUES (1, COALESCE((SELECT MAX(id) FROM messages), 0));

DROP TRIGGER messages_fts_insert;
-- Only an indexed message has entries to remove: an external-content FTS5 table takes a
-- 'delete' of text it never indexed as a corruption. Messages ids only grow
-- (AUTOINCREMENT), so "indexed" is "at or below the mark".
DROP TRIGGER messages_fts_delete;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages
WHEN old.id <= (SELECT indexed_through FROM message_search WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
DROP TRIGGER messages_fts_update;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages
WHEN old.id <= (SELECT indexed_through FROM message_search WHERE id = 1) BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
END;

-- Fewer index entries and row locks per stored message (issue 16).

-- A message's dedupe key is (session_id, raw_id) (messages_by_raw_id, which raw ids in any
-- serialization of the engine's make stricter); the unique index on the full WAHA id
-- repeated that check on every insert.
ALTER TABLE messages DROP CONSTRAINT messages_session_id_waha_id_key;

-- A message's session is its conversation's, whose foreign key holds that link. Checking
-- the session row as well took a share lock on that one row from every concurrent writer
-- (a multixact per message on a busy number).
ALTER TABLE messages DROP CONSTRAINT messages_session_id_fkey;

-- Pruning finds its cut along the primary key (store::events::prune); an index on the
-- time cost every event an entry.
DROP INDEX events_by_time;

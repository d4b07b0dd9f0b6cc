-- Fewer index entries per stored event (issue 16). Pruning finds its cut along the primary
-- key (store::events::prune); an index on the time cost every event an entry. (SQLite
-- keeps the messages table's constraints: dropping them would rebuild the table, and
-- there they cost no lock.)
DROP INDEX events_by_time;

-- A conversation list filtered by one session (issue 16): a range of this index in activity
-- order. Without it SQLite read the session's rows through its (session_id, chat_id) key
-- and sorted all of them for a page of 50 (15,000 conversations: 22 ms, p99 39 ms on the
-- seeded database; docs/benchmarks.md). PostgreSQL already answers it from its own plans
-- in 2 ms, so it has no such index (one fewer to write per message).
CREATE INDEX conversations_session_activity ON conversations (session_id, last_message_at DESC, id DESC);

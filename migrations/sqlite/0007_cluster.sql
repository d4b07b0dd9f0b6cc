-- Cluster mode runs on PostgreSQL only; the column keeps both schemas alike.
ALTER TABLE wa_sessions ADD COLUMN fence BIGINT NOT NULL DEFAULT 0;

CREATE INDEX inbox_unprocessed_by_session ON inbox (session_id, id) WHERE processed_at IS NULL;

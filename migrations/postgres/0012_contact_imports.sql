-- Contact imports (issue 17): a CSV body is stored as it streams in, in chunks of whole
-- records, then applied chunk by chunk; each chunk's rows, the counters and `next_chunk`
-- commit in one transaction, so an import interrupted by a restart resumes where it stood
-- without applying a row twice. Times are milliseconds since the Unix epoch.

CREATE TABLE contact_imports (
    id           BIGSERIAL PRIMARY KEY,
    session_id   BIGINT NOT NULL REFERENCES wa_sessions(id),
    on_duplicate TEXT NOT NULL,
    -- receiving (the body is arriving) | running | completed | failed
    status       TEXT NOT NULL,
    -- The header's column names (a JSON array).
    columns      TEXT NOT NULL,
    chunks       BIGINT NOT NULL DEFAULT 0,
    next_chunk   BIGINT NOT NULL DEFAULT 0,
    rows         BIGINT NOT NULL DEFAULT 0,
    created      BIGINT NOT NULL DEFAULT 0,
    updated      BIGINT NOT NULL DEFAULT 0,
    skipped      BIGINT NOT NULL DEFAULT 0,
    failed       BIGINT NOT NULL DEFAULT 0,
    failure      TEXT,
    created_by   BIGINT REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX contact_imports_unfinished ON contact_imports (id) WHERE status IN ('receiving', 'running');

CREATE TABLE contact_import_chunks (
    import_id  BIGINT NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    seq        BIGINT NOT NULL,
    -- The line its first record starts on (the header is line 1).
    first_line BIGINT NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE contact_import_errors (
    import_id BIGINT NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    line      BIGINT NOT NULL,
    field     TEXT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX contact_import_errors_by_import ON contact_import_errors (import_id, line);

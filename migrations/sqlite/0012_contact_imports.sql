-- Contact imports (issue 17): a CSV body is stored as it streams in, in chunks of whole
-- records, then applied chunk by chunk; each chunk's rows, the counters and `next_chunk`
-- commit in one transaction, so an import interrupted by a restart resumes where it stood
-- without applying a row twice. Times are milliseconds since the Unix epoch.

CREATE TABLE contact_imports (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id   INTEGER NOT NULL REFERENCES wa_sessions(id),
    on_duplicate TEXT NOT NULL,
    -- receiving (the body is arriving) | running | completed | failed
    status       TEXT NOT NULL,
    -- The header's column names (a JSON array).
    columns      TEXT NOT NULL,
    chunks       INTEGER NOT NULL DEFAULT 0,
    next_chunk   INTEGER NOT NULL DEFAULT 0,
    rows         INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    skipped      INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    failure      TEXT,
    created_by   INTEGER REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX contact_imports_unfinished ON contact_imports (id) WHERE status IN ('receiving', 'running');

CREATE TABLE contact_import_chunks (
    import_id  INTEGER NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    seq        INTEGER NOT NULL,
    -- The line its first record starts on (the header is line 1).
    first_line INTEGER NOT NULL,
    data       TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE contact_import_errors (
    import_id INTEGER NOT NULL REFERENCES contact_imports(id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    field     TEXT NOT NULL,
    reason    TEXT NOT NULL
);
CREATE INDEX contact_import_errors_by_import ON contact_import_errors (import_id, line);

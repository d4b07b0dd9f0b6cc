-- Cluster mode (issue 15): members' presence choices (and deactivations) on their way to
-- the node that keeps presence. A member's node stores each before acknowledging it; the
-- keeper reads them in id order and deletes each in the transaction that logs what it
-- changed, so every choice is announced once, in order, whatever pub/sub loses
-- (docs/architecture.md). Empty but for the moment between a choice and its announcement.
-- (A cluster runs on PostgreSQL; the table is here so both schemas stay alike.)
CREATE TABLE presence_choices (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    choice     TEXT NOT NULL,
    node       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

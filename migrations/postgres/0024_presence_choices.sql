-- Cluster mode (issue 15): members' presence choices (and deactivations) on their way to
-- the node that keeps presence. A member's node stores each before acknowledging it; the
-- keeper reads them in id order and deletes each in the transaction that logs what it
-- changed, so every choice is announced once, in order, whatever pub/sub loses
-- (docs/architecture.md). Empty but for the moment between a choice and its announcement.
CREATE TABLE presence_choices (
    id         BIGSERIAL PRIMARY KEY,
    user_id    BIGINT NOT NULL REFERENCES users(id),
    choice     TEXT NOT NULL,
    node       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

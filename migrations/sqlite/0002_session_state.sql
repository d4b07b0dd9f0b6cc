-- When the stored status was true (WAHA's timestamp when it sent one, else arrival), so an
-- older report never overwrites a newer one; and whether the hub wants the session running
-- (reconciled with WAHA, which forgets its sessions when it restarts).
ALTER TABLE wa_sessions ADD COLUMN status_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wa_sessions ADD COLUMN wants_running BOOLEAN NOT NULL DEFAULT TRUE;

-- WAHA's timestamp of the newest stamped status report, so an older one arriving late never
-- overwrites it; and whether the hub wants the session running
-- (reconciled with WAHA, which forgets its sessions when it restarts).
ALTER TABLE wa_sessions ADD COLUMN status_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE wa_sessions ADD COLUMN wants_running BOOLEAN NOT NULL DEFAULT TRUE;

-- GDPR (issue 17, contract §3c): erasure of a contact.

-- When the contact's personal data was erased: a durable flag (campaigns never message an
-- erased contact; the row stays as the tombstone its conversations and audit entries
-- point at).
ALTER TABLE contacts ADD COLUMN erased_at BIGINT;

-- The audit log stays append-only, with one exception the law asks for: an entry about an
-- erased contact may have its `before`/`after` (the personal data it recorded) replaced
-- by the marker `{"erased":true}`; every other column, every other change, DELETE and
-- TRUNCATE are still refused.
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.id IS NOT DISTINCT FROM OLD.id
       AND NEW.created_at IS NOT DISTINCT FROM OLD.created_at
       AND NEW.actor_id IS NOT DISTINCT FROM OLD.actor_id
       AND NEW.actor_email IS NOT DISTINCT FROM OLD.actor_email
       AND NEW.via IS NOT DISTINCT FROM OLD.via
       AND NEW.action IS NOT DISTINCT FROM OLD.action
       AND NEW.target_type IS NOT DISTINCT FROM OLD.target_type
       AND NEW.target_id IS NOT DISTINCT FROM OLD.target_id
       AND NEW.session_id IS NOT DISTINCT FROM OLD.session_id
       AND NEW.ip IS NOT DISTINCT FROM OLD.ip
       AND (NEW.before IS NOT DISTINCT FROM OLD.before OR NEW.before = '{"erased":true}')
       AND (NEW.after IS NOT DISTINCT FROM OLD.after OR NEW.after = '{"erased":true}') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;

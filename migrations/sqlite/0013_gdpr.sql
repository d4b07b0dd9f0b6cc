-- GDPR (issue 17, contract §3c): erasure of a contact.

-- When the contact's personal data was erased: a durable flag (campaigns never message an
-- erased contact; the row stays as the tombstone its conversations and audit entries
-- point at).
ALTER TABLE contacts ADD COLUMN erased_at INTEGER;

-- The audit log stays append-only, with one exception the law asks for: an entry about an
-- erased contact may have its `before`/`after` (the personal data it recorded) replaced
-- by the marker `{"erased":true}`; every other column, and every other change, is still
-- refused.
DROP TRIGGER audit_log_no_update;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
WHEN NOT (
    NEW.id IS OLD.id AND NEW.created_at IS OLD.created_at AND NEW.actor_id IS OLD.actor_id
    AND NEW.actor_email IS OLD.actor_email AND NEW.via IS OLD.via AND NEW.action IS OLD.action
    AND NEW.target_type IS OLD.target_type AND NEW.target_id IS OLD.target_id
    AND NEW.session_id IS OLD.session_id AND NEW.ip IS OLD.ip
    AND (NEW.before IS OLD.before OR NEW.before = '{"erased":true}')
    AND (NEW.after IS OLD.after OR NEW.after = '{"erased":true}')
)
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

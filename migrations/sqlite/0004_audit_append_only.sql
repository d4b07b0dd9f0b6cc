-- The audit log is append-only: the hub never changes or removes an entry, and the
-- database refuses to, whoever asks. (Dropping the table or editing the file still needs
-- the database owner's hands; this guards against the application and its users.)

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be changed');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: entries cannot be deleted');
END;

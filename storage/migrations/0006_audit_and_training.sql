-- Tamper-evident audit log. Each row carries the previous row's hash and its own hash over the
-- canonical JSON of its fields (see api/audit.py), so `callrec audit verify` finds an altered,
-- removed or reordered row. Rows are written under an advisory lock so `seq` has no gaps.
CREATE TABLE audit_log (
    seq          bigint PRIMARY KEY,
    at           timestamptz NOT NULL,
    actor_id     uuid,            -- no foreign key: the entry outlives the account
    actor        text,            -- username at the time; NULL for the system or anonymous
    action       text NOT NULL,
    object_type  text,
    object_id    text,
    purpose      text,
    outcome      text NOT NULL,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}',
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL UNIQUE
);
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_object_idx ON audit_log (object_type, object_id, seq);
CREATE INDEX audit_log_action_idx ON audit_log (action, seq);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_or_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Release for training: decided by the data protection officer, with a reason. The history of
-- releases and withdrawals is in the audit log.
ALTER TABLE recordings
    ADD COLUMN training_released_at     timestamptz,
    ADD COLUMN training_released_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN training_release_reason  text;
CREATE INDEX recordings_training_idx ON recordings (started_at, id)
    WHERE training_released_at IS NOT NULL;
CREATE INDEX recordings_customer_idx ON recordings (customer_id, started_at);

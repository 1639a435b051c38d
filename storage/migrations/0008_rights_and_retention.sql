-- Data-subject rights, legal holds, retention and provable deletion (issue #6).

-- A legal hold keeps recordings (listed, or every recording of a customer) and the customer
-- record from erasure and retention until it is released. Released holds stay as history.
CREATE TABLE legal_holds (
    id              uuid PRIMARY KEY,
    reason          text NOT NULL,
    customer_id     uuid REFERENCES customers (id) ON DELETE CASCADE,
    placed_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    placed_at       timestamptz NOT NULL DEFAULT now(),
    released_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    released_at     timestamptz,
    release_reason  text
);
CREATE INDEX legal_holds_active_customer_idx ON legal_holds (customer_id) WHERE released_at IS NULL;
CREATE TABLE legal_hold_recordings (
    hold_id       uuid NOT NULL REFERENCES legal_holds (id) ON DELETE CASCADE,
    recording_id  uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    PRIMARY KEY (hold_id, recording_id)
);
CREATE INDEX legal_hold_recordings_recording_idx ON legal_hold_recordings (recording_id);

-- Requests from data subjects (GDPR Art. 15-21). The subject is a customer, a staff member
-- (by username) or a bare phone number (a caller who is not in the register).
CREATE TABLE subject_requests (
    id                   uuid PRIMARY KEY,
    kind                 text NOT NULL
                         CHECK (kind IN ('access', 'erasure', 'rectification', 'objection')),
    subject_type         text NOT NULL CHECK (subject_type IN ('customer', 'staff', 'phone')),
    customer_id          uuid REFERENCES customers (id) ON DELETE SET NULL,
    staff_username       text,
    phone_number         text,
    channel              text NOT NULL,
    received_at          timestamptz NOT NULL,
    due_at               timestamptz NOT NULL,
    legal_due_at         timestamptz NOT NULL,
    extended_due_at      timestamptz,
    extension_reason     text,
    status               text NOT NULL DEFAULT 'identity_unverified'
                         CHECK (status IN ('identity_unverified', 'verified', 'processing',
                                           'completed', 'denied')),
    verification_method  text,
    verified_by          uuid REFERENCES users (id) ON DELETE SET NULL,
    verified_at          timestamptz,
    denial_reason        text,
    progress_done        integer NOT NULL DEFAULT 0,
    progress_total       integer NOT NULL DEFAULT 0,
    report               jsonb,
    error                text,
    attempts             integer NOT NULL DEFAULT 0,
    leased_until         timestamptz,
    warned_at            timestamptz,
    created_by           uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at           timestamptz NOT NULL DEFAULT now(),
    completed_at         timestamptz
);
CREATE INDEX subject_requests_open_idx ON subject_requests (due_at)
    WHERE status NOT IN ('completed', 'denied');
CREATE INDEX subject_requests_queue_idx ON subject_requests (created_at) WHERE status = 'processing';

-- An access export: a sealed ZIP; the download token is stored only as its SHA-256.
CREATE TABLE exports (
    id                uuid PRIMARY KEY,
    request_id        uuid NOT NULL REFERENCES subject_requests (id) ON DELETE CASCADE,
    sealed_object_id  uuid REFERENCES sealed_objects (id) ON DELETE SET NULL,
    token_sha256      bytea NOT NULL UNIQUE,
    size              bigint NOT NULL,
    files             integer NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    downloaded_at     timestamptz
);
CREATE INDEX exports_expires_idx ON exports (expires_at) WHERE sealed_object_id IS NOT NULL;

-- What was erased, when and why, without any personal data: the proof that deletion happened.
CREATE TABLE tombstones (
    id          uuid PRIMARY KEY,      -- the erased item's own (random) id
    kind        text NOT NULL CHECK (kind IN ('recording', 'customer', 'export', 'contact')),
    reason      text NOT NULL,         -- e.g. retention:recordings, subject_request, manual
    request_id  uuid,                  -- the subject request that asked for it, if any
    objects     integer NOT NULL DEFAULT 0,
    erased_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tombstones_erased_idx ON tombstones (erased_at);

-- Object payloads whose key header is already gone (so they are unreadable) but whose bytes
-- the store has not yet confirmed deleting; the reaper retries them.
CREATE TABLE pending_object_deletions (
    object_key  text PRIMARY KEY,
    queued_at   timestamptz NOT NULL DEFAULT now()
);

-- One row per scheduled job and tick: however many schedulers run, a tick runs once.
CREATE TABLE scheduler_runs (
    job          text NOT NULL,
    tick         bigint NOT NULL,
    node         text NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    outcome      text,
    PRIMARY KEY (job, tick)
);

-- The audit log may lose its oldest rows only behind a checkpoint that keeps the hash of the
-- last pruned row, so the chain still verifies from there.
CREATE TABLE audit_checkpoints (
    seq        bigint PRIMARY KEY,
    hash       bytea NOT NULL,
    at         timestamptz NOT NULL,
    pruned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE OR REPLACE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('callrec.audit_prune', true) = 'on'
       AND OLD.seq <= (SELECT coalesce(max(seq), 0) FROM audit_checkpoints) THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE INDEX recordings_retention_idx ON recordings (started_at) WHERE training_released_at IS NULL;

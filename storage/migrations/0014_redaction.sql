-- Redaction (issue 20): time spans a data protection officer silences, per channel, and the
-- redacted rendition the worker renders from them. The reason is the DPO's free text, kept
-- like the training release reason and the contact log's notes; it is erased with the call.
CREATE TABLE redactions (
    id             uuid PRIMARY KEY,
    recording_id   uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    start_seconds  numeric(10, 3) NOT NULL CHECK (start_seconds >= 0),
    end_seconds    numeric(10, 3) NOT NULL,
    channel        text NOT NULL CHECK (channel IN ('both', 'agent', 'customer')),
    reason         text NOT NULL,
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK (end_seconds > start_seconds)
);
CREATE INDEX redactions_recording_idx ON redactions (recording_id, start_seconds);
CREATE INDEX redactions_created_by_idx ON redactions (created_by);

-- One redacted rendition per recording with spans; the row is also the render job (the
-- same claim, lease and fencing as ingest_jobs). ``generation`` grows with every change of
-- the spans: a render of an older generation is dropped at its commit.
CREATE TABLE redacted_renditions (
    recording_id   uuid PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    status         text NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    generation     integer NOT NULL DEFAULT 1,
    attempts       integer NOT NULL DEFAULT 0,  -- the lease's fencing token, never reset
    failures       integer NOT NULL DEFAULT 0,  -- of this generation, for backoff
    run_after      timestamptz NOT NULL DEFAULT now(),
    leased_until   timestamptz,
    audio_object_id uuid REFERENCES sealed_objects (id) ON DELETE SET NULL,
    waveform       jsonb,
    error          text,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redacted_renditions_due_idx ON redacted_renditions (run_after)
    WHERE status = 'pending';
CREATE INDEX redacted_renditions_object_idx ON redacted_renditions (audio_object_id);

-- A training release records that the DPO reviewed the redaction spans.
ALTER TABLE recordings ADD COLUMN training_redaction_reviewed boolean;

-- Per access request and recording, the DPO's choice of the copy to hand out: the redacted
-- rendition when the call holds other people's data (Art. 15(4)), and why.
CREATE TABLE subject_request_exports (
    request_id    uuid NOT NULL REFERENCES subject_requests (id) ON DELETE CASCADE,
    recording_id  uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    export        text NOT NULL CHECK (export IN ('original', 'redacted')),
    reason        text NOT NULL,
    decided_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    decided_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, recording_id)
);
CREATE INDEX subject_request_exports_recording_idx ON subject_request_exports (recording_id);
CREATE INDEX subject_request_exports_decided_by_idx ON subject_request_exports (decided_by);

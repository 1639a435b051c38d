-- Call recordings as the telephony system delivered them, and the durable ingest queue.
CREATE TABLE recordings (
    id                        uuid PRIMARY KEY,
    external_id               text NOT NULL UNIQUE,
    status                    text NOT NULL DEFAULT 'received'
                              CHECK (status IN ('received', 'processing', 'ready', 'failed')),
    started_at                timestamptz NOT NULL,
    declared_duration_seconds numeric(10, 3) NOT NULL CHECK (declared_duration_seconds > 0),
    measured_duration_seconds numeric(10, 3),
    answered_by               text NOT NULL,
    caller_number             text,            -- E.164; NULL when withheld
    direction                 text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    service_line              text,
    channel_layout            text NOT NULL CHECK (channel_layout IN ('mono', 'agent-left', 'agent-right')),
    notice_played             boolean NOT NULL,
    customer_id               uuid,
    customer_link             text CHECK (customer_link IN ('webhook', 'auto_phone', 'manual')),
    audio_url                 text,            -- fetched by the worker, then cleared
    incoming_object_id        uuid REFERENCES sealed_objects (id) ON DELETE SET NULL,
    audio_object_id           uuid REFERENCES sealed_objects (id) ON DELETE SET NULL,
    received_sha256           bytea,
    audio_sha256              bytea,
    audio_format              text,
    channels                  smallint,
    waveform                  jsonb,
    duration_mismatch         boolean NOT NULL DEFAULT false,
    error                     text,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recordings_caller_number_idx ON recordings (caller_number);
CREATE INDEX recordings_started_at_idx ON recordings (started_at, id);
CREATE INDEX recordings_answered_by_idx ON recordings (answered_by, started_at);
CREATE INDEX recordings_notice_missing_idx ON recordings (created_at) WHERE NOT notice_played;

-- One job per recording; workers claim with FOR UPDATE SKIP LOCKED and hold a lease.
CREATE TABLE ingest_jobs (
    recording_id  uuid PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    attempts      integer NOT NULL DEFAULT 0,
    run_after     timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ingest_jobs_due_idx ON ingest_jobs (run_after);

-- Webhook signatures seen recently: a replay of a request whose recording is gone is refused.
CREATE TABLE webhook_signatures (
    digest   bytea PRIMARY KEY,
    seen_at  timestamptz NOT NULL DEFAULT now()
);

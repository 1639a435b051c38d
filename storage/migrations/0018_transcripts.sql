-- Transcripts (issue 21), opt-in with CALLREC_TRANSCRIBE=on. One row per recording is both
-- the transcription job (leased and fenced like an ingest job: ``attempts`` is the lease's
-- fencing token) and the transcript's header: the text itself is a sealed object (an age
-- payload in the store, its key header in sealed_objects), never a column.
CREATE TABLE transcripts (
    recording_id  uuid PRIMARY KEY REFERENCES recordings (id) ON DELETE CASCADE,
    status        text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'ready', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    failures      integer NOT NULL DEFAULT 0,
    run_after     timestamptz NOT NULL DEFAULT now(),
    leased_until  timestamptz,
    object_id     uuid REFERENCES sealed_objects (id) ON DELETE SET NULL,
    language      text,
    model         text,  -- which pinned model (or the operator's own hash) wrote it
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX transcripts_due_idx ON transcripts (run_after) WHERE status = 'pending';
CREATE INDEX transcripts_object_idx ON transcripts (object_id);

-- The blind keyword index: for each base form said in a call, a keyed hash of it (HMAC-SHA256
-- under the ``transcript_terms`` data key, which only the keyring opens; first 16 bytes) and
-- the recording. No word, no position, no count: which calls share a term is all it tells,
-- and only to someone holding the database and not the keyring.
CREATE TABLE transcript_terms (
    token        bytea NOT NULL CHECK (octet_length(token) = 16),
    recording_id uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    PRIMARY KEY (token, recording_id)
);
CREATE INDEX transcript_terms_recording_idx ON transcript_terms (recording_id);
-- Tokens are spread like words (Zipf): a few are in nearly every call, most in a handful.
-- A bigger sample lets the planner tell a common token (walk the newest calls and probe the
-- index) from a rare one (start from its few rows); the default one took rare for common.
ALTER TABLE transcript_terms ALTER COLUMN token SET STATISTICS 1000;

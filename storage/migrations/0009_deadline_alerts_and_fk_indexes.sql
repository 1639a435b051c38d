-- The deadline monitor warns once before a subject request falls due and alerts once when
-- it is overdue; extending the deadline clears both so the new date is watched afresh.
ALTER TABLE subject_requests ADD COLUMN overdue_alerted_at timestamptz;

-- Scheduler runs are pruned by age.
CREATE INDEX scheduler_runs_started_idx ON scheduler_runs (started_at);

-- Foreign keys need an index on the referencing side, or every deleted header (and every
-- deleted recording) makes PostgreSQL scan the referencing table: erasing 100 000
-- recordings became quadratic. Found by bench/retention.py.
CREATE INDEX recordings_audio_object_idx ON recordings (audio_object_id)
    WHERE audio_object_id IS NOT NULL;
CREATE INDEX recordings_incoming_object_idx ON recordings (incoming_object_id)
    WHERE incoming_object_id IS NOT NULL;
CREATE INDEX exports_sealed_object_idx ON exports (sealed_object_id)
    WHERE sealed_object_id IS NOT NULL;
CREATE INDEX exports_request_idx ON exports (request_id);
CREATE INDEX contact_log_recording_idx ON contact_log (recording_id)
    WHERE recording_id IS NOT NULL;
CREATE INDEX subject_requests_customer_idx ON subject_requests (customer_id)
    WHERE customer_id IS NOT NULL;

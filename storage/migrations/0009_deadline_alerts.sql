-- The deadline monitor warns once before a subject request falls due and alerts once when
-- it is overdue; extending the deadline clears both so the new date is watched afresh.
ALTER TABLE subject_requests ADD COLUMN overdue_alerted_at timestamptz;

-- Scheduler runs are pruned by age.
CREATE INDEX scheduler_runs_started_idx ON scheduler_runs (started_at);

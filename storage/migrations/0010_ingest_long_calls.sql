-- Long calls get only some of a worker's slots, so one 12-hour recording cannot starve the
-- ordinary ones. A call is long when it declares so, or when its audio proved longer than
-- a slot kept for ordinary calls takes (a short declaration is not trusted): then the job
-- is marked here and waits for a slot that takes long calls.
ALTER TABLE ingest_jobs ADD COLUMN long_call boolean NOT NULL DEFAULT false;

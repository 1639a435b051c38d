-- Free text staff write about people is sealed per row with the field cipher (the
-- "register" data key), like the trainers' notes: the contact log's notes, redaction
-- reasons, access-export reasons and training release reasons. Rows an older version wrote
-- still hold plain text: the application seals them at start-up (storage/sealing.py) and
-- empties the plain columns; a later migration drops them once every deployment has done so.
ALTER TABLE contact_log ADD COLUMN note_encrypted bytea, ALTER COLUMN note DROP NOT NULL;
ALTER TABLE redactions ADD COLUMN reason_encrypted bytea, ALTER COLUMN reason DROP NOT NULL;
ALTER TABLE subject_request_exports ADD COLUMN reason_encrypted bytea,
    ALTER COLUMN reason DROP NOT NULL;
ALTER TABLE recordings ADD COLUMN training_release_reason_encrypted bytea;

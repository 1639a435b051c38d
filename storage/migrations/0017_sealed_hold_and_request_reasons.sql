-- The remaining free text staff write about people is sealed per row with the field cipher,
-- as in 0016: a legal hold's reason and release reason, and why a subject request was denied
-- or its deadline extended. The application seals rows an older version left in plain text
-- at start-up (storage/sealing.py) and empties the plain columns; a later migration drops them.
ALTER TABLE legal_holds ADD COLUMN reason_encrypted bytea,
    ADD COLUMN release_reason_encrypted bytea, ALTER COLUMN reason DROP NOT NULL;
ALTER TABLE subject_requests ADD COLUMN denial_reason_encrypted bytea,
    ADD COLUMN extension_reason_encrypted bytea;

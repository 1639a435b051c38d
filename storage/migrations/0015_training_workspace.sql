-- The trainer's workspace (issue 20). Notes at a moment of a call: what a trainer says about
-- how the agent answered is personal data of that agent, so the text is sealed per row with
-- the field cipher (context ``recording_annotations.text:<id>``), goes into the agent's
-- access export and is deleted with the call (the erasure report counts it).
CREATE TABLE recording_annotations (
    id             uuid PRIMARY KEY,
    recording_id   uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    at_ms          integer NOT NULL CHECK (at_ms >= 0),
    text_encrypted bytea NOT NULL,
    created_by     uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recording_annotations_recording_idx ON recording_annotations (recording_id, at_ms, id);
CREATE INDEX recording_annotations_created_by_idx ON recording_annotations (created_by);

-- Collections of released calls (a course), shared among trainers. A call leaves every
-- collection when its release is withdrawn, and when it is erased.
CREATE TABLE training_collections (
    id         uuid PRIMARY KEY,
    name       text NOT NULL,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX training_collections_name_idx ON training_collections (lower(name));
CREATE INDEX training_collections_created_by_idx ON training_collections (created_by);

CREATE TABLE training_collection_items (
    collection_id uuid NOT NULL REFERENCES training_collections (id) ON DELETE CASCADE,
    recording_id  uuid NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    added_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    added_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, recording_id)
);
CREATE INDEX training_collection_items_recording_idx ON training_collection_items (recording_id);
CREATE INDEX training_collection_items_added_by_idx ON training_collection_items (added_by);

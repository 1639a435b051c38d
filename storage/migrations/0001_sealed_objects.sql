-- Encrypted objects: the age header (wrapped file key + MAC) lives here, the payload in the
-- object store. Deleting a row crypto-shreds the object: no other copy of its key exists.
CREATE TABLE sealed_objects (
    id               uuid PRIMARY KEY,
    object_key       text NOT NULL UNIQUE,
    header           bytea NOT NULL,
    key_version      integer NOT NULL CHECK (key_version > 0),
    payload_nonce    bytea NOT NULL CHECK (length(payload_nonce) = 16),
    payload_size     bigint NOT NULL CHECK (payload_size >= 32),
    plaintext_size   bigint NOT NULL CHECK (plaintext_size >= 0),
    plaintext_sha256 bytea NOT NULL CHECK (length(plaintext_sha256) = 32),
    created_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sealed_objects_key_version_idx ON sealed_objects (key_version);

-- Personal staff accounts. A user is also the agent identity ingest matches `answered_by` to
-- (by username or extension). Roles are task-specific; see api/permissions.py.
CREATE TABLE users (
    id              uuid PRIMARY KEY,
    username        text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    display_name    text,
    extension       text UNIQUE,
    password_hash   text NOT NULL,
    roles           text[] NOT NULL CHECK (roles <@ ARRAY['admin', 'customer_service', 'trainer', 'dpo', 'housing_advisor']
                                           AND cardinality(roles) > 0),
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    disabled        boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- Bearer tokens are stored hashed: a database leak does not hand out sessions.
CREATE TABLE sessions (
    token_sha256 bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

ALTER TABLE recordings ADD COLUMN answered_by_user_id uuid REFERENCES users (id) ON DELETE SET NULL;

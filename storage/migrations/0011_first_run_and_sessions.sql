-- First run: the one-time setup link's token, kept only as its SHA-256 (a database leak does
-- not hand out the first administrator). One live token at a time; used or expired is dead.
CREATE TABLE setup_tokens (
    token_sha256 bytea PRIMARY KEY,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);

-- An administrator's reset leaves a one-time password: until its owner picks a new one,
-- every session of the account may only change the password.
ALTER TABLE users ADD COLUMN must_change_password boolean NOT NULL DEFAULT false;

-- Sessions get a public id (the token's hash stays the key and never leaves the server),
-- when they were last used, and the device they were opened from (a short "Firefox on
-- Linux", never the whole User-Agent), so their owner can recognise and end them.
ALTER TABLE sessions
    ADD COLUMN id           uuid NOT NULL DEFAULT gen_random_uuid() UNIQUE,
    ADD COLUMN last_seen_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN device       text CHECK (length(device) <= 100);

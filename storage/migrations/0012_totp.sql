-- Two-factor sign-in (TOTP, RFC 6238). The secret is sealed with the register's field key,
-- bound to its account (context users.totp_secret:<id>), so a database copy alone does not
-- yield it. last_step is the newest time step accepted: a code is accepted once.
CREATE TABLE totp_factors (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    confirmed_at  timestamptz,
    last_step     bigint NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Ten single-use recovery codes per enrolment, stored as keyed hashes (HMAC with the field
-- key), never as text.
CREATE TABLE totp_recovery_codes (
    user_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hmac bytea NOT NULL,
    used_at   timestamptz,
    PRIMARY KEY (user_id, code_hmac)
);

-- The step between a right password and the code: short-lived, single use, stored hashed.
-- cookie: the login began at /v1/auth/session, so it ends in the console's cookie.
CREATE TABLE login_challenges (
    token_sha256 bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    cookie       boolean NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX login_challenges_user_idx ON login_challenges (user_id);

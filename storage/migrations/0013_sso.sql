-- Single sign-on (OpenID Connect). An account is linked to the provider's (issuer, subject)
-- pair, never to an e-mail address: addresses are reassigned, subjects are not.
CREATE TABLE sso_links (
    user_id       uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    issuer        text NOT NULL,
    subject       text NOT NULL,
    linked_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    UNIQUE (issuer, subject)
);

-- A sign-in in progress: what the browser's short-lived cookie (stored here hashed) must
-- bring back to the callback. Single use, ten minutes; the verifier never leaves the server.
CREATE TABLE sso_pending (
    browser_sha256 bytea PRIMARY KEY,
    state          text NOT NULL,
    nonce          text NOT NULL,
    code_verifier  text NOT NULL,
    expires_at     timestamptz NOT NULL
);

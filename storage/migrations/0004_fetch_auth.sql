-- How the worker authenticates when it fetches audio_url: NULL (none) or 'twilio:<AccountSid>'
-- (HTTP basic auth with CALLREC_TWILIO_AUTH_TOKEN). Never holds a secret itself.
ALTER TABLE recordings ADD COLUMN fetch_auth text CHECK (fetch_auth ~ '^twilio:AC[0-9a-f]{32}$');

-- The core customer register (issue #4). Extends the minimal customers/customer_phones of
-- migration 0003. Henkilötunnus and travel-document numbers are stored encrypted
-- (ChaCha20-Poly1305 under a data key wrapped to the keyring, see storage/fieldcrypt.py)
-- with an HMAC blind index for exact lookup; they never appear in plaintext in the database.

-- Data keys: a random key per purpose, wrapped in an age header to the keyring like every
-- object key, so `callrec keys rewrap` moves them with the rest.
CREATE TABLE data_keys (
    name         text PRIMARY KEY,
    header       bytea NOT NULL,
    key_version  integer NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE customers
    ADD COLUMN first_name          text NOT NULL DEFAULT '',
    ADD COLUMN last_name           text NOT NULL DEFAULT '',
    ADD COLUMN roles               text[] NOT NULL DEFAULT '{}'
        CHECK (roles <@ ARRAY['applicant', 'tenant', 'co_tenant', 'joint_payer', 'occupant', 'buyer']),
    ADD COLUMN status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'former')),
    ADD COLUMN language            text NOT NULL DEFAULT 'fi' CHECK (language IN ('fi', 'sv', 'en')),
    ADD COLUMN relationship_start  date,
    ADD COLUMN birth_date          date,
    ADD COLUMN hetu_encrypted      bytea,
    ADD COLUMN hetu_index          bytea UNIQUE,
    ADD COLUMN travel_document_encrypted bytea,
    ADD COLUMN travel_document_index     bytea UNIQUE,
    ADD COLUMN turvakielto         boolean NOT NULL DEFAULT false,
    ADD COLUMN turvakielto_start   date,
    ADD COLUMN turvakielto_end     date,
    ADD COLUMN assigned_advisor_id uuid REFERENCES users (id) ON DELETE SET NULL,
    ADD COLUMN updated_at          timestamptz NOT NULL DEFAULT now();
-- Name prefix search, case-insensitive ("mäki" finds Mäkinotkelma), and listing by name:
-- a "C"-collated b-tree serves both LIKE 'prefix%' and ORDER BY.
CREATE INDEX customers_last_name_idx ON customers ((lower(last_name) COLLATE "C"), id);
CREATE INDEX customers_first_name_idx ON customers ((lower(first_name) COLLATE "C"), id);
CREATE INDEX customers_advisor_idx ON customers (assigned_advisor_id);

CREATE TABLE customer_emails (
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    email       text NOT NULL,
    PRIMARY KEY (customer_id, email)
);
CREATE TABLE customer_addresses (
    id          uuid PRIMARY KEY,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    street      text NOT NULL,
    postal_code text NOT NULL,
    city        text NOT NULL,
    country     text NOT NULL DEFAULT 'FI',
    position    smallint NOT NULL DEFAULT 0
);
CREATE INDEX customer_addresses_customer_idx ON customer_addresses (customer_id);

-- Edunvalvonta (a guardian appointed for an adult) and the guardian who signed for a minor.
CREATE TABLE guardianships (
    id          uuid PRIMARY KEY,
    guardian_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    ward_id     uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind        text NOT NULL CHECK (kind IN ('edunvalvonta', 'minor')),
    start_date  date,
    end_date    date,
    CHECK (guardian_id <> ward_id)
);
CREATE INDEX guardianships_ward_idx ON guardianships (ward_id);

-- Consents and bans, newest row wins per (customer, kind).
CREATE TABLE marketing_preferences (
    id           uuid PRIMARY KEY,
    customer_id  uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    kind         text NOT NULL CHECK (kind IN ('direct_marketing', 'surveys')),
    allowed      boolean NOT NULL,
    given_via    text NOT NULL CHECK (given_via IN ('phone', 'email', 'visit', 'letter', 'web')),
    recorded_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX marketing_preferences_customer_idx ON marketing_preferences (customer_id, kind, at);

CREATE TABLE leases (
    id               uuid PRIMARY KEY,
    lease_number     text NOT NULL UNIQUE,
    property         text NOT NULL,
    apartment        text NOT NULL,
    start_date       date NOT NULL,
    end_date         date,
    terminated_on    date,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE lease_parties (
    lease_id    uuid NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    role        text NOT NULL CHECK (role IN ('tenant', 'co_tenant', 'joint_payer', 'occupant')),
    PRIMARY KEY (lease_id, customer_id)
);
CREATE INDEX lease_parties_customer_idx ON lease_parties (customer_id);
CREATE TABLE household_members (
    id          uuid PRIMARY KEY,
    lease_id    uuid NOT NULL REFERENCES leases (id) ON DELETE CASCADE,
    name        text NOT NULL,
    birth_date  date
);
CREATE INDEX household_members_lease_idx ON household_members (lease_id);

-- "Asiakkuuteen liittyvä yhteydenpito": the customer-service contact log.
CREATE TABLE contact_log (
    id            uuid PRIMARY KEY,
    customer_id   uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    channel       text NOT NULL CHECK (channel IN ('phone', 'email', 'visit', 'letter', 'web')),
    direction     text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    topic         text NOT NULL CHECK (topic IN ('fault_report', 'rent', 'application', 'termination',
                                                  'complaint', 'feedback', 'other')),
    note          text NOT NULL,
    staff_id      uuid REFERENCES users (id) ON DELETE SET NULL,
    recording_id  uuid REFERENCES recordings (id) ON DELETE SET NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX contact_log_customer_idx ON contact_log (customer_id, at DESC, id DESC);

-- What was disclosed about whom, to which recipient, on what legal basis: the evidence for
-- the "recipients" part of an access request.
CREATE TABLE disclosures (
    id            uuid PRIMARY KEY,
    customer_id   uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    recipient     text NOT NULL,
    recipient_kind text NOT NULL CHECK (recipient_kind IN ('debt_collection', 'maintenance', 'authority', 'contractor', 'other')),
    legal_basis   text NOT NULL,
    data_disclosed text NOT NULL,
    disclosed_by  uuid REFERENCES users (id) ON DELETE SET NULL,
    at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disclosures_customer_idx ON disclosures (customer_id, at DESC);

-- Every change of register data: who, when, old and new value (both encrypted: a history of
-- a person's data is that person's data), so a correction can be shown and undone.
CREATE TABLE rectifications (
    id               uuid PRIMARY KEY,
    customer_id      uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    field            text NOT NULL,
    old_encrypted    bytea,
    new_encrypted    bytea,
    changed_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX rectifications_customer_idx ON rectifications (customer_id, at DESC);

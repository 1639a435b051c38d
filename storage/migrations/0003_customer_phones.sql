-- The smallest customer register that ingest can link calls to; the register issue extends
-- these tables (names, henkilötunnus, contacts, leases) without replacing them.
CREATE TABLE customers (
    id              uuid PRIMARY KEY,
    customer_number text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customer_phones (
    customer_id uuid NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
    number      text NOT NULL,              -- E.164
    kind        text NOT NULL DEFAULT 'mobile' CHECK (kind IN ('mobile', 'landline', 'work', 'other')),
    PRIMARY KEY (customer_id, number)
);
CREATE INDEX customer_phones_number_idx ON customer_phones (number);

ALTER TABLE recordings
    ADD CONSTRAINT recordings_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id)
    ON DELETE SET NULL;

"""What erasing a person means in the register's tables, as typed functions.

The erasure engine (``retention.erasure``) decides what goes and keeps the report; these
functions only change the register, inside the engine's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Final

from storage.db import Connection, DuePage, Pool, due_page

ERASED: Final = "erased"  # the name an anonymised customer keeps
# Retention: what has outlived its period ($1 = cutoff, $2 = keyset after, $3 = limit).
OLD_CONTACTS: Final = "SELECT id FROM contact_log WHERE at < $1 AND id > $2 ORDER BY id LIMIT $3"
IDLE_APPLICANTS: Final = """
SELECT c.id FROM customers c
WHERE c.roles = ARRAY['applicant'] AND c.updated_at < $1 AND c.id > $2
  AND NOT EXISTS (SELECT 1 FROM lease_parties p WHERE p.customer_id = c.id)
ORDER BY c.id LIMIT $3
"""
FORMER_TENANTS: Final = f"""
SELECT c.id FROM customers c
WHERE c.status = 'former' AND c.first_name <> '{ERASED}' AND c.updated_at < $1 AND c.id > $2
  AND NOT EXISTS (SELECT 1 FROM lease_parties p JOIN leases l ON l.id = p.lease_id
                  WHERE p.customer_id = c.id AND (l.end_date IS NULL OR l.end_date >= $1::date))
ORDER BY c.id LIMIT $3
"""  # anonymised ones stay as references; sweeping them again is noise
ACTIVE_LEASE: Final = """
SELECT l.lease_number FROM leases l JOIN lease_parties p ON p.lease_id = l.id
WHERE p.customer_id = $1 AND (l.end_date IS NULL OR l.end_date >= $2) LIMIT 1
"""
PAST_LEASES: Final = "SELECT EXISTS (SELECT 1 FROM lease_parties WHERE customer_id = $1)"
CONTACT_LOG_OF: Final = "SELECT id FROM contact_log WHERE customer_id = $1"
DELETE_CONTACT_LOG: Final = "DELETE FROM contact_log WHERE customer_id = $1 RETURNING id"
CUSTOMERS_OF_CONTACTS: Final = "SELECT id, customer_id FROM contact_log WHERE id = ANY($1)"
DELETE_CONTACTS: Final = "DELETE FROM contact_log WHERE id = ANY($1)"
DELETE_HISTORY: Final = "DELETE FROM rectifications WHERE customer_id = $1"
DELETE_CUSTOMER: Final = "DELETE FROM customers WHERE id = $1"
ANONYMISE_CUSTOMER: Final = """
UPDATE customers SET customer_number = $2 || '-' || replace(id::text, '-', ''),
    first_name = $2, last_name = $2, hetu_encrypted = NULL, hetu_index = NULL,
    travel_document_encrypted = NULL, travel_document_index = NULL, birth_date = NULL,
    turvakielto = false, turvakielto_start = NULL, turvakielto_end = NULL,
    assigned_advisor_id = NULL, status = 'former', updated_at = now()
WHERE id = $1
"""
ANONYMISE_CONTACTS: Final = (
    "DELETE FROM customer_phones WHERE customer_id = $1",
    "DELETE FROM customer_emails WHERE customer_id = $1",
    "DELETE FROM customer_addresses WHERE customer_id = $1",
    "DELETE FROM marketing_preferences WHERE customer_id = $1",
    "DELETE FROM disclosures WHERE customer_id = $1",
    "DELETE FROM guardianships WHERE guardian_id = $1 OR ward_id = $1",
)


async def active_lease(conn: Connection, customer_id: uuid.UUID, on: date) -> str | None:
    """The number of a lease the customer is party to that is in force ``on``, if any."""
    number: str | None = await conn.fetchval(ACTIVE_LEASE, customer_id, on)
    return number


async def in_past_leases(conn: Connection, customer_id: uuid.UUID) -> bool:
    """Whether any lease (ended or not) names the customer as a party."""
    found: bool = await conn.fetchval(PAST_LEASES, customer_id)
    return found


async def contact_log_of(conn: Connection, customer_id: uuid.UUID) -> list[uuid.UUID]:
    """Ids of the customer's contact-log entries (what erasing would remove)."""
    return [row["id"] for row in await conn.fetch(CONTACT_LOG_OF, customer_id)]


async def forget_contacts_and_history(conn: Connection, customer_id: uuid.UUID) -> list[uuid.UUID]:
    """Delete the customer's contact log and change history; the contact entries' ids."""
    entries = [row["id"] for row in await conn.fetch(DELETE_CONTACT_LOG, customer_id)]
    await conn.execute(DELETE_HISTORY, customer_id)
    return entries


async def customers_of_contacts(
    conn: Connection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The customer each of these contact-log entries is about (missing entries left out)."""
    rows = await conn.fetch(CUSTOMERS_OF_CONTACTS, list(ids))
    return {row["id"]: row["customer_id"] for row in rows}


async def delete_contact_entries(conn: Connection, ids: Sequence[uuid.UUID]) -> None:
    """Delete these contact-log entries."""
    await conn.execute(DELETE_CONTACTS, list(ids))


async def anonymise_customer(conn: Connection, customer_id: uuid.UUID, name: str) -> None:
    """Keep the record others refer to, under ``name``, with every personal detail gone."""
    for statement in ANONYMISE_CONTACTS:
        await conn.execute(statement, customer_id)
    await conn.execute(ANONYMISE_CUSTOMER, customer_id, name)


async def delete_customer(conn: Connection, customer_id: uuid.UUID) -> None:
    """Delete the customer row (contacts and the rest go with it by cascade)."""
    await conn.execute(DELETE_CUSTOMER, customer_id)


def old_contacts(pool: Pool) -> DuePage:
    """Contact-log entries written before the cutoff."""
    return due_page(pool, OLD_CONTACTS)


def idle_applicants(pool: Pool) -> DuePage:
    """Applicants who never got a lease and have not changed since the cutoff."""
    return due_page(pool, IDLE_APPLICANTS)


def former_tenants(pool: Pool) -> DuePage:
    """Former tenants, not yet anonymised, whose last lease ended before the cutoff."""
    return due_page(pool, FORMER_TENANTS)

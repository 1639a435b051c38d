"""Turvakielto: which address and contact data is protected, and for which reader.

The one place that decides it. The rule: an address shared with a protected person is a
protected address. So a customer's data is protected not only when they are under
turvakielto themselves, but also where it is a protected person's too:

- a lease with a protected party (its property, apartment, household and the protected
  party's name), and every lease and address of someone who lives with a protected person,
  i.e. shares a lease in force with one (a household member of a protected person);
- a phone number, e-mail address or postal address that a protected person also has
  (phone numbers are compared across the register, e-mails and addresses with the people
  the customer shares a lease or a guardianship with).

Such data is masked for every reader the protected person's own address is masked for:
everyone without the task (customer service and the DPO have it), including the subject of
an access export, who sees their own protected data but not someone else's.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any, Final

from register.customers import PROTECTED, contacts_of
from register.history import Change
from storage.db import Connection

MASKED: Final = "masked"
CONTACT_FIELDS: Final = ("phones", "emails", "addresses")
NOBODY: Final[frozenset[uuid.UUID]] = frozenset()
SELECT_SELF: Final = f"SELECT {PROTECTED.format(c='c', day='$2')} FROM customers c WHERE c.id = $1"
# Protected parties of every lease the customer is on, and whether that lease is in force.
SELECT_LEASE_PARTIES: Final = f"""
SELECT p.lease_id, p.customer_id, (l.end_date IS NULL OR l.end_date >= $2) AS in_force
FROM lease_parties mine
JOIN leases l ON l.id = mine.lease_id
JOIN lease_parties p ON p.lease_id = mine.lease_id
JOIN customers c ON c.id = p.customer_id
WHERE mine.customer_id = $1 AND {PROTECTED.format(c="c", day="$2")}
"""
SELECT_GUARDIANSHIP_LINKS: Final = f"""
SELECT c.id FROM guardianships g
JOIN customers c ON c.id = CASE WHEN g.guardian_id = $1 THEN g.ward_id ELSE g.guardian_id END
WHERE (g.guardian_id = $1 OR g.ward_id = $1) AND {PROTECTED.format(c="c", day="$2")}
"""
SELECT_PHONE_OWNERS: Final = f"""
SELECT p.number, p.customer_id FROM customer_phones p JOIN customers c ON c.id = p.customer_id
WHERE p.number = ANY($1::text[]) AND {PROTECTED.format(c="c", day="$2")}
"""


@dataclass(frozen=True)
class Reader:
    """Who the data goes to: staff with or without the task, or the subject themself."""

    sees_protected: bool
    own_id: uuid.UUID | None = None

    def hides(self, owners: Iterable[uuid.UUID]) -> bool:
        """Whether data that is the address or contact data of the protected people
        ``owners`` must be masked for this reader (nobody's own data is hidden from them)."""
        return not self.sees_protected and any(owner != self.own_id for owner in owners)


def _address_key(item: dict[str, Any]) -> str:
    street = " ".join(str(item.get("street", "")).split()).casefold()
    return f"{item.get('postal_code', '')}|{street}"


def value_key(name: str, item: Any) -> str:
    """What makes two phones, e-mails or addresses the same (a flat's address, not its
    spelling: case and spacing of the street do not count)."""
    if name == "phones":
        return str(item.get("number", "")) if isinstance(item, dict) else ""
    if name == "addresses":
        return _address_key(item) if isinstance(item, dict) else ""
    return str(item).casefold()


@dataclass(frozen=True)
class Protection:
    """The protected people whose address or contact data a customer's data is."""

    customer_id: uuid.UUID
    itself: bool = False
    home: frozenset[uuid.UUID] = NOBODY  # protected people living with the customer
    leases: dict[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    values: dict[tuple[str, str], frozenset[uuid.UUID]] = field(default_factory=dict)

    @property
    def own(self) -> frozenset[uuid.UUID]:
        """The customer, if they are protected themselves."""
        return frozenset({self.customer_id}) if self.itself else NOBODY

    @property
    def anyone(self) -> bool:
        """Whether any of the customer's data is someone's protected data."""
        return bool(self.itself or self.home or self.leases or self.values)

    def lease_owners(self, lease_id: str) -> frozenset[uuid.UUID]:
        """Whose protected address the lease is."""
        return self.own | self.home | self.leases.get(lease_id, NOBODY)

    def contact_owners(self, name: str, items: Iterable[Any]) -> frozenset[uuid.UUID]:
        """Whose protected data the ``name`` (phones, emails, addresses) ``items`` are."""
        owners = self.own | (self.home if name == "addresses" else NOBODY)
        for item in items:
            owners |= self.values.get((name, value_key(name, item)), NOBODY)
        return owners


Values = dict[tuple[str, str], set[uuid.UUID]]


async def _values_of(conn: Connection, people: set[uuid.UUID]) -> Values:
    """The phones, e-mails and addresses of ``people``, by :func:`value_key`, to whom."""
    values: Values = {}
    if not people:
        return values
    phones, emails, addresses = await contacts_of(conn, sorted(people))
    for owner in people:
        for name, items in (
            ("phones", [asdict(p) for p in phones[owner]]),
            ("emails", emails[owner]),
            ("addresses", [asdict(a) for a in addresses[owner]]),
        ):
            for item in items:
                values.setdefault((name, value_key(name, item)), set()).add(owner)
    return values


async def _phone_owners(
    conn: Connection, numbers: Iterable[str], today: date
) -> list[tuple[str, uuid.UUID]]:
    """(number, customer) for each of ``numbers`` a protected person has, register-wide (the
    numbers are indexed; e-mails and addresses are not, so they are compared only with the
    people linked to the customer)."""
    wanted = sorted(set(numbers))
    if not wanted:
        return []
    rows = await conn.fetch(SELECT_PHONE_OWNERS, wanted, today)
    return [(row["number"], row["customer_id"]) for row in rows]


async def protection_of(
    conn: Connection, customer_id: uuid.UUID, today: date, numbers: Iterable[str] = ()
) -> Protection:
    """What of the customer's data is protected on ``today``; ``numbers`` are phone numbers
    (theirs, or in their history) to look up across the register."""
    itself = bool(await conn.fetchval(SELECT_SELF, customer_id, today))
    leases: dict[str, set[uuid.UUID]] = {}
    home: set[uuid.UUID] = set()
    for row in await conn.fetch(SELECT_LEASE_PARTIES, customer_id, today):
        leases.setdefault(str(row["lease_id"]), set()).add(row["customer_id"])
        if row["in_force"] and row["customer_id"] != customer_id:
            home.add(row["customer_id"])
    linked = {owner for owners in leases.values() for owner in owners}
    linked |= {row["id"] for row in await conn.fetch(SELECT_GUARDIANSHIP_LINKS, customer_id, today)}
    linked.discard(customer_id)
    values = await _values_of(conn, linked)
    for number, owner in await _phone_owners(conn, numbers, today):
        if owner != customer_id:
            values.setdefault(("phones", number), set()).add(owner)
    return Protection(
        customer_id,
        itself,
        frozenset(home),
        {lease: frozenset(owners) for lease, owners in leases.items()},
        {key: frozenset(owners) for key, owners in values.items()},
    )


def mask_contacts(record: dict[str, Any], protection: Protection, reader: Reader) -> dict[str, Any]:
    """``record`` (a customer as JSON) with protected phones, e-mails and addresses masked:
    the whole list for a protected person, else each item that is someone else's."""
    masked = dict(record)
    for name in CONTACT_FIELDS:
        items = record.get(name)
        if not isinstance(items, list):
            continue
        if reader.hides(protection.own):
            masked[name] = MASKED
            continue
        masked[name] = [
            _masked_item(item) if reader.hides(protection.contact_owners(name, [item])) else item
            for item in items
        ]
    return masked


def _masked_item(item: Any) -> Any:
    return dict.fromkeys(item, MASKED) if isinstance(item, dict) else MASKED


def mask_leases(
    leases: list[dict[str, Any]], protection: Protection, reader: Reader
) -> list[dict[str, Any]]:
    """The leases with the address, household and protected parties' names masked where
    they are a protected person's address (see the module docstring)."""
    out = []
    for lease in leases:
        lease_id = str(lease["id"])
        if not reader.hides(protection.lease_owners(lease_id)):
            out.append(lease)
            continue
        masked = lease | {"property": MASKED, "apartment": MASKED}
        if "household" in lease:
            masked["household"] = MASKED
        if "parties" in lease:
            protected = protection.leases.get(lease_id, NOBODY)
            masked["parties"] = [_party(p, protected, reader) for p in lease["parties"]]
        out.append(masked)
    return out


def _party(
    party: dict[str, Any], protected: frozenset[uuid.UUID], reader: Reader
) -> dict[str, Any]:
    """A lease party, named only if the reader may know where they live."""
    person = uuid.UUID(party["customer_id"])
    if person in protected and reader.hides({person}):
        return party | {"customer_id": MASKED, "name": MASKED}
    return party


def history_numbers(items: list[Change]) -> set[str]:
    """The phone numbers in rectification entries (old and new values)."""
    return {
        value_key("phones", phone)
        for item in items
        if item.field == "phones"
        for value in (item.old, item.new)
        if isinstance(value, list)
        for phone in value
    }


def visible_history(items: list[Change], protection: Protection, reader: Reader) -> list[Change]:
    """The rectification entries without those whose old or new value is protected data."""

    def hidden(item: Change) -> bool:
        if item.field not in CONTACT_FIELDS:
            return False
        values = [v for value in (item.old, item.new) if isinstance(value, list) for v in value]
        return reader.hides(protection.contact_owners(item.field, values))

    return [item for item in items if not hidden(item)]

"""Checking a customer as sent by a client: every bad field is named at once, and no error
message repeats a value (a mistyped henkilötunnus is still somebody's henkilötunnus)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from register.identity import Henkilotunnus, parse_henkilotunnus
from register.phones import normalise_phone

CUSTOMER_ROLES: Final = ("applicant", "tenant", "co_tenant", "joint_payer", "occupant", "buyer")
LANGUAGES: Final = ("fi", "sv", "en")
STATUSES: Final = ("active", "former")
PHONE_TYPES: Final = ("mobile", "landline", "work", "other")
_CUSTOMER_NUMBER: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_POSTAL_CODE_FI: Final = re.compile(r"^\d{5}$")
MAX_NAME: Final = 100
MAX_ITEMS: Final = 10
# Fields an update cannot clear with null: a customer always has them. A null turvakielto
# read as "false" lifted a protection order by accident.
NOT_CLEARABLE: Final = frozenset(
    {"customer_number", "first_name", "last_name", "roles", "language", "status", "turvakielto"}
)


@dataclass(frozen=True)
class Phone:
    number: str  # E.164
    type: str


@dataclass(frozen=True)
class Address:
    street: str
    postal_code: str
    city: str
    country: str = "FI"


@dataclass
class CustomerInput:
    """The fields a request set; on an update, only those present are changed."""

    present: set[str] = field(default_factory=set)
    customer_number: str = ""
    first_name: str = ""
    last_name: str = ""
    henkilotunnus: Henkilotunnus | None = None
    travel_document: str | None = None
    roles: list[str] = field(default_factory=list)
    language: str = "fi"
    status: str = "active"
    relationship_start: date | None = None
    turvakielto: bool = False
    turvakielto_start: date | None = None
    turvakielto_end: date | None = None
    phones: list[Phone] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    addresses: list[Address] = field(default_factory=list)
    assigned_advisor: str | None = None


def _text(value: object, limit: int = MAX_NAME) -> str | None:
    if isinstance(value, str) and value.strip() and len(value) <= limit:
        return value.strip()
    return None


def iso_date(value: object) -> date | None:
    """``value`` as a date if it is an ISO 8601 date string, else None."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None
    return None


class _Checker:
    def __init__(self, body: dict[str, Any], errors: list[dict[str, str]], partial: bool) -> None:
        self.body, self.errors, self.partial = body, errors, partial

    def fail(self, name: str, message: str) -> None:
        self.errors.append({"field": name, "message": message})

    def wanted(self, name: str, required: bool) -> bool:
        if name in self.body and self.body[name] is not None:
            return True
        if name in self.body and self.partial and name in NOT_CLEARABLE:
            self.fail(name, "cannot be cleared; send a value (null clears optional fields only)")
        elif required and not self.partial:
            self.fail(name, "required")
        return False


def parse_customer(
    body: dict[str, Any], *, partial: bool = False
) -> tuple[CustomerInput, list[dict[str, str]]]:
    """The customer in ``body`` and the list of field errors (empty when all is well)."""
    errors: list[dict[str, str]] = []
    check = _Checker(body, errors, partial)
    fields = CustomerInput.__dataclass_fields__.keys() - {"present"}
    for name in sorted(body.keys() - fields):  # a misspelt "turvakielto" must not pass unseen
        check.fail(name, "not a field of a customer; check the spelling")
    out = CustomerInput(present=body.keys() & fields)
    if check.wanted("customer_number", True):
        number = body["customer_number"]
        if isinstance(number, str) and _CUSTOMER_NUMBER.match(number):
            out.customer_number = number
        else:
            check.fail("customer_number", "1-32 letters, digits and dashes, like A-1001")
    for name in ("first_name", "last_name"):
        if check.wanted(name, True):
            value = _text(body[name])
            if value is None:
                check.fail(name, f"a non-empty name of at most {MAX_NAME} characters")
            else:
                setattr(out, name, value)
    if check.wanted("henkilotunnus", False):
        raw = body["henkilotunnus"]
        try:
            out.henkilotunnus = parse_henkilotunnus(raw if isinstance(raw, str) else "")
        except ValueError as exc:
            check.fail("henkilotunnus", str(exc))
    if check.wanted("travel_document", False):
        value = _text(body["travel_document"], 32)
        if value is None:
            check.fail("travel_document", "the document number, at most 32 characters")
        out.travel_document = value
    if check.wanted("roles", True):
        roles = body["roles"]
        if (
            not isinstance(roles, list)
            or not roles
            or not all(isinstance(r, str) and r in CUSTOMER_ROLES for r in roles)
        ):
            check.fail("roles", f"a non-empty list of: {', '.join(CUSTOMER_ROLES)}")
        else:
            out.roles = sorted(set(roles))
    for name, allowed in (("language", LANGUAGES), ("status", STATUSES)):
        if check.wanted(name, False):
            if body[name] in allowed:
                setattr(out, name, body[name])
            else:
                check.fail(name, f"one of: {', '.join(allowed)}")
    for name in ("relationship_start", "turvakielto_start", "turvakielto_end"):
        if check.wanted(name, False):
            day = iso_date(body[name])
            if day is None:
                check.fail(name, "a date like 2026-11-23")
            setattr(out, name, day)
    if (
        out.turvakielto_start
        and out.turvakielto_end
        and out.turvakielto_end < out.turvakielto_start
    ):
        check.fail("turvakielto_end", "must not be before turvakielto_start")
    if check.wanted("turvakielto", False):
        if isinstance(body["turvakielto"], bool):
            out.turvakielto = body["turvakielto"]
        else:
            check.fail("turvakielto", "true or false")
    if check.wanted("phones", False):
        out.phones = _phones(body["phones"], check)
    if check.wanted("emails", False):
        emails = body["emails"]
        if (
            not isinstance(emails, list)
            or len(emails) > MAX_ITEMS
            or not all(isinstance(e, str) and len(e) <= 254 and _EMAIL.match(e) for e in emails)
        ):
            check.fail("emails", f"a list of at most {MAX_ITEMS} e-mail addresses")
        else:
            out.emails = sorted({e.strip().lower() for e in emails})
    if check.wanted("addresses", False):
        out.addresses = _addresses(body["addresses"], check)
    if check.wanted("assigned_advisor", False):
        advisor = body["assigned_advisor"]
        if isinstance(advisor, str) and advisor:
            out.assigned_advisor = advisor
        else:
            check.fail("assigned_advisor", "the username of a housing advisor")
    return out, errors


def _phones(value: object, check: _Checker) -> list[Phone]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        check.fail("phones", f"a list of at most {MAX_ITEMS} {{number, type}} objects")
        return []
    phones: dict[str, Phone] = {}
    for index, item in enumerate(value):
        name = f"phones[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("number"), str):
            check.fail(name, "an object with number and type")
            continue
        kind = item.get("type", "mobile")
        if kind not in PHONE_TYPES:
            check.fail(f"{name}.type", f"one of: {', '.join(PHONE_TYPES)}")
            continue
        try:
            number = normalise_phone(item["number"])
        except ValueError as exc:
            check.fail(f"{name}.number", f"{exc}; use E.164 like +358401234567")
            continue
        phones[number] = Phone(number, kind)
    return list(phones.values())


def _addresses(value: object, check: _Checker) -> list[Address]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        check.fail("addresses", f"a list of at most {MAX_ITEMS} addresses")
        return []
    addresses = []
    for index, item in enumerate(value):
        name = f"addresses[{index}]"
        if not isinstance(item, dict):
            check.fail(name, "an object with street, postal_code and city")
            continue
        street, city = _text(item.get("street"), 200), _text(item.get("city"))
        country = item.get("country", "FI")
        postal = item.get("postal_code")
        bad = False
        for part, ok in (("street", street), ("city", city)):
            if ok is None:
                check.fail(f"{name}.{part}", "required text")
                bad = True
        if not isinstance(country, str) or not re.fullmatch(r"[A-Z]{2}", country):
            check.fail(f"{name}.country", "a two-letter country code like FI")
            bad = True
        if not isinstance(postal, str) or (
            _POSTAL_CODE_FI.match(postal) is None if country == "FI" else not 1 <= len(postal) <= 12
        ):
            check.fail(f"{name}.postal_code", "five digits, like 00530")
            bad = True
        if not bad:
            assert street is not None
            assert city is not None
            assert isinstance(postal, str)
            addresses.append(Address(street, postal, city, str(country)))
    return addresses

"""A customer as sent by a client (the API's JSON or a CSV row), declared as models.

:class:`NewCustomer` is the body of ``POST /v1/customers`` and of an imported row;
:class:`CustomerChange` the body of ``PATCH /v1/customers/{id}`` (only the fields sent
change). The OpenAPI document is generated from them. Every bad field is named at once and
no error message repeats a value (a mistyped henkilötunnus is still somebody's
henkilötunnus): :func:`common.models.validate_body` takes pydantic's errors without input.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar, Final

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from common.models import Body, Day, OneOf, Text, refuse
from register.identity import Henkilotunnus, parse_henkilotunnus
from register.phones import normalise_phone

CUSTOMER_ROLES: Final = ("applicant", "tenant", "co_tenant", "joint_payer", "occupant", "buyer")
LANGUAGES: Final = ("fi", "sv", "en")
STATUSES: Final = ("active", "former")
PHONE_TYPES: Final = ("mobile", "landline", "work", "other")
_EMAIL: Final = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
_POSTAL_CODE_FI: Final = re.compile(r"^\d{5}$")
MAX_NAME: Final = 100
MAX_ITEMS: Final = 10
# Fields an update cannot clear with null: a customer always has them. A null turvakielto
# read as "false" lifted a protection order by accident.
NOT_CLEARABLE: Final = (
    "customer_number", "first_name", "last_name", "roles", "language", "status", "turvakielto"
)  # fmt: skip
# What a new customer has when the body leaves a field out (or sends null).
DEFAULTS: Final[dict[str, object]] = {"language": "fi", "status": "active", "turvakielto": False}
CANNOT_CLEAR: Final = "cannot be cleared; send a value (null clears optional fields only)"
POSTAL_CODE: Final = "five digits, like 00530"


def _hetu(raw: object) -> Henkilotunnus:
    try:
        return parse_henkilotunnus(raw if isinstance(raw, str) else "")
    except ValueError as exc:  # its message never repeats the value
        raise refuse(str(exc)) from None


HetuField = Annotated[
    Henkilotunnus,
    PlainValidator(_hetu),
    WithJsonSchema(
        {
            "type": "string",
            "description": "under the 2023 rules, like 131052-308T; stored encrypted",
        }
    ),
]


def _phone_number(raw: object) -> str:
    try:
        return normalise_phone(raw if isinstance(raw, str) else "")
    except ValueError as exc:
        raise refuse(f"{exc}; use E.164 like +358401234567") from None


class CustomerPhone(Body):
    """A phone number (kept in E.164) and what kind it is."""

    number: Annotated[str, PlainValidator(_phone_number), WithJsonSchema({"type": "string"})]
    type: Annotated[str, OneOf(PHONE_TYPES)] = "mobile"

    @model_validator(mode="before")
    @classmethod
    def an_object(cls, raw: object) -> object:
        """An item without a number is one error for the item (as the form shows it)."""
        if not isinstance(raw, dict) or not isinstance(raw.get("number"), str):
            raise refuse("an object with number and type")
        return raw


class CustomerAddress(Body):
    """A postal address; a Finnish postal code is five digits."""

    street: Annotated[str, Text(200), Field(description="required text")]
    city: Annotated[str, Text(MAX_NAME), Field(description="required text")]
    country: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Z]{2}$"),
        Field(description="a two-letter country code like FI"),
    ] = "FI"
    postal_code: Annotated[str, Field(description=POSTAL_CODE)]

    @model_validator(mode="before")
    @classmethod
    def an_object(cls, raw: object) -> object:
        """An item that is no object is one error for the item."""
        if not isinstance(raw, dict):
            raise refuse("an object with street, postal_code and city")
        return raw

    @field_validator("postal_code")
    @classmethod
    def by_country(cls, value: str, info: ValidationInfo) -> str:
        """Five digits in Finland (a bad country counts as abroad), 1-12 characters abroad."""
        finnish = info.data.get("country") == "FI"
        if not (_POSTAL_CODE_FI.match(value) if finnish else 1 <= len(value) <= 12):
            raise refuse(POSTAL_CODE)
        return value


def _roles(raw: object) -> object:
    if (
        not isinstance(raw, list)
        or not raw
        or not all(isinstance(r, str) and r in CUSTOMER_ROLES for r in raw)
    ):
        raise refuse(f"a non-empty list of: {', '.join(CUSTOMER_ROLES)}")
    return sorted(set(raw))


def _emails(raw: object) -> object:
    if raw is None:
        return []
    if (
        not isinstance(raw, list)
        or len(raw) > MAX_ITEMS
        or not all(isinstance(e, str) and len(e) <= 254 and _EMAIL.match(e) for e in raw)
    ):
        raise refuse(f"a list of at most {MAX_ITEMS} e-mail addresses")
    return sorted({e.strip().lower() for e in raw})


def _none_is_empty(raw: object) -> object:
    return [] if raw is None else raw


def _one_per_number(phones: list[CustomerPhone]) -> list[CustomerPhone]:
    return list({phone.number: phone for phone in phones}.values())


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


# Roles and e-mails are checked as a whole: an error names the list, not an item.
Roles = Annotated[
    list[str],
    BeforeValidator(_roles),
    WithJsonSchema(
        {"type": "array", "items": {"type": "string", "enum": list(CUSTOMER_ROLES)}, "minItems": 1}
    ),
]
Emails = Annotated[
    list[str],
    BeforeValidator(_emails),
    WithJsonSchema(
        _nullable({"type": "array", "items": {"type": "string"}, "maxItems": MAX_ITEMS})
    ),
]
Phones = Annotated[
    list[CustomerPhone],
    BeforeValidator(_none_is_empty),
    AfterValidator(_one_per_number),
    Field(
        max_length=MAX_ITEMS,
        description=f"a list of at most {MAX_ITEMS} {{number, type}} objects",
    ),
]
Addresses = Annotated[
    list[CustomerAddress],
    BeforeValidator(_none_is_empty),
    Field(max_length=MAX_ITEMS, description=f"a list of at most {MAX_ITEMS} addresses"),
]
Name = Annotated[str, Text(MAX_NAME)]
NAME: Final = f"a non-empty name of at most {MAX_NAME} characters"
CustomerNumber = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")]
NUMBER: Final = "1-32 letters, digits and dashes, like A-1001"
Language = Annotated[str, OneOf(LANGUAGES)]
Status = Annotated[str, OneOf(STATUSES)]
TRUE_OR_FALSE: Final = "true or false"
Document = Annotated[str, Text(32)]
Advisor = Annotated[str, StringConstraints(min_length=1)]


class CustomerChange(Body):
    """The fields of a customer a request sets: on an update, only those sent change, and
    null clears an optional field (the required ones, language, status and turvakielto
    cannot be cleared)."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "not a field of a customer; check the spelling"

    # A field's description is its message: pydantic keeps it only outside ``X | None``.
    customer_number: Annotated[CustomerNumber | None, Field(description=NUMBER)] = None
    first_name: Annotated[Name | None, Field(description=NAME)] = None
    last_name: Annotated[Name | None, Field(description=NAME)] = None
    henkilotunnus: HetuField | None = None
    travel_document: Annotated[
        Document | None, Field(description="the document number, at most 32 characters")
    ] = None
    roles: Roles | None = None
    language: Language | None = None
    status: Status | None = None
    relationship_start: Day | None = None
    turvakielto: Annotated[bool | None, Field(description=TRUE_OR_FALSE)] = None
    turvakielto_start: Day | None = None
    turvakielto_end: Day | None = None
    phones: Phones = Field(default_factory=list)
    emails: Emails = Field(default_factory=list)
    addresses: Addresses = Field(default_factory=list)
    assigned_advisor: Annotated[
        Advisor | None, Field(description="the username of a housing advisor")
    ] = None

    @field_validator(*NOT_CLEARABLE, mode="before")
    @classmethod
    def kept(cls, raw: object, info: ValidationInfo) -> object:
        """A null for a field every customer has is refused, not read as empty or false."""
        if raw is None:
            raise refuse(CANNOT_CLEAR)
        return raw

    @field_validator("turvakielto_end")
    @classmethod
    def after_start(cls, end: date | None, info: ValidationInfo) -> date | None:
        """A protection order ends after it starts (checked beside every other field)."""
        start = info.data.get("turvakielto_start")
        if start is not None and end is not None and end < start:
            raise refuse("must not be before turvakielto_start")
        return end

    @property
    def present(self) -> set[str]:
        """The fields the request sent (null included)."""
        return set(self.model_fields_set)


class NewCustomer(CustomerChange):
    """A customer to add, with contacts: number, names and roles are required."""

    customer_number: Annotated[CustomerNumber, Field(description=NUMBER)]
    first_name: Annotated[Name, Field(description=NAME)]
    last_name: Annotated[Name, Field(description=NAME)]
    roles: Roles
    language: Language = "fi"
    status: Status = "active"
    turvakielto: Annotated[bool, Field(description=TRUE_OR_FALSE)] = False

    @field_validator(*NOT_CLEARABLE, mode="before")
    @classmethod
    def kept(cls, raw: object, info: ValidationInfo) -> object:
        """A null is a missing field: required, or the default."""
        if raw is None:
            if info.field_name not in DEFAULTS:
                raise refuse("required")
            return DEFAULTS[info.field_name]
        return raw

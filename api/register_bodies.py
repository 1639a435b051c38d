"""The bodies of the register's routes (logs, search, leases, guardianships) as models.

Each model checks the shape (the shared field types hold the ranges) and builds the
register's own typed entry, so ``register/`` keeps no JSON parsing of its own.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from api.pagination import MAX_LIMIT
from common.models import Between, Body, Day, EventTime, Id, OneOf, Text, refuse
from register.consents import KINDS as MARKETING_KINDS
from register.consents import Preference
from register.contact_log import CHANNELS, DIRECTIONS, MAX_NOTE, TOPICS, ContactEntry
from register.disclosures import MAX_TEXT, RECIPIENT_KINDS, Disclosure
from register.guardianship import KINDS as GUARDIAN_KINDS
from register.guardianship import Guardianship
from register.leases import CHANGEABLE, MAX_PEOPLE, PARTY_ROLES, LeaseChange, LeaseInput


class LogBody(Body):
    """A body that adds one entry to a customer's log."""

    def entry(self) -> Any:
        """The register's typed entry."""
        raise NotImplementedError


class NewContact(LogBody):
    """One contact with the customer, as the form sends it."""

    channel: Annotated[str, OneOf(CHANNELS)]
    direction: Annotated[str, OneOf(DIRECTIONS)]
    topic: Annotated[str, OneOf(TOPICS)]
    note: Annotated[
        str, Text(MAX_NOTE), Field(description=f"what was agreed, 1-{MAX_NOTE} characters")
    ]
    recording_id: Annotated[Id | None, Field(description="a recording id (UUID)")] = None
    at: EventTime | None = None

    def entry(self) -> ContactEntry:
        """The contact log's entry."""
        return ContactEntry(
            self.channel, self.direction, self.topic, self.note, self.recording_id, self.at
        )


def _disclosed(hint: str) -> Any:
    return Field(description=f"{hint}; 1-{MAX_TEXT} characters")


class NewDisclosure(LogBody):
    """One disclosure of the customer's data to someone else (GDPR Art. 30 and 15(1)(c))."""

    recipient: Annotated[
        str,
        Text(MAX_TEXT),
        _disclosed("who received the data, e.g. the debt collection agency's name"),
    ]
    recipient_kind: Annotated[str, OneOf(RECIPIENT_KINDS)]
    legal_basis: Annotated[
        str, Text(MAX_TEXT), _disclosed("why it was allowed, e.g. 'lease agreement, rent arrears'")
    ]
    data_disclosed: Annotated[
        str, Text(MAX_TEXT), _disclosed("what was disclosed, e.g. 'name, address, unpaid rent'")
    ]
    at: EventTime | None = None

    def entry(self) -> Disclosure:
        """The disclosure log's entry."""
        return Disclosure(
            self.recipient, self.recipient_kind, self.legal_basis, self.data_disclosed, self.at
        )


class NewPreference(LogBody):
    """A marketing consent (``allowed``) or ban, and how the customer gave it."""

    kind: Annotated[str, OneOf(MARKETING_KINDS)]
    allowed: Annotated[bool, Field(description="true for a consent, false for a ban")]
    given_via: Annotated[str, OneOf(CHANNELS)]
    at: EventTime | None = None

    def entry(self) -> Preference:
        """The marketing log's entry."""
        return Preference(self.kind, self.allowed, self.given_via, self.at)


class CustomerSearch(Body):
    """What to look a customer up by: the kind is recognised from the text."""

    q: Annotated[
        str,
        StringConstraints(min_length=1, max_length=200, pattern=r"\S"),
        Field(description="a name, phone number, customer number or henkilötunnus"),
    ]
    limit: Annotated[int, Between(1, MAX_LIMIT)] = 20


A_DATE = "a date like 2026-11-23"
Name = Annotated[str, Text(200)]


def _in_order(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise refuse("must not be before start_date", "end_date")


class Party(Body):
    """A customer and their part in the lease."""

    customer_id: Annotated[Id, Field(description="a customer id (UUID)")]
    role: Annotated[str, OneOf(PARTY_ROLES)]


class Member(Body):
    """Someone living in the apartment who is no party (a child, say)."""

    name: Annotated[Name, Field(description="the member's name")]
    birth_date: Annotated[Day | None, Field(description="a date like 2015-04-01")] = None


class NewLease(Body):
    """A lease with its parties and household, created in one go."""

    lease_number: Annotated[
        str,
        StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$"),
        Field(description="1-32 letters, digits, dashes or slashes, like V-2024/118"),
    ]
    property: Annotated[Name, Field(description="required text, at most 200 characters")]
    apartment: Annotated[Name, Field(description="required text, at most 200 characters")]
    start_date: Annotated[Day, Field(description=A_DATE)]
    end_date: Annotated[Day | None, Field(description=A_DATE)] = None
    terminated_on: Annotated[Day | None, Field(description=A_DATE)] = None
    parties: Annotated[
        list[Party],
        Field(
            min_length=1,
            max_length=MAX_PEOPLE,
            description=f"1-{MAX_PEOPLE} {{customer_id, role}} objects",
        ),
    ]
    household: Annotated[
        list[Member],
        Field(
            max_length=MAX_PEOPLE, description=f"at most {MAX_PEOPLE} {{name, birth_date}} objects"
        ),
    ] = Field(default_factory=list)

    @model_validator(mode="after")
    def consistent(self) -> NewLease:
        """Ends after it starts; each customer is one party."""
        _in_order(self.start_date, self.end_date)
        if len({p.customer_id for p in self.parties}) != len(self.parties):
            raise refuse("each customer at most once", "parties")
        return self

    def lease(self) -> LeaseInput:
        """The register's lease."""
        return LeaseInput(
            self.lease_number, self.property, self.apartment, self.start_date, self.end_date,
            self.terminated_on, [(p.customer_id, p.role) for p in self.parties],
            [(m.name, m.birth_date) for m in self.household],
        )  # fmt: skip


class LeaseEnd(Body):
    """The end or termination of a lease (null clears one); the rest of a lease is its
    identity: a different apartment is a new lease."""

    model_config = ConfigDict(extra="forbid")
    unknown_field: ClassVar[str] = "only end_date and terminated_on change"

    end_date: Annotated[Day | None, Field(description=f"{A_DATE}, or null")] = None
    terminated_on: Annotated[Day | None, Field(description=f"{A_DATE}, or null")] = None

    @model_validator(mode="after")
    def something_changes(self) -> LeaseEnd:
        """An empty change is a mistake."""
        if not self.model_fields_set:
            raise refuse("send end_date and/or terminated_on", "end_date")
        return self

    def change(self) -> LeaseChange:
        """The fields sent, nulls included."""
        return LeaseChange({n: getattr(self, n) for n in CHANGEABLE if n in self.model_fields_set})


class NewGuardianship(Body):
    """A guardian for the customer: edunvalvonta, or the guardian who signed for a minor."""

    guardian_id: Annotated[Id, Field(description="the guardian's customer id (UUID)")]
    kind: Annotated[str, OneOf(GUARDIAN_KINDS)]
    start_date: Annotated[Day | None, Field(description=A_DATE)] = None
    end_date: Annotated[Day | None, Field(description=A_DATE)] = None

    @model_validator(mode="after")
    def in_order(self) -> NewGuardianship:
        """The link ends after it starts."""
        _in_order(self.start_date, self.end_date)
        return self

    def link(self) -> Guardianship:
        """The register's link."""
        return Guardianship(self.guardian_id, self.kind, self.start_date, self.end_date)


class GuardianshipEnd(Body):
    """The day a guardianship ends."""

    end_date: Annotated[Day, Field(description=A_DATE)]

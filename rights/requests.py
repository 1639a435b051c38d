"""Data-subject requests: who asked for what, when it is due, and where it stands.

States: ``identity_unverified → verified → processing → completed``, or ``denied`` (with a
reason) from any state before completion. Identity must be verified (method, who, when)
before anything is fulfilled: a henkilötunnus never authenticates anyone, so the method is
what the officer actually did (strong electronic identification, ID at the desk, …).
Due dates: ``due_at`` is the internal target (14 days, a setting); ``legal_due_at`` is one
calendar month (GDPR Art. 12(3)), extendable by at most two more months with a reason.
"""

from __future__ import annotations

import calendar
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from accounts.users import names_of
from register.contact_log import CHANNELS
from rights.export_choices import ReasonsSealed
from storage.db import Connection, Pool, jsonable
from storage.fieldcrypt import FieldCipher
from storage.sealing import PlainColumn

KINDS: Final = ("access", "erasure", "rectification", "objection")
SUBJECT_KEYS: Final = ("customer_id", "staff_username", "phone_number")
SUBJECT_TYPES: Final = {
    "customer_id": "customer",
    "staff_username": "staff",
    "phone_number": "phone",
}
REQUEST_CHANNELS: Final = (*CHANNELS, "web_form")
MAX_TEXT: Final = 500
OPEN: Final = ("identity_unverified", "verified", "processing")
STATUSES: Final = (*OPEN, "completed", "denied")
DUE_BY: Final = "coalesce(extended_due_at, due_at)"  # the deadline in force
IS_OPEN: Final = f"status IN {OPEN!r}"  # the one definition of an open request, in SQL
OVERDUE: Final = f"({IS_OPEN} AND {DUE_BY} < now())"  # only open requests are late
# The legal deadline in force: one month, or later where the DPO extended it (Art. 12(3)).
LEGAL_DUE_BY: Final = "greatest(legal_due_at, extended_due_at)"

INSERT: Final = """
INSERT INTO subject_requests (id, kind, subject_type, customer_id, staff_username, phone_number,
    channel, received_at, due_at, legal_due_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
"""
SELECT_ONE: Final = f"""
SELECT r.id, r.kind, r.subject_type, r.customer_id, r.staff_username, r.phone_number, r.channel,
       r.received_at, r.due_at, r.legal_due_at, r.extended_due_at, r.extension_reason_encrypted AS extension_reason, r.status,
       r.verification_method, r.verified_by, r.verified_at,
       r.denial_reason_encrypted AS denial_reason,
       r.progress_done, r.progress_total, r.report, r.error, r.created_at, r.completed_at,
       {DUE_BY} AS due_by, {OVERDUE} AS overdue
FROM subject_requests r WHERE r.id = $1
"""
SELECT_QUEUE: Final = f"""
SELECT r.id, r.kind, r.subject_type, r.status, r.received_at, r.due_at, r.legal_due_at,
       r.extended_due_at, {DUE_BY} AS due_by, {OVERDUE} AS overdue
FROM subject_requests r
WHERE ($1::text IS NULL OR r.status = $1) AND ({DUE_BY}, r.id) > ($2, $3)
ORDER BY {DUE_BY}, r.id LIMIT $4
"""
VERIFY: Final = """
UPDATE subject_requests SET status = 'verified', verification_method = $2, verified_by = $3,
    verified_at = now()
WHERE id = $1 AND status = 'identity_unverified' RETURNING id
"""
FULFIL: Final = """
UPDATE subject_requests SET status = 'processing', attempts = 0, leased_until = NULL, error = NULL
WHERE id = $1 AND status = 'verified' RETURNING kind
"""
DENY: Final = """
UPDATE subject_requests SET status = 'denied', denial_reason_encrypted = $2, completed_at = now()
WHERE id = $1 AND status IN ('identity_unverified', 'verified') RETURNING id
"""
EXTEND: Final = """
UPDATE subject_requests SET extended_due_at = $2, extension_reason_encrypted = $3,
       warned_at = NULL, overdue_alerted_at = NULL
WHERE id = $1 AND status IN ('identity_unverified', 'verified', 'processing')
  AND $2 <= legal_due_at + interval '2 months' RETURNING id
"""
CUSTOMERS_OF: Final = """
SELECT id, customer_id FROM subject_requests WHERE id = ANY($1::uuid[]) AND customer_id IS NOT NULL
"""
STATUS_OF: Final = "SELECT status FROM subject_requests WHERE id = $1"
FIGURES: Final = f"""
SELECT count(*) AS received,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status = 'denied') AS denied,
       count(*) FILTER (WHERE status = 'completed' AND completed_at <= due_at)
           AS completed_within_internal_target,
       count(*) FILTER (WHERE status = 'completed' AND completed_at <= {LEGAL_DUE_BY})
           AS completed_within_legal_deadline,
       percentile_cont(0.5) WITHIN GROUP (
           ORDER BY extract(epoch FROM completed_at - received_at) / 86400
       ) FILTER (WHERE status = 'completed') AS median_days_to_complete,
       count(*) FILTER (WHERE {IS_OPEN} AND {DUE_BY} < $1) AS overdue_now,
       count(*) FILTER (WHERE {IS_OPEN} AND {LEGAL_DUE_BY} < $1) AS past_legal_deadline_now
FROM subject_requests
"""


# Free text about people, sealed per row; older versions stored it plain.
PLAIN_DENIAL_REASONS: Final = PlainColumn(
    "subject_requests", ("id",), "denial_reason", "denial_reason_encrypted"
)
denial_context: Final = PLAIN_DENIAL_REASONS.context
PLAIN_EXTENSION_REASONS: Final = PlainColumn(
    "subject_requests", ("id",), "extension_reason", "extension_reason_encrypted"
)
extension_context: Final = PLAIN_EXTENSION_REASONS.context
REASONS: Final = {"denial_reason": denial_context, "extension_reason": extension_context}


@dataclass(frozen=True)
class RequestInput:
    """A request as registered: the subject is exactly one of the three kinds of key."""

    kind: str
    subject_type: str
    customer_id: uuid.UUID | None
    staff_username: str | None
    phone_number: str | None
    channel: str
    received_at: datetime | None


class TransitionRefused(Exception):
    """The request is not in a state that allows this step (409)."""

    def __init__(self, status: str | None, step: str) -> None:
        self.status = status
        super().__init__(
            f"cannot {step} a request that is {status}" if status else "no such subject request"
        )


def add_months(moment: datetime, months: int) -> datetime:
    """The same day ``months`` calendar months later (clamped to the month's last day)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


async def create_request(
    conn: Connection, request: RequestInput, by: uuid.UUID, due_days: int
) -> uuid.UUID:
    """Register the request with its due dates; raises asyncpg's FK error for a customer
    that does not exist."""
    request_id = uuid.uuid4()
    received = request.received_at or datetime.now(UTC)
    await conn.execute(
        INSERT,
        request_id,
        request.kind,
        request.subject_type,
        request.customer_id,
        request.staff_username,
        request.phone_number,
        request.channel,
        received,
        received + timedelta(days=due_days),
        add_months(received, 1),
        by,
    )
    return request_id


async def get_request(
    conn: Connection, cipher: FieldCipher | None, request_id: uuid.UUID
) -> dict[str, Any] | None:
    """The request as JSON (who verified it by username, reasons opened), or None. Raises
    :class:`ReasonsSealed` when it has a reason and there is no cipher to open it."""
    row = await conn.fetchrow(SELECT_ONE, request_id)
    if row is None:
        return None
    by = row["verified_by"]
    verifier = None if by is None else (await names_of(conn, [by])).get(by)
    columns = dict(row)
    for key, context in REASONS.items():
        if columns[key] is not None:
            if cipher is None:
                raise ReasonsSealed(str(request_id))
            columns[key] = cipher.decrypt(columns[key], context(request_id))
    return jsonable(columns) | {"verified_by": verifier}


async def customers_of_requests(
    db: Connection | Pool, ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The customer each of these requests is about (requests about staff or a phone number,
    and unknown ids, left out)."""
    if not ids:
        return {}
    return {row["id"]: row["customer_id"] for row in await db.fetch(CUSTOMERS_OF, ids)}


async def queue(
    conn: Connection, status: str | None, after: tuple[datetime, uuid.UUID], limit: int
) -> list[dict[str, Any]]:
    """Requests by due date, soonest first (the officer's work queue)."""
    return [jsonable(r) for r in await conn.fetch(SELECT_QUEUE, status, *after, limit)]


async def _step(conn: Connection, query: str, request_id: uuid.UUID, step: str, *args: Any) -> Any:
    result = await conn.fetchval(query, request_id, *args)
    if result is None:
        raise TransitionRefused(await conn.fetchval(STATUS_OF, request_id), step)
    return result


async def verify_identity(
    conn: Connection, request_id: uuid.UUID, method: str, by: uuid.UUID
) -> None:
    """Record how the subject's identity was verified."""
    await _step(conn, VERIFY, request_id, "verify", method, by)


async def start_fulfilment(conn: Connection, request_id: uuid.UUID) -> str:
    """Queue a verified request for the worker; returns its kind."""
    kind: str = await _step(conn, FULFIL, request_id, "fulfil")
    return kind


async def deny_request(
    conn: Connection, request_id: uuid.UUID, reason: str, cipher: FieldCipher
) -> None:
    """Deny with a reason (kept on the request, sealed)."""
    sealed = cipher.encrypt(reason, denial_context(request_id))
    await _step(conn, DENY, request_id, "deny", sealed)


async def extend_request(
    conn: Connection, request_id: uuid.UUID, until: datetime, reason: str, cipher: FieldCipher
) -> None:
    """Move the deadline, at most two months past the legal one (Art. 12(3)); the reason is
    kept sealed."""
    sealed = cipher.encrypt(reason, extension_context(request_id))
    await _step(conn, EXTEND, request_id, "extend", until, sealed)


@dataclass(frozen=True)
class RequestFigures:
    """How requests have been answered, for a supervisor: counts and the median in days.

    The internal target is ``due_at`` as set on arrival (14 days); the legal deadline is one
    month, or the date the DPO extended it to. Overdue counts open requests past the
    deadline in force, exactly as the deadline monitor alerts them.
    """

    received: int
    completed: int
    denied: int
    completed_within_internal_target: int
    completed_within_legal_deadline: int
    median_days_to_complete: float | None
    overdue_now: int
    past_legal_deadline_now: int


async def request_figures(db: Connection | Pool, now: datetime) -> RequestFigures:
    """Every request ever received (retention keeps them), counted as of ``now``."""
    row = await db.fetchrow(FIGURES, now)
    assert row is not None
    median = row["median_days_to_complete"]
    return RequestFigures(
        **{**dict(row), "median_days_to_complete": None if median is None else float(median)}
    )

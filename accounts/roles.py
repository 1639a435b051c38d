"""The task-specific roles, what each may do, and why each may play a recording.

The table is ARCHITECTURE.md section 5. Roles are deny by default: a role has exactly the
permissions listed here, and the API's route declarations name these permissions.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Permission(StrEnum):
    """One thing a person may do."""

    MANAGE_USERS = "users:manage"
    READ_REGISTER = "register:read"
    WRITE_REGISTER = "register:write"
    LIST_RECORDINGS = "recordings:list"
    LIST_TRAINING_RECORDINGS = "recordings:list-training"
    LINK_RECORDINGS = "recordings:link"
    PLAY_RECORDINGS = "recordings:play"
    DOWNLOAD_RECORDINGS = "recordings:download"
    RELEASE_FOR_TRAINING = "recordings:release"
    REDACT_RECORDINGS = "recordings:redact"
    CREATE_SUBJECT_REQUESTS = "subject-requests:create"
    MANAGE_SUBJECT_REQUESTS = "subject-requests:manage"
    MANAGE_LEGAL_HOLDS = "legal-holds:manage"
    READ_AUDIT = "audit:read"
    READ_COMPLIANCE = "compliance:read"
    ANNOTATE_TRAINING = "training:annotate"
    KEEP_TRAINING_COLLECTIONS = "training:collections"


ROLES: Final = ("admin", "customer_service", "trainer", "dpo", "housing_advisor")

ROLE_PERMISSIONS: Final[dict[str, frozenset[Permission]]] = {
    "admin": frozenset({Permission.MANAGE_USERS}),
    "customer_service": frozenset(
        {
            Permission.READ_REGISTER,
            Permission.WRITE_REGISTER,
            Permission.LIST_RECORDINGS,
            Permission.LINK_RECORDINGS,
            Permission.PLAY_RECORDINGS,
            Permission.CREATE_SUBJECT_REQUESTS,
        }
    ),
    "trainer": frozenset(
        {
            Permission.LIST_TRAINING_RECORDINGS,
            Permission.PLAY_RECORDINGS,
            Permission.ANNOTATE_TRAINING,
            Permission.KEEP_TRAINING_COLLECTIONS,
        }
    ),
    "dpo": frozenset(
        {
            Permission.READ_REGISTER,
            Permission.LIST_RECORDINGS,
            Permission.PLAY_RECORDINGS,
            Permission.DOWNLOAD_RECORDINGS,
            Permission.RELEASE_FOR_TRAINING,
            Permission.REDACT_RECORDINGS,
            Permission.CREATE_SUBJECT_REQUESTS,
            Permission.MANAGE_SUBJECT_REQUESTS,
            Permission.MANAGE_LEGAL_HOLDS,
            Permission.READ_AUDIT,
            Permission.READ_COMPLIANCE,
            Permission.ANNOTATE_TRAINING,
            Permission.KEEP_TRAINING_COLLECTIONS,
        }
    ),
    "housing_advisor": frozenset({Permission.READ_REGISTER}),
}

# Why a recording may be played, per role: the purpose is part of every audit entry, and a
# role may only claim the purposes of its own task.
PLAY_PURPOSES: Final[dict[str, frozenset[str]]] = {
    "customer_service": frozenset({"verify_content"}),
    "trainer": frozenset({"training"}),
    "dpo": frozenset({"subject_request", "legal"}),
}
ALL_PURPOSES: Final = ("verify_content", "training", "subject_request", "legal")


def purposes_of(roles: tuple[str, ...]) -> frozenset[str]:
    """The playback purposes the union of ``roles`` may claim."""
    granted: set[str] = set()
    for role in roles:
        granted |= PLAY_PURPOSES.get(role, frozenset())
    return frozenset(granted)


def permissions_of(roles: list[str]) -> frozenset[Permission]:
    """Everything the union of ``roles`` allows."""
    granted: set[Permission] = set()
    for role in roles:
        granted |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(granted)

"""The facts a notice states, read from the live system, and the sentences that state them.

Both the privacy notice and the Art. 30 record are built from these functions, so the two
cannot disagree: who may listen comes from the role table in ``accounts.roles``, retention
from the settings, the disclosure recipients' kinds from the disclosure log, keep-original,
transcription, two-factor and single sign-on from the settings in force.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from accounts.roles import ALL_PURPOSES, PLAY_PURPOSES, ROLE_PERMISSIONS, ROLES, Permission
from common.settings import Settings
from compliance.organisation import Organisation
from compliance.texts import CUSTOMER_GOALS, DATA_ITEMS, say
from register.disclosures import recipient_kinds
from rights.wording import Language
from storage.db import Pool
from transcripts.store import counts_by_status

# Which retention categories (common.settings.RETENTION_DEFAULTS) belong to which register.
RETENTION_OF: Final[dict[str, tuple[str, ...]]] = {
    "call_recordings": ("recordings", "training", "failed_ingest", "exports", "audit_log"),
    "customers": ("contact_log", "applicants", "former_tenants", "exports", "audit_log"),
}
# Roles whose access the role table cannot express (object-level checks in the code).
LIMITED: Final = ("housing_advisor",)


@dataclass(frozen=True)
class Facts:
    """Everything a notice needs, read once per request."""

    settings: Settings
    organisation: Organisation
    disclosure_kinds: tuple[str, ...]
    generated_at: datetime
    # Transcripts made while transcription was on stay until their call goes: a notice
    # written with it switched off must still say they exist.
    transcripts_kept: bool = False


async def gather(
    pool: Pool, settings: Settings, organisation: Organisation, now: datetime | None = None
) -> Facts:
    """Read the live facts: the settings and profile given, the disclosure log's kinds,
    whether any transcript is kept."""
    async with pool.acquire() as conn:
        kinds = tuple(await recipient_kinds(conn))
        kept = (await counts_by_status(conn))["ready"] > 0
    return Facts(settings, organisation, kinds, now or datetime.now(UTC), kept)


def roles_with(permission: Permission) -> list[str]:
    """The roles holding ``permission``, in the role table's order."""
    return [role for role in ROLES if permission in ROLE_PERMISSIONS[role]]


def capital(text: str) -> str:
    """``text`` with its first letter upper-case (a role name starting a sentence)."""
    return text[:1].upper() + text[1:]


def role_list(roles: Iterable[str], language: Language, *, limits: bool = False) -> str:
    """Roles in words, joined by commas; ``limits`` adds each limited role's restriction."""
    named = []
    for role in roles:
        words = say(language, f"role.{role}")
        if limits and role in LIMITED:
            words += f" ({say(language, f'limit.{role}')})"
        named.append(words)
    return ", ".join(named)


def play_purposes() -> list[str]:
    """The purposes some role may play a recording for, in the purposes' own order."""
    claimed = set().union(*PLAY_PURPOSES.values())
    return [purpose for purpose in ALL_PURPOSES if purpose in claimed]


def goals(register: str, language: Language) -> list[str]:
    """The purposes of processing, as sentences."""
    if register == "call_recordings":
        return [say(language, f"goal.{purpose}") for purpose in play_purposes()]
    return list(CUSTOMER_GOALS[language])


def transcripts_held(register: str, facts: Facts) -> bool:
    """Whether the register holds transcripts: made now, or kept from before."""
    transcribing = facts.settings.transcribe or facts.transcripts_kept
    return register == "call_recordings" and transcribing


def data_items(register: str, facts: Facts, language: Language) -> list[str]:
    """The kinds of personal data the register holds: the fixed ones, and the calls as text
    with their search codes whenever transcripts are held."""
    items = list(DATA_ITEMS[language][register])
    if transcripts_held(register, facts):
        items.append(say(language, "data.transcript"))
    return items


def content_notes(register: str, facts: Facts, language: Language) -> list[str]:
    """What the settings say about the stored data: keep-original and transcription (with
    the keyword index: keyed hashes only), or that transcripts made earlier are kept."""
    if register != "call_recordings":
        return []
    settings = facts.settings
    notes = [say(language, "keep_original.on" if settings.keep_original else "keep_original.off")]
    if settings.transcribe:
        notes += [say(language, "transcribe.on"), say(language, "transcribe.index")]
    elif facts.transcripts_kept:
        notes.append(say(language, "transcribe.stopped"))
    else:
        notes.append(say(language, "transcribe.off"))
    return notes


def access_lines(register: str, language: Language) -> list[str]:
    """Who may do what with the register, from the role table."""
    lines = [say(language, "accounts")]
    granting = roles_with(Permission.MANAGE_USERS)
    if granting:
        lines.append(say(language, "grants", roles=capital(role_list(granting, language))))
    if register == "call_recordings":
        for role in ROLES:
            for purpose in ALL_PURPOSES:
                if purpose in PLAY_PURPOSES.get(role, frozenset()):
                    who = capital(say(language, f"role.{role}"))
                    lines.append(f"{who}: {say(language, f'purpose.{purpose}')}")
        pairs = (
            ("list_recordings", Permission.LIST_RECORDINGS),
            ("download", Permission.DOWNLOAD_RECORDINGS),
        )
    else:
        pairs = (
            ("read_register", Permission.READ_REGISTER),
            ("write_register", Permission.WRITE_REGISTER),
        )
    for key, permission in pairs:
        holders = roles_with(permission)
        if holders:
            lines.append(say(language, key, roles=role_list(holders, language, limits=True)))
    if register == "customers":
        lines.append(say(language, "turvakielto"))
    return lines


def _two_factor_roles(settings: Settings) -> list[str]:
    """Roles that must use a second factor (``CALLREC_REQUIRE_2FA_ROLES``), in table order."""
    return [role for role in ROLES if role in settings.require_2fa_roles]


def keys_apart(settings: Settings) -> bool:
    """True when the keyring and the recordings cannot sit in one place: the objects are in
    S3, or the keyring was set outside the data directory (the embedded default keeps both
    in the data directory, and the notice must not claim otherwise)."""
    if settings.uses_s3:
        return True
    keyring = settings.keyring
    return keyring is not None and not keyring.resolve().is_relative_to(settings.data_dir.resolve())


def security_lines(register: str, facts: Facts, language: Language) -> list[str]:
    """The protection measures in force (Art. 32), as sentences."""
    settings = facts.settings
    lines = [say(language, f"encryption.{register}")]
    if register == "call_recordings" and keys_apart(settings):
        lines.append(say(language, "keys_apart"))
    lines.append(say(language, "audit"))
    lines.append(say(language, "lockout"))
    two_factor = _two_factor_roles(settings)
    if two_factor:
        lines.append(say(language, "two_factor", roles=role_list(two_factor, language)))
    if settings.oidc_issuer:
        lines.append(say(language, "sso"))
    return lines


def disclosure_kinds(facts: Facts, language: Language) -> list[str]:
    """The kinds of recipient in the disclosure log, in words."""
    return [say(language, f"kind.{kind}") for kind in facts.disclosure_kinds]

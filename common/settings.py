"""Typed settings read once from the ``CALLREC_*`` environment variables.

Every setting of the external contract lives here, parsed and checked at start-up so that a
typo stops the service with a message naming the variable, instead of failing later in the
middle of a request. Secrets are wrapped in :class:`Secret` so they never print.
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Final, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

T = TypeVar("T")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ENV_PREFIX: Final = "CALLREC_"
LOCAL_ZONE: Final = ZoneInfo("Europe/Helsinki")  # the first customers' time
# The staff roles (accounts.roles.ROLES, which common may not import; a test keeps them equal),
# so a misspelt role in CALLREC_REQUIRE_2FA_ROLES stops the start instead of exempting a role.
STAFF_ROLES: Final = ("admin", "customer_service", "trainer", "dpo", "housing_advisor")


class SettingsError(ValueError):
    """One or more settings are invalid; the message names each variable and the fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid settings:\n" + "\n".join(f"  - {p}" for p in problems))


class Secret:
    """A string that never shows itself in ``repr``, ``str`` or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret value; call only where it is actually used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


# Days each category of personal data is kept (see the README's Retention section for why).
RETENTION_DEFAULTS: Final = {
    "recordings": 90,
    "training": 365,
    "contact_log": 1095,
    "applicants": 365,
    "former_tenants": 1095,
    "exports": 14,
    "audit_log": 730,
    "failed_ingest": 30,
}


@dataclass(frozen=True)
class Settings:
    """The service's configuration; build it with :meth:`from_env`."""

    data_dir: Path = Path("./var")
    database_url: Secret | None = None
    s3_endpoint: str | None = None
    s3_access_key: Secret | None = None
    s3_secret_key: Secret | None = None
    s3_bucket: str = "callrec"
    s3_secure: bool = True
    webhook_secret: Secret | None = None
    twilio_auth_token: Secret | None = None
    keyring: Path | None = None
    fetch_allowed_hosts: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 8080
    log_format: str = "json"
    worker_concurrency: int = 2
    worker_lease_seconds: int = 60
    max_upload_bytes: int = 2 * 1024**3
    max_concurrent_uploads: int = 16
    max_uploads_per_peer: int = 8
    upload_grace_seconds: float = 10.0
    upload_min_rate_kibps: int = 64
    trusted_proxies: tuple[IPNetwork, ...] = ()
    opus_bitrate_kbps: int = 24
    keep_original: bool = False
    redaction_tone: bool = False  # a soft tone instead of silence in redacted spans
    retention_recordings_days: int = RETENTION_DEFAULTS["recordings"]
    retention_training_days: int = RETENTION_DEFAULTS["training"]
    retention_contact_log_days: int = RETENTION_DEFAULTS["contact_log"]
    retention_applicants_days: int = RETENTION_DEFAULTS["applicants"]
    retention_former_tenants_days: int = RETENTION_DEFAULTS["former_tenants"]
    retention_exports_days: int = RETENTION_DEFAULTS["exports"]
    retention_audit_log_days: int = RETENTION_DEFAULTS["audit_log"]
    retention_failed_ingest_days: int = RETENTION_DEFAULTS["failed_ingest"]
    subject_request_due_days: int = 14
    organisation_file: Path | None = None
    transcribe: bool = False
    transcribe_model: Path | None = None  # a CTranslate2 Whisper model directory
    transcribe_model_sha256: str | None = None  # the operator's pin for a model of their own
    transcribe_language: str = "fi"
    transcribe_concurrency: int = 1
    deadline_webhook_url: str | None = None
    scheduler: bool = True
    timezone: ZoneInfo = LOCAL_ZONE
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: Secret | None = None
    oidc_roles_claim: str = "groups"
    oidc_role_map: tuple[tuple[str, str], ...] = ()  # (group, role) pairs, in the order given
    oidc_name: str | None = None  # the console's "Sign in with …"; default the issuer's host
    oidc_redirect_uri: str | None = None  # default: this request's origin + the callback path
    oidc_local_passwords: bool = True  # False: accounts linked to SSO cannot use a password
    require_2fa_roles: tuple[str, ...] = ("admin", "dpo")
    extra: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def embedded_database(self) -> bool:
        """True when no database URL is set and the service runs its own PostgreSQL."""
        return self.database_url is None

    @property
    def keyring_path(self) -> Path:
        """Where the keyring lives: the setting, or ``keyring.txt`` in the data directory."""
        return self.keyring if self.keyring is not None else self.data_dir / "keyring.txt"

    @property
    def sso_enabled(self) -> bool:
        """True when single sign-on with an OpenID provider is configured."""
        return self.oidc_issuer is not None

    @property
    def uses_s3(self) -> bool:
        """True when objects go to an S3 server rather than the data directory."""
        return self.s3_endpoint is not None

    @classmethod
    def names(cls) -> frozenset[str]:
        """Every environment variable this service reads."""
        return frozenset(ENV_PREFIX + f.name.upper() for f in fields(cls) if f.name != "extra")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Parse settings from ``env`` (default ``os.environ``); raise :class:`SettingsError`."""
        source = os.environ if env is None else env
        reader = _Reader(source)
        settings = cls(
            data_dir=reader.get("DATA_DIR", Path, Path("./var")),
            database_url=reader.get("DATABASE_URL", _database_url, None),
            s3_endpoint=reader.get("S3_ENDPOINT", _host_port, None),
            s3_access_key=reader.get("S3_ACCESS_KEY", Secret, None),
            s3_secret_key=reader.get("S3_SECRET_KEY", Secret, None),
            s3_bucket=reader.get("S3_BUCKET", _bucket, "callrec"),
            s3_secure=reader.get("S3_SECURE", _boolean, True),
            webhook_secret=reader.get("WEBHOOK_SECRET", _secret_min16, None),
            twilio_auth_token=reader.get("TWILIO_AUTH_TOKEN", Secret, None),
            keyring=reader.get("KEYRING", Path, None),
            fetch_allowed_hosts=reader.get("FETCH_ALLOWED_HOSTS", _host_list, ()),
            host=reader.get("HOST", _nonempty, "127.0.0.1"),
            port=reader.get("PORT", _port, 8080),
            log_format=reader.get("LOG_FORMAT", _one_of("json", "text"), "json"),
            worker_concurrency=reader.get("WORKER_CONCURRENCY", _int_range(1, 64), 2),
            worker_lease_seconds=reader.get("WORKER_LEASE_SECONDS", _int_range(3, 3600), 60),
            max_upload_bytes=reader.get("MAX_UPLOAD_BYTES", _int_range(1024, 2**40), 2 * 1024**3),
            max_concurrent_uploads=reader.get("MAX_CONCURRENT_UPLOADS", _int_range(1, 1024), 16),
            max_uploads_per_peer=reader.get("MAX_UPLOADS_PER_PEER", _int_range(1, 1024), 8),
            upload_grace_seconds=reader.get("UPLOAD_GRACE_SECONDS", _seconds(1, 600), 10.0),
            upload_min_rate_kibps=reader.get(
                "UPLOAD_MIN_RATE_KIBPS", _int_range(1, 1024 * 1024), 64
            ),
            trusted_proxies=reader.get("TRUSTED_PROXIES", _networks, ()),
            opus_bitrate_kbps=reader.get("OPUS_BITRATE_KBPS", _int_range(6, 256), 24),
            keep_original=reader.get("KEEP_ORIGINAL", _boolean, False),
            redaction_tone=reader.get("REDACTION_TONE", _on_off, False),
            **{
                f"retention_{name}_days": reader.get(
                    f"RETENTION_{name.upper()}_DAYS", _days, default
                )
                for name, default in RETENTION_DEFAULTS.items()
            },
            subject_request_due_days=reader.get("SUBJECT_REQUEST_DUE_DAYS", _int_range(1, 30), 14),
            organisation_file=reader.get("ORGANISATION_FILE", Path, None),
            transcribe=reader.get("TRANSCRIBE", _on_off, False),
            transcribe_model=reader.get("TRANSCRIBE_MODEL", Path, None),
            transcribe_model_sha256=reader.get("TRANSCRIBE_MODEL_SHA256", _sha256, None),
            transcribe_language=reader.get("TRANSCRIBE_LANGUAGE", _language, "fi"),
            transcribe_concurrency=reader.get("TRANSCRIBE_CONCURRENCY", _int_range(1, 16), 1),
            deadline_webhook_url=reader.get("DEADLINE_WEBHOOK_URL", _http_url, None),
            scheduler=reader.get("SCHEDULER", _boolean, True),
            timezone=reader.get("TIMEZONE", _zone, LOCAL_ZONE),
            oidc_issuer=reader.get("OIDC_ISSUER", _http_url, None),
            oidc_client_id=reader.get("OIDC_CLIENT_ID", _nonempty, None),
            oidc_client_secret=reader.get("OIDC_CLIENT_SECRET", Secret, None),
            oidc_roles_claim=reader.get("OIDC_ROLES_CLAIM", _nonempty, "groups"),
            oidc_role_map=reader.get("OIDC_ROLE_MAP", _role_map, ()),
            oidc_name=reader.get("OIDC_NAME", _nonempty, None),
            oidc_redirect_uri=reader.get("OIDC_REDIRECT_URI", _http_url, None),
            oidc_local_passwords=reader.get("OIDC_LOCAL_PASSWORDS", _boolean, True),
            require_2fa_roles=reader.get_empty("REQUIRE_2FA_ROLES", _roles, ("admin", "dpo")),
            extra={k: v for k, v in source.items() if k.startswith(ENV_PREFIX)},
        )
        if settings.uses_s3 and (settings.s3_access_key is None or settings.s3_secret_key is None):
            reader.problems.append(
                "CALLREC_S3_ENDPOINT is set, so CALLREC_S3_ACCESS_KEY and "
                "CALLREC_S3_SECRET_KEY must be set too"
            )
        reader.problems.extend(_sso_problems(settings))
        unknown = sorted(set(settings.extra) - cls.names() - _TEST_ONLY)
        if unknown:
            reader.problems.append(
                "unknown setting(s) " + ", ".join(unknown) + " (a typo? see the README's Settings)"
            )
        if reader.problems:
            raise SettingsError(reader.problems)
        return settings


_TEST_ONLY: Final = frozenset(
    {
        "CALLREC_TEST_DATABASE_URL",
        "CALLREC_TEST_S3_ENDPOINT",
        "CALLREC_TEST_S3_ACCESS_KEY",
        "CALLREC_TEST_S3_SECRET_KEY",
        "CALLREC_TEST_ARTIFACTS",
        "CALLREC_CHROMIUM",
    }
)


def _sso_problems(settings: Settings) -> list[str]:
    """Single sign-on needs its issuer, client id and role map together."""
    given = sorted(
        f"{ENV_PREFIX}{name.upper()}"
        for name in ("oidc_client_id", "oidc_client_secret", "oidc_role_map", "oidc_name")
        if getattr(settings, name)
    )
    if not settings.sso_enabled:
        return [f"{', '.join(given)} set without CALLREC_OIDC_ISSUER"] if given else []
    needed = [] if settings.oidc_client_id else ["CALLREC_OIDC_CLIENT_ID"]
    needed += [] if settings.oidc_role_map else ["CALLREC_OIDC_ROLE_MAP"]
    if needed:
        return [f"CALLREC_OIDC_ISSUER is set, so {' and '.join(needed)} must be set too"]
    return []


class _Reader:
    """Collects every problem so one start-up attempt reports all of them."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env
        self.problems: list[str] = []

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self.env.get(ENV_PREFIX + name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return parse(raw.strip())
        except ValueError as exc:
            self.problems.append(f"{ENV_PREFIX}{name}: {exc}")
            return default

    def get_empty(self, name: str, parse: Callable[[str], T], default: T) -> T:
        """Like :meth:`get`, but a variable set to nothing means an empty value, not the
        default (``CALLREC_REQUIRE_2FA_ROLES=`` turns the requirement off)."""
        raw = self.env.get(ENV_PREFIX + name)
        return self.get(name, parse, default) if raw is None or raw.strip() else parse("")


def _nonempty(raw: str) -> str:
    return raw


def _boolean(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, got {raw!r}")


def _on_off(raw: str) -> bool:
    if raw.lower() not in {"on", "off"}:
        raise ValueError(f"must be on or off, got {raw!r}")
    return raw.lower() == "on"


def _sha256(raw: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", raw):
        raise ValueError("must be the 64 hex digits of a SHA-256 (sha256sum model.bin)")
    return raw.lower()


def _language(raw: str) -> str:
    if not re.fullmatch(r"[a-z]{2,3}", raw):
        raise ValueError(f"must be a language code like fi, sv or en, got {raw!r}")
    return raw


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"must be a whole number from {low} to {high}, got {raw!r}") from None
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high}, got {value}")
        return value

    return parse


def _seconds(low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not low <= value <= high:  # also refuses nan and inf
            raise ValueError(f"must be a number of seconds from {low:g} to {high:g}, got {raw!r}")
        return value

    return parse


def _networks(raw: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or CIDR networks (``10.0.0.5, 192.168.1.0/24``)."""
    found = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        try:
            found.append(ipaddress.ip_network(part))
        except ValueError:
            raise ValueError(
                f"must be comma-separated IP addresses or networks (10.0.0.0/8), got {part!r}"
            ) from None
    return tuple(found)


_port = _int_range(1, 65535)
_days = _int_range(1, 36500)


def _http_url(raw: str) -> str:
    if not raw.startswith(("http://", "https://")):
        raise ValueError("an http:// or https:// URL")
    return raw


def _role_map(raw: str) -> tuple[tuple[str, str], ...]:
    """``group=role,group=role``; whether each role exists is checked by ``accounts.sso``."""
    pairs = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        group, sep, role = (side.strip() for side in part.partition("="))
        if not sep or not group or not role:
            raise ValueError(f"must be group=role pairs separated by commas, got {part!r}")
        pairs.append((group, role))
    return tuple(pairs)


def _one_of(*choices: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, got {raw!r}")
        return raw

    return parse


def _database_url(raw: str) -> Secret:
    if not raw.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            "must start with postgresql:// (the value is not shown: it may hold a password)"
        )
    return Secret(raw)


def _host_port(raw: str) -> str:
    host, sep, port = raw.rpartition(":")
    if "/" in raw or not raw:
        raise ValueError(f"must be host or host:port without a scheme, got {raw!r}")
    if sep and (not host or not port.isdigit() or not 0 < int(port) < 65536):
        raise ValueError(f"must be host or host:port with a port from 1 to 65535, got {raw!r}")
    return raw


def _host_list(raw: str) -> tuple[str, ...]:
    hosts = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    for host in hosts:
        _host_port(host)
    return hosts


def _roles(raw: str) -> tuple[str, ...]:
    roles = tuple(sorted({part.strip() for part in raw.split(",") if part.strip()}))
    unknown = [role for role in roles if role not in STAFF_ROLES]
    if unknown:
        raise ValueError(f"roles must be some of {', '.join(STAFF_ROLES)}; got {unknown}")
    return roles


def _bucket(raw: str) -> str:
    ok = 3 <= len(raw) <= 63 and all(c.islower() or c.isdigit() or c in ".-" for c in raw)
    if not ok or not raw[0].isalnum():
        raise ValueError(f"must be an S3 bucket name (3-63 of a-z 0-9 . -), got {raw!r}")
    return raw


def _zone(raw: str) -> ZoneInfo:
    """An IANA zone name: the local time of everything written for people."""
    try:
        return ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"must be an IANA time zone such as Europe/Helsinki, got {raw!r}"
        ) from None


def _secret_min16(raw: str) -> Secret:
    if len(raw) < 16:
        raise ValueError("must be at least 16 characters (the value is not shown)")
    return Secret(raw)

"""The organisation profile (``CALLREC_ORGANISATION_FILE``): who the controller is.

The privacy notices and the Art. 30 record need facts the system cannot know by itself:
the controller's name, Y-tunnus and address, how to reach the data protection officer, who
receives data and who processes it on the controller's behalf. They live in one small TOML
file (``compliance/organisation.example.toml`` shows every key).

A key that is absent is not an error: the notice shows it as "to be completed", so a service
can run while its owner drafts the profile, and a reader sees at once what is missing. A key
that is present but wrong (a bad Y-tunnus, a typo in a key name, a number where text belongs)
stops start-up with a message naming every bad field, because a notice that silently drops
a misspelt key would tell data subjects less than the organisation meant to.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from stdnum.exceptions import ValidationError
from stdnum.fi import ytunnus

from rights.wording import LANGUAGES, Language

REGISTERS: Final = ("call_recordings", "customers")
MAX_TEXT: Final = 500


class OrganisationError(ValueError):
    """The profile is unreadable or has bad fields; the message names each one."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.problems = problems
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid organisation profile {path}:\n{listed}")


@dataclass(frozen=True)
class Words:
    """Text the organisation wrote, in one or more of our languages."""

    by_language: Mapping[str, str]

    def read(self, language: Language) -> str:
        """The text in ``language``, else in the first language given (fi, sv, en order)."""
        if language in self.by_language:
            return self.by_language[language]
        return next(self.by_language[lang] for lang in LANGUAGES if lang in self.by_language)


@dataclass(frozen=True)
class Party:
    """A recipient or processor: who, in what role, for which registers."""

    name: str
    role: Words
    registers: tuple[str, ...] = REGISTERS


@dataclass(frozen=True)
class Transfer:
    """A transfer outside the EU/EEA: to whom, where, on what safeguard."""

    recipient: str
    country: str
    safeguard: Words
    registers: tuple[str, ...] = REGISTERS


@dataclass(frozen=True)
class Organisation:
    """The profile; ``None`` (or a ``None`` list) is a fact still to be completed."""

    controller_name: str | None = None
    y_tunnus: str | None = None
    address: str | None = None
    contact: str | None = None
    dpo_name: str | None = None
    dpo_contact: str | None = None
    recipients: tuple[Party, ...] | None = None
    processors: tuple[Party, ...] | None = None
    transfers: tuple[Transfer, ...] = ()  # none unless the profile names some
    source: Path | None = field(default=None, compare=False)

    def missing(self) -> list[str]:
        """The profile keys still to be completed (the same names the marks carry)."""
        gaps = [
            key
            for key, value in (
                ("controller.name", self.controller_name),
                ("controller.y_tunnus", self.y_tunnus),
                ("controller.address", self.address),
                ("controller.contact", self.contact),
                ("dpo.contact", self.dpo_contact),
                ("recipients", self.recipients),
                ("processors", self.processors),
            )
            if value is None
        ]
        return gaps + (["transfers"] if self.source is None else [])

    def for_register(self, parties: tuple[Party, ...] | None, register: str) -> list[Party] | None:
        """The parties (recipients or processors) of ``register``; None: not yet given."""
        return None if parties is None else [p for p in parties if register in p.registers]


_SECTIONS: Final = {
    "controller": {"name", "y_tunnus", "address", "contact"},
    "dpo": {"name", "contact"},
}
_LISTS: Final = {
    "recipients": {"name", "role", "registers"},
    "processors": {"name", "role", "registers"},
    "transfers": {"recipient", "country", "safeguard", "registers"},
}


class _Checker:
    """Reads fields, collecting every problem so one start-up names all of them."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def unknown(self, where: str, table: Mapping[str, Any], known: set[str]) -> None:
        for key in sorted(set(table) - known):
            name = f"{where}.{key}" if where else key
            self.problems.append(f"{name}: unknown key (a typo? known: {', '.join(sorted(known))})")

    def text(self, where: str, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}: must be non-empty text")
            return None
        if len(value) > MAX_TEXT:
            self.problems.append(f"{where}: at most {MAX_TEXT} characters")
            return None
        return value.strip()

    def words(self, where: str, value: Any) -> Words | None:
        """Plain text (any language) or a table of fi/sv/en texts."""
        if isinstance(value, Mapping):
            self.unknown(where, value, set(LANGUAGES))
            given = {k: self.text(f"{where}.{k}", v) for k, v in value.items() if k in LANGUAGES}
            texts = {k: v for k, v in given.items() if v is not None}
            if not texts and len(given) == len(value):
                self.problems.append(f"{where}: give the text in at least one of fi, sv, en")
            return Words(texts) if texts else None
        text = self.text(where, value)
        return None if text is None else Words({"fi": text, "sv": text, "en": text})

    def registers(self, where: str, value: Any) -> tuple[str, ...]:
        if value is None:
            return REGISTERS
        if not isinstance(value, list) or not value or any(v not in REGISTERS for v in value):
            self.problems.append(f"{where}: a list of {' and '.join(REGISTERS)}")
            return REGISTERS
        return tuple(value)

    def required(self, where: str, value: Any) -> Any:
        if value is None:
            self.problems.append(f"{where}: missing (every entry needs it)")
        return value

    def y_tunnus(self, where: str, value: Any) -> str | None:
        text = self.text(where, value)
        if text is None:
            return None
        try:
            return str(ytunnus.format(ytunnus.validate(text)))
        except ValidationError as exc:
            reason = str(exc).rstrip(".").lower()
            self.problems.append(f"{where}: not a valid Y-tunnus ({reason})")
            return None


def _table(checker: _Checker, data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        checker.problems.append(f"{name}: must be a table ([{name}])")
        return {}
    checker.unknown(name, value, _SECTIONS[name])
    return value


def _entries(checker: _Checker, data: Mapping[str, Any], name: str) -> list[tuple[str, Any]]:
    value = data.get(name)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        checker.problems.append(f"{name}: must be a list of tables ([[{name}]])")
        return []
    for i, entry in enumerate(value):
        checker.unknown(f"{name}[{i}]", entry, _LISTS[name])
    return [(f"{name}[{i}]", entry) for i, entry in enumerate(value)]


def _parties(checker: _Checker, data: Mapping[str, Any], name: str) -> tuple[Party, ...] | None:
    found = []
    for where, entry in _entries(checker, data, name):
        party_name = checker.text(
            f"{where}.name", checker.required(f"{where}.name", entry.get("name"))
        )
        role = checker.words(f"{where}.role", checker.required(f"{where}.role", entry.get("role")))
        registers = checker.registers(f"{where}.registers", entry.get("registers"))
        if party_name is not None and role is not None:
            found.append(Party(party_name, role, registers))
    return tuple(found) if name in data else None


def _transfers(checker: _Checker, data: Mapping[str, Any]) -> tuple[Transfer, ...]:
    found = []
    for where, entry in _entries(checker, data, "transfers"):
        values = [
            checker.text(f"{where}.{key}", checker.required(f"{where}.{key}", entry.get(key)))
            for key in ("recipient", "country")
        ]
        safeguard = checker.words(
            f"{where}.safeguard", checker.required(f"{where}.safeguard", entry.get("safeguard"))
        )
        registers = checker.registers(f"{where}.registers", entry.get("registers"))
        if values[0] is not None and values[1] is not None and safeguard is not None:
            found.append(Transfer(values[0], values[1], safeguard, registers))
    return tuple(found)


def parse_organisation(data: Mapping[str, Any], source: Path) -> Organisation:
    """The profile from parsed TOML; :class:`OrganisationError` names every bad field."""
    checker = _Checker()
    checker.unknown("", data, set(_SECTIONS) | set(_LISTS))
    controller = _table(checker, data, "controller")
    dpo = _table(checker, data, "dpo")
    organisation = Organisation(
        controller_name=checker.text("controller.name", controller.get("name")),
        y_tunnus=checker.y_tunnus("controller.y_tunnus", controller.get("y_tunnus")),
        address=checker.text("controller.address", controller.get("address")),
        contact=checker.text("controller.contact", controller.get("contact")),
        dpo_name=checker.text("dpo.name", dpo.get("name")),
        dpo_contact=checker.text("dpo.contact", dpo.get("contact")),
        recipients=_parties(checker, data, "recipients"),
        processors=_parties(checker, data, "processors"),
        transfers=_transfers(checker, data),
        source=source,
    )
    if checker.problems:
        raise OrganisationError(source, checker.problems)
    return organisation


def load_organisation(path: Path | None) -> Organisation:
    """The profile at ``path``; an empty profile (everything to be completed) without one."""
    if path is None:
        return Organisation()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise OrganisationError(path, [f"cannot read the file ({exc.strerror})"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise OrganisationError(path, ["the file must be UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise OrganisationError(path, [f"not valid TOML: {exc}"]) from None
    return parse_organisation(data, path)

"""The keyring: versioned X25519 identities, the newest one current for new objects.

The file is an ordinary age identity file with comment lines carrying each key's version, so
the recovery path needs no callrec at all: ``cat header payload | age -d -i keyring.txt``.
A node that only ingests can run with a recipients-only keyring (``age1…`` lines, no secret
keys): it can seal new objects but open none.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from storage.age import AgeError, Identity, Recipient

_VERSION_COMMENT: Final = re.compile(r"^#\s*version:\s*(\d+)")
_PREAMBLE: Final = (
    "# callrec keyring: X25519 identities, newest version is current.\n"
    "# Recover an object without callrec: age -d -i THIS_FILE < header+payload\n"
    "# Keep this file apart from the database and the object store; never commit it.\n"
)


class KeyringError(Exception):
    """The keyring is missing, unreadable or cannot do what was asked."""


@dataclass(frozen=True)
class KeyEntry:
    """One key version: always a recipient, and the identity unless recipient-only."""

    version: int
    recipient: Recipient
    identity: Identity | None


class Keyring:
    """Versioned keys; :attr:`current` seals new objects, any version may open old ones."""

    def __init__(self, entries: list[KeyEntry]) -> None:
        if not entries:
            raise KeyringError("the keyring holds no keys")
        self.entries = {entry.version: entry for entry in entries}
        if len(self.entries) != len(entries):
            raise KeyringError("the keyring lists a version twice")

    @property
    def current(self) -> KeyEntry:
        """The newest key version, used for every new object."""
        return self.entries[max(self.entries)]

    @property
    def can_open(self) -> bool:
        """False on recipient-only nodes."""
        return any(entry.identity is not None for entry in self.entries.values())

    def identities(self, preferred: int | None = None) -> Iterator[Identity]:
        """Identities to try, the one for ``preferred`` version first."""
        order = sorted(self.entries, key=lambda v: (v != preferred, -v))
        found = False
        for version in order:
            identity = self.entries[version].identity
            if identity is not None:
                found = True
                yield identity
        if not found:
            raise KeyringError("this keyring has recipients only; it cannot open objects")

    # ----------------------------------------------------------------- file handling

    @classmethod
    def load(cls, path: Path) -> Keyring:
        """Read a keyring file; the error says how to create one when it is missing."""
        try:
            text = path.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyringError(
                f"no keyring at {path}; create one with 'callrec keys init'"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise KeyringError(f"cannot read keyring {path}: {exc}") from None
        return cls(_parse(text))

    @classmethod
    def create(cls, path: Path) -> Keyring:
        """Write a new keyring with one identity; never overwrites an existing file."""
        entry = _new_entry(1)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise KeyringError(
                f"a keyring already exists at {path}; refusing to overwrite"
            ) from None
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(_PREAMBLE + _format(entry))
        return cls([entry])

    def rotate(self, path: Path) -> KeyEntry:
        """Add a new current identity to the file (atomically) and return it."""
        entry = _new_entry(max(self.entries) + 1)
        entries = [*self.entries.values(), entry]
        text = _PREAMBLE + "".join(_format(e) for e in sorted(entries, key=lambda e: e.version))
        temp = path.with_name(path.name + ".new-" + secrets.token_hex(4))
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        self.entries[entry.version] = entry
        return entry

    def recipients_only(self) -> str:
        """The keyring as a recipients-only file for ingest-only nodes."""
        lines = [f"# version: {e.version}\n{e.recipient}\n" for e in self.entries.values()]
        return "# callrec recipients: can seal, cannot open\n" + "".join(lines)


def _new_entry(version: int) -> KeyEntry:
    identity = Identity.generate()
    return KeyEntry(version, identity.recipient, identity)


def _format(entry: KeyEntry) -> str:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = f"# version: {entry.version}, created: {created}\n# public key: {entry.recipient}\n"
    if entry.identity is None:
        return head + f"{entry.recipient}\n"
    return head + entry.identity.encode() + "\n"


def _parse(text: str) -> list[KeyEntry]:
    entries: list[KeyEntry] = []
    version: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        match = _VERSION_COMMENT.match(line)
        if match:
            version = int(match.group(1))
            continue
        if not line or line.startswith("#"):
            continue
        this_version = version if version is not None else len(entries) + 1
        try:
            if line.startswith("AGE-SECRET-KEY-1"):
                identity = Identity.parse(line)
                entries.append(KeyEntry(this_version, identity.recipient, identity))
            elif line.startswith("age1"):
                entries.append(KeyEntry(this_version, Recipient.parse(line), None))
            else:
                raise KeyringError(f"keyring line {number}: not an age key")
        except AgeError as exc:
            raise KeyringError(f"keyring line {number}: {exc}") from None
        version = None
    return entries

"""What a password must be, after NIST SP 800-63B (section 3.1.1.2): length, not composition.

At least 12 characters and at most 1024 (a passphrase fits; scrypt's input stays bounded),
any characters at all, no rules about digits or capitals, no forced periodic change. What is
refused is what an attacker tries first: the 20,000 commonest passwords (Django's list,
shipped beside this file, see ``common-passwords.LICENSE.txt``), one character or a short
pattern repeated, a run such as ``123456789012``, and the account's own username or the
service's name inside it. Each refusal says what to do instead.
"""

from __future__ import annotations

import gzip
import itertools
from functools import cache
from pathlib import Path
from typing import Final

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024
COMMON_LIST: Final = Path(__file__).parent / "common-passwords.txt.gz"
CONTEXT_WORDS: Final = ("callrec",)  # the service's own name (NIST: context-specific words)
SHORTEST_USERNAME_CHECKED: Final = 3  # a two-letter username is in too many phrases


class PasswordPolicyError(ValueError):
    """The password does not meet the policy; the message says how."""


@cache
def common_passwords() -> frozenset[str]:
    """The commonest passwords, lowercased (read once)."""
    with gzip.open(COMMON_LIST, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def check_policy(password: str, username: str | None = None) -> None:
    """Raise :class:`PasswordPolicyError` saying what to fix, or return for a good password."""
    if len(password) < MIN_LENGTH:
        raise PasswordPolicyError(
            f"passwords need at least {MIN_LENGTH} characters; a phrase of a few words is easiest"
        )
    if len(password) > MAX_LENGTH:
        raise PasswordPolicyError(f"passwords may have at most {MAX_LENGTH} characters")
    folded = password.lower()
    if folded.strip() in common_passwords():
        raise PasswordPolicyError(
            "this is one of the most common passwords, which attackers try first; "
            "choose a phrase of your own"
        )
    if _repetitive(folded) or _sequential(folded):
        raise PasswordPolicyError(
            "a repeated pattern or a run of characters is guessed at once; "
            "choose a phrase of your own"
        )
    words = [*CONTEXT_WORDS]
    if username is not None and len(username) >= SHORTEST_USERNAME_CHECKED:
        words.append(username.lower())
    if any(word in folded for word in words):
        raise PasswordPolicyError("a password must not contain the username or the service's name")


def _repetitive(text: str) -> bool:
    """One unit of up to four characters repeated (``aaaa…``, ``abcabc…``, ``1212…``)."""
    return any(
        len(text) % size == 0 and text == text[:size] * (len(text) // size) for size in range(1, 5)
    )


def _sequential(text: str) -> bool:
    """Every next character one up or one down from the last (``123456789012`` wraps too)."""
    steps = {(ord(b) - ord(a)) for a, b in itertools.pairwise(text)}
    return steps <= {1, -9} or steps <= {-1, 9}

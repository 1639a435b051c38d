"""Henkilötunnus (Finnish personal identity code) under the 2023 rules, Decree 690/2022.

Validation is python-stdnum's ``stdnum.fi.hetu`` (separators ``+``, ``-``/``Y``/``X``/``W``/
``V``/``U`` and ``A``-``F``; temporary numbers 900-999 accepted). The separator is part of the
identity, so the normalised form keeps it: ``100190-999P`` and ``100190Y999P`` are two people
with two different blind-index digests. Error messages never repeat the value.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.fi import hetu

CENTURIES: Final = {"+": 1800, **dict.fromkeys("-YXWVU", 1900), **dict.fromkeys("ABCDEF", 2000)}


@dataclass(frozen=True)
class Henkilotunnus:
    """A valid identity code and what it says about its holder."""

    value: str  # normalised: upper case, no spaces, separator kept
    birth_date: date
    temporary: bool

    def __repr__(self) -> str:  # never into logs or tracebacks
        return "Henkilotunnus(<hidden>)"


def parse_henkilotunnus(raw: str) -> Henkilotunnus:
    """Validate ``raw``; raise ValueError saying what is wrong, without echoing it."""
    try:
        value = hetu.validate(raw.strip(), allow_temporary=True)
    except InvalidChecksum:
        raise ValueError("the check character does not match; check for a typo") from None
    except (InvalidFormat, InvalidLength):
        raise ValueError("use the form DDMMYYCZZZQ, for example 131052-308T") from None
    except InvalidComponent:
        raise ValueError("the date or the individual number is not possible") from None
    except ValidationError:
        raise ValueError("not a valid henkilötunnus") from None
    day, month, year = int(value[0:2]), int(value[2:4]), int(value[4:6])
    birth = date(CENTURIES[value[6]] + year, month, day)
    return Henkilotunnus(value, birth, int(value[7:10]) >= 900)

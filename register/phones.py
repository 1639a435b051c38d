"""Phone numbers in one form: E.164, parsed with ``phonenumbers`` (default region FI).

The register, the webhook, subject requests and recording search all compare numbers, so
they all normalise here and a number typed as ``040 123 4567`` matches ``+358401234567``.
"""

from __future__ import annotations

from typing import Final

import phonenumbers

DEFAULT_REGION: Final = "FI"


def normalise_phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """E.164 form of ``raw``; raise ValueError when it is not a possible number."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

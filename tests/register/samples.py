"""A sample customer for the tests that need one in the register."""

from __future__ import annotations

from typing import Any


def maija(**overrides: Any) -> dict[str, Any]:
    """Maija Mäkinotkelma, a tenant with a henkilötunnus, phone, e-mail and address."""
    body: dict[str, Any] = {
        "customer_number": "A-1001",
        "first_name": "Maija",
        "last_name": "Mäkinotkelma",
        "henkilotunnus": "131052-308T",
        "roles": ["tenant"],
        "language": "fi",
        "turvakielto": False,
        "phones": [{"number": "+358401234567", "type": "mobile"}],
        "emails": ["maija@example.fi"],
        "addresses": [{"street": "Toinen linja 14", "postal_code": "00530", "city": "Helsinki"}],
        "assigned_advisor": "housing-advisor",
    }
    body.update(overrides)
    return body

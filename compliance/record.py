"""The record of processing activities (GDPR Art. 30(1)) for both registers.

Article 30(1) lists what the record holds: (a) the controller and the DPO, (b) purposes,
(c) categories of data subjects and of personal data, (d) categories of recipients,
(e) transfers to third countries, (f) time limits for erasure, (g) security measures. Each
comes from the same functions as the privacy notice, so the record the supervisor reads and
the notice the public reads say the same. A fact the profile lacks is ``null`` and named in
``to_be_completed``.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Final

from compliance.content import (
    RETENTION_OF,
    Facts,
    access_lines,
    content_notes,
    data_items,
    disclosure_kinds,
    goals,
    security_lines,
)
from compliance.organisation import REGISTERS, Party
from compliance.texts import say
from rights.wording import Language, retention_days, retention_sentence

FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _parties(parties: list[Party] | None, language: Language) -> list[dict[str, str]] | None:
    if parties is None:
        return None
    return [{"name": p.name, "role": p.role.read(language)} for p in parties]


def _register(register: str, facts: Facts, language: Language) -> dict[str, Any]:
    org = facts.organisation
    days = retention_days(facts.settings)
    transfers = None
    if org.source is not None:
        transfers = [
            {
                "recipient": t.recipient,
                "country": t.country,
                "safeguard": t.safeguard.read(language),
            }
            for t in org.transfers
            if register in t.registers
        ]
    return {
        "register": register,
        "name": say(language, f"register.{register}"),
        "purposes": goals(register, language),
        "legal_basis": say(language, f"basis.{register}"),
        "data_subjects": say(language, f"subjects.{register}"),
        "personal_data": [
            *data_items(register, facts, language),
            *content_notes(register, facts, language),
        ],
        "recipients": _parties(org.for_register(org.recipients, register), language),
        "processors": _parties(org.for_register(org.processors, register), language),
        "disclosure_log_recipient_kinds": disclosure_kinds(facts, language)
        if register == "customers"
        else [],
        "transfers": transfers,
        "retention": [
            {
                "category": category,
                "days": days[category],
                "text": retention_sentence(category, days[category], language),
            }
            for category in RETENTION_OF[register]
        ],
        "security_measures": [
            *access_lines(register, language),
            *security_lines(register, facts, language),
        ],
    }


def record_of_processing(facts: Facts, language: Language = "en") -> dict[str, Any]:
    """The Art. 30(1) record as JSON-ready data."""
    org = facts.organisation
    return {
        "generated_at": facts.generated_at.isoformat(),
        "language": language,
        "controller": {
            "name": org.controller_name,
            "y_tunnus": org.y_tunnus,
            "address": org.address,
            "contact": org.contact,
        },
        "dpo": {"name": org.dpo_name, "contact": org.dpo_contact},
        "registers": [_register(register, facts, language) for register in REGISTERS],
        "to_be_completed": org.missing(),
    }


def _cell(value: object) -> str:
    """A cell a spreadsheet shows as text (never runs as a formula); empty for null."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def _rows(prefix: str, value: Any) -> list[tuple[str, str]]:
    """Flatten nested data into (item, value) rows; lists repeat their item's name."""
    if isinstance(value, dict):
        return [row for key, v in value.items() for row in _rows(f"{prefix}.{key}".lstrip("."), v)]
    if isinstance(value, list):
        if not value:
            return [(prefix, "")]
        return [row for v in value for row in _rows(prefix, v)]
    return [(prefix, _cell(value))]


def record_csv(record: dict[str, Any]) -> str:
    """The record as CSV: one row per fact (register, item, value); UTF-8 with a BOM."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["register", "item", "value"])
    for key in ("generated_at", "language", "controller", "dpo", "to_be_completed"):
        for item, value in _rows(key, record[key]):
            writer.writerow(["", item, value])
    for register in record["registers"]:
        fields = {k: v for k, v in register.items() if k != "register"}
        for item, value in _rows("", fields):
            writer.writerow([register["register"], item, value])
    return "\ufeff" + out.getvalue()

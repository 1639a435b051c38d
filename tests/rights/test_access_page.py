"""The readable access copy's page without a browser: every field of the package has a
heading in each language, values are escaped, and times are told in the service's zone."""

from __future__ import annotations

import re
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from audit.log import ActionOfYours
from common.settings import Settings
from recorder.catalog import SubjectRecording
from register.customers import Address, Customer, Phone
from rights.access_page import SKIP, CopyContents, render
from rights.copy_words import LABELS, TEXT, VALUES
from rights.export import RECORDING_COLUMNS
from rights.wording import LANGUAGES

# Keys of the register files, leases, logs and the access log (read from the queries' columns).
OTHER_KEYS = (
    "lease_number", "property", "apartment", "start_date", "end_date", "terminated_on",
    "parties", "household", "customer_id", "role", "name", "channel", "direction", "topic",
    "note", "at", "recording_id", "recipient", "recipient_kind", "legal_basis",
    "data_disclosed", "kind", "allowed", "given_via", "seq", "action", "purpose", "outcome",
    "actor_role",
)  # fmt: skip


def test_every_key_of_the_package_has_a_heading_in_every_language() -> None:
    keys = {
        *RECORDING_COLUMNS,
        *(f.name for f in fields(SubjectRecording)),
        *(f.name for f in fields(Customer)),
        *(f.name for f in fields(Phone)),
        *(f.name for f in fields(Address)),
        *(f.name for f in fields(ActionOfYours)),
        *OTHER_KEYS,
    } - {"assigned_advisor_id", "audio_object_id", *SKIP}  # never in the copy's tables
    for language in LANGUAGES:
        assert sorted(keys - LABELS[language].keys()) == [], language
    for table in (LABELS, VALUES, TEXT):
        assert all(table[language].keys() == table["fi"].keys() for language in LANGUAGES)


def test_the_page_escapes_every_value_and_tells_times_in_the_zone(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, timezone=ZoneInfo("Europe/Helsinki"))
    contents = CopyContents(
        recordings=[
            {
                "file": 'recordings/x"><script>alert(1)</script>.ogg',
                "id": "r-1",
                "started_at": "2026-11-23T19:55:00+00:00",
                "direction": "inbound",
                "notice_played": True,
            }
        ],
        sections={
            "register/customer.json": {"first_name": "<img src=x onerror=alert(1)>"},
            "register/contact_log.json": [
                {"channel": "phone", "note": "masked", "at": datetime(2026, 6, 1, 6, tzinfo=UTC)}
            ],
        },
        files=["recordings.json"],
    )

    page = render(contents, settings, "en", datetime(2026, 12, 1, 22, 30, tzinfo=UTC))

    assert "<script" not in page
    assert "<img" not in page
    assert re.search(r'<audio controls preload="metadata" src="recordings/x&quot;&gt;', page)
    assert "Call 2026-11-23 21:55 +02:00" in page  # a winter evening in Helsinki
    assert "2026-06-01 09:00 +03:00" in page  # and a summer morning
    assert "made 2026-12-02 00:30 +02:00" in page
    assert "<td>phone</td>" in page
    assert "hidden because of a non-disclosure order" in page
    assert "incoming" in page
    assert '<html lang="en">' in page
    assert page.count("<h2") == 6  # calls, register, contacts, retention, rights, files

"""``callrec compliance notice|record`` print what the API serves, from the same facts."""

from __future__ import annotations

import csv
import io
import json

from tests.callrec.test_cli import run
from tests.compliance.test_organisation import EXAMPLE


def test_notice_and_record_print_the_live_documents(database_url: str) -> None:
    env = {
        "CALLREC_DATABASE_URL": database_url,
        "CALLREC_ORGANISATION_FILE": str(EXAMPLE),
        "CALLREC_RETENTION_RECORDINGS_DAYS": "60",
    }
    markdown = run(["compliance", "notice"], env)
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.count("# Tietosuojaseloste: ") == 2  # both registers by default
    assert "Puhelutallenteet: säilytysaika 60 päivää" in markdown.stdout
    one = run(
        ["compliance", "notice", "--register", "customers", "--lang", "sv", "--format", "json"],
        env,
    )
    notice = json.loads(one.stdout)
    assert notice["title"] == "Dataskyddsbeskrivning: Kundregister"
    assert notice["to_be_completed"] == []
    rows = list(
        csv.reader(io.StringIO(run(["compliance", "record", "--format", "csv"], env).stdout))
    )
    assert ["call_recordings", "retention.days", "60"] in rows
    assert ["", "controller.y_tunnus", "1234567-1"] in rows
    wrong = run(["compliance", "notice", "--format", "pdf"], env)
    assert wrong.returncode == 2
    assert "invalid choice: 'pdf'" in wrong.stderr

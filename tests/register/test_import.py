"""``callrec customers import``: validation report, idempotence, nothing personal in output."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

HEADER = [
    "customer_number", "first_name", "last_name", "roles", "henkilotunnus", "language",
    "turvakielto", "phones", "emails", "street", "postal_code", "city",
]  # fmt: skip
ROWS = [
    ["A-1", "Maija", "Mäkinotkelma", "tenant", "131052-308T", "fi", "false",
     "+358401234567:mobile;09 1234567:landline", "maija@example.fi", "Toinen linja 14", "00530",
     "Helsinki"],
    ["A-2", "Pekka", "Virtanen", "applicant;co_tenant", "", "sv", "true", "0409999999", "", "", "",
     ""],
    ["A-3", "", "Nimetön", "landlord", "131052-308U", "de", "maybe", "12", "x", "", "5300", ""],
    ["A-4", "Kaksi", "Kertaa", "tenant", "131052-308T", "fi", "", "", "", "", "", ""],
]  # fmt: skip


def write(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def run_import(database_url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CALLREC_")}
    env |= {"CALLREC_DATABASE_URL": database_url, "CALLREC_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "callrec.cli", "customers", "import", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_import_reports_rejects_and_is_idempotent(database_url: str, tmp_path: Path) -> None:
    source, report = tmp_path / "export.csv", tmp_path / "rejected.csv"
    write(source, ROWS)
    first = run_import(database_url, tmp_path, str(source), "--report", str(report))
    assert first.returncode == 1, first.stderr
    assert "4 rows" in first.stdout
    assert "2 imported, 0 already present, 2 rejected" in first.stdout
    assert "line 4:" in first.stdout
    assert "line 5: henkilotunnus: another customer has it" in first.stdout
    assert "131052-308" not in first.stdout + first.stderr + report.read_text()
    assert "4/4 rows" in first.stderr  # the progress bar
    rejected = list(csv.DictReader(report.open()))
    assert {r["field"] for r in rejected if r["line"] == "4"} >= {
        "first_name", "roles", "henkilotunnus", "language", "turvakielto",
        "phones[0].number", "emails", "addresses[0].street", "addresses[0].postal_code",
    }  # fmt: skip
    second = run_import(database_url, tmp_path, str(source))
    assert "0 imported, 2 already present, 2 rejected" in second.stdout
    conn = await asyncpg.connect(database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM customers") == 2
        phones = await conn.fetch("SELECT number, kind FROM customer_phones ORDER BY number")
        assert [tuple(p) for p in phones] == [
            ("+358401234567", "mobile"),
            ("+358409999999", "mobile"),
            ("+35891234567", "landline"),
        ]
        pekka = await conn.fetchrow(
            "SELECT roles, turvakielto FROM customers WHERE customer_number = 'A-2'"
        )
        assert pekka is not None
        assert (list(pekka["roles"]), pekka["turvakielto"]) == (["applicant", "co_tenant"], True)
    finally:
        await conn.close()


def test_wrong_columns_are_refused_before_anything_is_read(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "export.csv"
    write(source, [], header=["customer_number", "first_name", "surname"])
    result = run_import(database_url, tmp_path, str(source))
    assert result.returncode == 1
    assert "missing column(s): last_name, roles" in result.stderr
    assert "unknown column(s): surname" in result.stderr


def _write_bytes(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"\r\n".join([",".join(HEADER).encode(), *lines, b""]))


def _row(*cells: str) -> bytes:
    return ",".join(cells).encode()


async def test_unreadable_cells_reject_their_row_by_line_and_field(
    database_url: str, tmp_path: Path
) -> None:
    source, report = tmp_path / "export.csv", tmp_path / "rejected.csv"
    good = _row("B-1", "Maija", "Mäkinotkelma", "tenant", "", "fi", "", "", "", "", "", "")
    nul = _row("B-2", "Se\x00cret", "Virtanen", "tenant", "", "fi", "", "", "", "", "", "")
    latin1 = _row("B-3", "Pekka", "", "tenant", "", "fi", "", "", "", "", "", "") + b"\xe4"
    bad_utf8 = latin1.replace(b"Pekka", b"M\xe4kel\xe4")
    also_good = _row("B-4", "Kaksi", "Kertaa", "tenant", "", "sv", "", "", "", "", "", "")
    huge = _row("B-5", "x" * 200_000, "Iso", "tenant", "", "fi", "", "", "", "", "", "")
    _write_bytes(source, [good, nul, bad_utf8, huge, also_good])
    result = run_import(database_url, tmp_path, str(source), "--report", str(report))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "5 rows" in result.stdout
    assert "2 imported, 0 already present, 3 rejected" in result.stdout
    assert "line 3: first_name: must not contain NUL characters" in result.stdout
    assert "line 4: first_name: not valid UTF-8 text" in result.stdout
    assert "city: not valid UTF-8 text" in result.stdout
    assert "line 5: row: not a readable CSV row" in result.stdout  # the reader goes on after it
    output = result.stdout + result.stderr + report.read_text()
    assert "cret" not in output
    assert "kel" not in output
    conn = await asyncpg.connect(database_url)
    try:
        numbers = await conn.fetch("SELECT customer_number FROM customers ORDER BY 1")
        assert [r["customer_number"] for r in numbers] == ["B-1", "B-4"]
    finally:
        await conn.close()


def test_a_header_that_is_not_utf8_is_refused_by_column_number(
    database_url: str, tmp_path: Path
) -> None:
    source = tmp_path / "export.csv"
    source.write_bytes(b"customer_number,first_name,last_name,roles,\xe4\r\n")
    result = run_import(database_url, tmp_path, str(source))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "header column(s) 5 are not valid UTF-8 text" in result.stderr

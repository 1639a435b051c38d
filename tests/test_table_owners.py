"""One owner per table: only the package that owns a table names it in SQL.

Every other package calls the owner's typed functions (or, when it sits below the owner,
defines an interface the owner implements, as ``retention.erasure.Recordings``). The owners
are written out here by hand from which room creates and means each table, so moving SQL
into the wrong package, or adding a table without deciding its owner, fails this test.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

ROOT: Final = Path(__file__).resolve().parent.parent
PACKAGES: Final = (
    "accounts",
    "api",
    "audit",
    "callrec",
    "common",
    "compliance",
    "console",
    "recorder",
    "register",
    "retention",
    "rights",
    "storage",
    "transcripts",
)


def _owned(package: str, tables: str) -> dict[str, str]:
    return dict.fromkeys(tables.split(), package)


OWNERS: Final = {
    **_owned(
        "accounts",
        "users sessions setup_tokens totp_factors totp_recovery_codes login_challenges"
        " sso_links sso_pending",
    ),
    **_owned("audit", "audit_log audit_checkpoints"),
    **_owned(
        "register",
        "customers customer_phones customer_emails customer_addresses leases lease_parties"
        " household_members guardianships contact_log disclosures marketing_preferences"
        " rectifications",
    ),
    **_owned(
        "recorder",
        "recordings ingest_jobs webhook_signatures redactions redacted_renditions"
        " recording_annotations training_collections training_collection_items",
    ),
    # tombstones: the erasure engine writes the proof of every erasure (rights' expired export
    # links leave theirs through retention.erasure.leave_tombstones).
    **_owned("retention", "legal_holds legal_hold_recordings scheduler_runs tombstones"),
    **_owned("rights", "subject_requests exports subject_request_exports"),
    **_owned("transcripts", "transcripts transcript_terms"),
    **_owned("storage", "data_keys sealed_objects pending_object_deletions schema_migrations"),
}

# (file, table) → why that file may name a table it does not own.
EXCEPTIONS: Final = {
    ("recorder/queries.py", "users"): (
        "the ingest INSERT resolves answered_by to an account in the same statement: a "
        "second round trip would lengthen the webhook's transaction on the hot path"
    ),
}

# A table named after FROM, JOIN, INTO, UPDATE or TRUNCATE. ``FOR UPDATE`` and
# ``DO UPDATE`` are locks and upserts, ``IS DISTINCT FROM`` and ``extract(epoch FROM …)``
# compare and take columns; a FROM/JOIN name directly followed by ``(`` is a function.
REFERENCE: Final = re.compile(
    r"(?<![\w.])(?:(?P<source>FROM|JOIN)|INTO|(?<!FOR )(?<!DO )UPDATE|TRUNCATE(?:\s+TABLE)?)"
    r"\s+(?:ONLY\s+|LATERAL\s+)?(?P<name>[A-Za-z_][\w.]*)(?P<call>\()?"
)
NOT_A_TABLE_BEFORE: Final = ("epoch ", "distinct ")
# ``WITH name AS (`` or ``, name AS (``: a common table expression, local to its file.
CTE: Final = re.compile(
    r"(?:\bWITH(?:\s+RECURSIVE)?|,)\s*([a-z_]\w*)\s+AS\s+(?:(?:NOT\s+)?MATERIALIZED\s+)?\(",
    re.IGNORECASE,
)


def _strings(source: str) -> Iterator[tuple[int, str]]:
    """Every string constant of a module (f-strings' literal parts too), with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def tables_named(source: str) -> list[tuple[int, str]]:
    """``(line, table)`` for each table the module's SQL names, CTEs, functions and system
    catalogs left out."""
    strings = list(_strings(source))
    ctes = {match.group(1) for _, text in strings for match in CTE.finditer(text)}
    found: list[tuple[int, str]] = []
    for line, text in strings:
        for match in REFERENCE.finditer(text):
            name = match.group("name")
            before = text[max(0, match.start() - 9) : match.start()].lower()
            if (
                (match.group("source") and match.group("call"))
                or name in ctes
                or name.startswith(("pg_", "information_schema"))
                or before.endswith(NOT_A_TABLE_BEFORE)
            ):
                continue
            found.append((line, name))
    return found


def _references() -> Iterator[tuple[str, str, int, str]]:
    """``(package, file, line, table)`` over the service packages' source."""
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            for line, table in tables_named(path.read_text(encoding="utf-8")):
                yield package, relative, line, table


def test_the_scanner_finds_tables_and_skips_ctes_functions_and_columns() -> None:
    sql = """
    WITH gone AS (DELETE FROM sealed_objects WHERE id = ANY($1) RETURNING object_key),
         live AS MATERIALIZED (SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id)
    INSERT INTO pending_object_deletions (object_key) SELECT object_key FROM gone
    ON CONFLICT (object_key) DO UPDATE SET object_key = excluded.object_key;
    SELECT k FROM unnest($1::text[]) AS k, extract(epoch FROM now() - at) FROM live;
    SELECT 1 FROM pg_database WHERE a IS DISTINCT FROM b FOR UPDATE SKIP LOCKED;
    UPDATE ONLY recordings SET x = 1; TRUNCATE TABLE tombstones;
    SELECT * FROM leases, LATERAL (SELECT 1) x JOIN LATERAL lease_parties p ON true
    """
    found = [table for _, table in tables_named(f"Q = {sql!r}\nimport os\nfrom os import path")]
    assert found == [
        "sealed_objects",
        "sessions",
        "users",
        "pending_object_deletions",
        "recordings",
        "tombstones",
        "leases",
        "lease_parties",
    ]


def test_every_table_the_migrations_create_has_an_owner() -> None:
    created = {
        match.group(1)
        for path in (ROOT / "storage").rglob("*.sql")
        for match in re.finditer(
            r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", path.read_text(encoding="utf-8")
        )
    }
    created |= {
        match.group(1)
        for match in re.finditer(
            r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)",
            (ROOT / "storage" / "migrate.py").read_text(encoding="utf-8"),
        )
    }
    assert created == set(OWNERS)


def test_every_table_named_in_sql_has_an_owner() -> None:
    unknown = [
        f"{file}:{line} {table}" for _, file, line, table in _references() if table not in OWNERS
    ]
    assert unknown == [], "name the owner in OWNERS (or teach the scanner a CTE/function)"


def test_only_the_owner_names_a_table() -> None:
    crossings = [
        f"{file}:{line} names {table} (owned by {OWNERS[table]})"
        for package, file, line, table in _references()
        if table in OWNERS and OWNERS[table] != package and (file, table) not in EXCEPTIONS
    ]
    assert crossings == [], "call the owner's typed function instead"


def test_every_exception_is_still_needed() -> None:
    used = {(file, table) for _, file, _, table in _references()}
    assert set(EXCEPTIONS) <= used, "drop the exceptions no SQL needs any more"

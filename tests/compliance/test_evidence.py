"""The compliance evidence matches what was seeded, figure by figure, through the API and the
command line; the route refuses malformed, oversized, anonymous and out-of-role requests."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from api.appkeys import POOL, SETTINGS, VAULT
from audit.log import ChainReport, record_verification
from callrec.cli import main
from callrec.jobs import standard_jobs
from common.metrics import Metrics
from retention.scheduler import JobScheduler, tick_of
from storage.db import Pool
from tests.api.sessions import Client, headers_for
from tests.retention.helpers import add_recording

DAY = timedelta(days=1)
NOW = datetime.now(UTC)
URL = "/v1/compliance/evidence"


async def add_request(
    pool: Pool,
    *,
    received_days_ago: float,
    status: str,
    took_days: float | None = None,
    extended_days: float | None = None,
) -> None:
    """A request as the rights processor leaves it: received, due dates, maybe completed."""
    received = NOW - received_days_ago * DAY
    legal_due = received + timedelta(days=30)
    await pool.execute(
        "INSERT INTO subject_requests (id, kind, subject_type, phone_number, channel,"
        " received_at, due_at, legal_due_at, extended_due_at, status, completed_at)"
        " VALUES ($1, 'access', 'phone', '+358401234567', 'phone', $2, $3, $4, $5, $6, $7)",
        uuid.uuid4(),
        received,
        received + 14 * DAY,
        legal_due,
        None if extended_days is None else legal_due + extended_days * DAY,
        status,
        None if took_days is None else received + took_days * DAY,
    )


async def seed_requests(pool: Pool) -> None:
    await add_request(pool, received_days_ago=30, status="completed", took_days=5)  # on time
    await add_request(pool, received_days_ago=40, status="completed", took_days=20)  # late
    await add_request(pool, received_days_ago=80, status="completed", took_days=40)  # too late
    # extended by 20 days with a reason: late for the target, lawful for the legal deadline
    await add_request(
        pool, received_days_ago=60, status="completed", took_days=45, extended_days=20
    )
    await add_request(pool, received_days_ago=20, status="verified")  # past the 14 days
    await add_request(pool, received_days_ago=40, status="processing")  # past the month
    await add_request(pool, received_days_ago=1, status="identity_unverified")
    await add_request(pool, received_days_ago=10, status="denied", took_days=2)


async def evidence(api: Client) -> dict[str, Any]:
    response = await api.get(URL, headers=await headers_for(api, "dpo"))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def test_every_figure_matches_the_seeded_data(staff_api: Client) -> None:
    api = staff_api
    pool, vault = api.app[POOL], api.app[VAULT]
    await seed_requests(pool)
    old = NOW - 200 * DAY  # the recordings' period is 90 days
    held = await add_recording(pool, vault, started_at=old)
    unheld = await add_recording(pool, vault, started_at=old, answered_by="dpo")
    recent = await add_recording(pool, vault)
    placed = await api.post(
        "/v1/legal-holds",
        json={"recording_ids": [str(held)], "reason": "dispute over rent"},
        headers=await headers_for(api, "dpo"),
    )
    assert placed.status == 201
    await pool.execute(  # ingest matched this one's agent; the others' "maija.m" is no one
        "UPDATE recordings SET answered_by_user_id = (SELECT id FROM users WHERE username = 'dpo')"
        " WHERE id = $1",
        unheld,
    )
    await pool.execute("UPDATE recordings SET notice_played = false WHERE id = $1", recent)
    keyring = api.app[VAULT].keyring
    keyring.rotate(api.app[SETTINGS].keyring_path)
    await add_recording(pool, vault, started_at=NOW - DAY)  # sealed to the new key
    jobs = standard_jobs(pool, vault, api.app[SETTINGS], Metrics())
    verify = next(job for job in jobs if job.name == "audit_verify")
    await JobScheduler(pool, [verify]).run_tick(verify, tick_of(NOW, verify.every))

    figures = await evidence(api)

    assert figures["subject_requests"] == {
        "received": 8,
        "completed": 4,
        "denied": 1,
        "completed_within_internal_target": 1,
        "completed_within_legal_deadline": 3,
        "median_days_to_complete": pytest.approx(30.0),
        "overdue_now": 2,
        "past_legal_deadline_now": 1,
        "internal_target_days": 14,
    }
    retention = figures["retention"]
    assert retention["past_retention_without_hold"] == 1
    assert retention["past_retention_under_hold"] == 1
    assert retention["categories"]["recordings"] == {"due": 1, "held": 1, "kept_by_duty": 0}
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 4  # a dry run: all stay
    chain = figures["audit_chain"]
    assert chain["intact"] is True
    assert chain["problems"] == 0
    assert chain["entries"] >= 2  # the user accounts' and the hold's entries
    assert datetime.fromisoformat(chain["last_verified_at"]) > NOW
    keys = figures["keys"]
    assert (keys["versions"], keys["current_version"]) == ([1, 2], 2)
    # three recordings and the register's data key on version 1, one recording on version 2
    assert keys["headers_by_version"] == {"1": 4, "2": 1}
    assert keys["headers_on_old_keys"] == 4
    assert figures["transcripts"] == {"ready": 0, "pending": 0, "failed": 0}
    assert figures["calls"] == {
        "recordings": 4,
        "without_notice": 1,
        "unmatched_agent_calls": 3,
        "unmatched_agents": 1,
    }
    jobs_seen = {job["job"]: job for job in figures["scheduled_jobs"]}
    assert list(jobs_seen) == [job.name for job in jobs]
    assert jobs_seen["audit_verify"]["late"] is False
    assert jobs_seen["audit_verify"]["last_outcome"].startswith("intact")
    assert jobs_seen["retention_sweep"] == {
        "job": "retention_sweep",
        "every_seconds": 3600,
        "last_success": None,
        "last_started": None,
        "last_outcome": None,
        "late": True,
    }

    # A broken chain found later, and a sweep that ran: the figures follow.
    await record_verification(pool, ChainReport(9, 9, bytes(32), ["row 4 was altered"]))
    sweep = next(job for job in jobs if job.name == "retention_sweep")
    await JobScheduler(pool, [sweep]).run_tick(sweep, tick_of(NOW, sweep.every))
    after = await evidence(api)
    assert (after["audit_chain"]["intact"], after["audit_chain"]["problems"]) == (False, 1)
    assert after["retention"]["past_retention_without_hold"] == 0
    assert after["retention"]["past_retention_under_hold"] == 1
    assert after["calls"]["recordings"] == 3
    swept = {job["job"]: job for job in after["scheduled_jobs"]}["retention_sweep"]
    assert swept["late"] is False
    reads = await pool.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'compliance.evidence' AND actor = 'dpo'"
    )
    assert reads == 2


async def test_the_command_line_prints_the_same_figures(
    staff_api: Client, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    api = staff_api
    await seed_requests(api.app[POOL])
    settings = api.app[SETTINGS]
    assert settings.database_url is not None
    monkeypatch.setenv("CALLREC_DATABASE_URL", settings.database_url.reveal())
    monkeypatch.setenv("CALLREC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("CALLREC_KEYRING", str(settings.keyring_path))

    assert await asyncio.to_thread(main, ["compliance", "evidence"]) == 0

    printed = json.loads(capsys.readouterr().out)
    served = await evidence(api)
    for part in ("subject_requests", "retention", "keys", "calls"):
        assert printed[part] == served[part], part
    assert [j["job"] for j in printed["scheduled_jobs"]] == [
        j["job"] for j in served["scheduled_jobs"]
    ]


async def test_bad_and_out_of_role_requests_are_refused(staff_api: Client) -> None:
    api = staff_api
    dpo = await headers_for(api, "dpo")
    malformed = await api.get(f"{URL}?from=2026-01-01&lang=fi", headers=dpo)
    assert malformed.status == 422
    assert malformed.content_type == "application/problem+json"
    assert {e["field"] for e in (await malformed.json())["errors"]} == {"from", "lang"}
    oversized = await api.get(f"{URL}?x={'a' * 20_000}", headers=dpo)
    assert 400 <= oversized.status < 500
    assert (await api.get(URL)).status == 401
    for role in ("admin", "customer-service", "trainer", "housing-advisor"):
        refused = await api.get(URL, headers=await headers_for(api, role))
        assert refused.status == 403, role
        assert (await refused.json())["type"].endswith("/forbidden")
    assert (
        await api.app[POOL].fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'compliance.evidence'"
        )
        == 0
    )

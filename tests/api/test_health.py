"""The HTTP skeleton: health, readiness, metrics and the problem+json error shape."""

from __future__ import annotations

import dataclasses
import logging
import uuid

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from api.appkeys import STORE, STORE_PROBE
from api.permissions import public
from callrec.app import create_app
from common.settings import Secret, Settings
from storage.db import Pool
from storage.s3 import S3Store
from tests.faults import file_size_limit
from tests.recorder.test_twilio import ACCOUNT, TOKEN, callback_form, post_callback
from tests.s3 import on_s3

Client = TestClient[web.Request, web.Application]


async def test_healthz_and_readyz(client: Client) -> None:
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status == 200
    body = await response.json()
    assert body["checks"] == {"database": "ok", "object_store": "ok"}


async def test_readyz_reports_a_missing_bucket(
    settings: Settings, s3_endpoint: tuple[str, str, str]
) -> None:
    async with TestClient(TestServer(create_app(on_s3(settings, s3_endpoint)))) as client:
        assert (await client.get("/readyz")).status == 200  # the app created its bucket
        store = client.app[STORE]
        assert isinstance(store, S3Store)
        store._client.remove_bucket(store.bucket)
        client.app[STORE_PROBE].ttl = 0  # no cached answer from the call before
        response = await client.get("/readyz")
        assert response.status == 503
        assert response.headers["Content-Type"].startswith("application/problem+json")
        assert response.headers["Retry-After"] == "5"
        body = await response.json()
        assert "object_store unavailable" in body["detail"]


async def test_readyz_reports_a_store_that_refuses_writes_though_it_looks_writable(
    client: Client, settings: Settings
) -> None:
    client.app[STORE_PROBE].ttl = 0  # no cached answer from a call before
    assert (await client.get("/readyz")).status == 200
    with file_size_limit(8):  # a full quota: the folder exists and access() says writable
        response = await client.get("/readyz")
    assert response.status == 503
    assert response.headers["Retry-After"] == "5"
    detail = (await response.json())["detail"]
    assert "object_store unavailable" in detail
    assert str(settings.data_dir) not in detail
    assert (await client.get("/readyz")).status == 200
    assert [o async for o in client.app[STORE].list()] == []  # the probe left nothing


async def test_unknown_path_is_problem_json_with_request_id(client: Client) -> None:
    response = await client.get("/v1/nothing-here", headers={"X-Request-Id": "abcdef12-trace"})
    assert response.status == 404
    assert response.headers["Content-Type"].startswith("application/problem+json")
    body = await response.json()
    assert body["status"] == 404
    assert body["type"].endswith("/not-found")
    assert body["request_id"] == "abcdef12-trace"
    assert response.headers["X-Request-Id"] == "abcdef12-trace"


async def test_wrong_method_lists_allowed_methods(client: Client) -> None:
    response = await client.post("/healthz")
    assert response.status == 405
    assert "GET" in response.headers["Allow"]
    assert "allowed" in (await response.json())["detail"]


async def test_unexpected_error_is_500_without_internals(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings)

    @public("test route")
    async def boom(request: web.Request) -> web.Response:
        raise RuntimeError("secret internal detail")

    app.router.add_get("/boom", boom)
    async with TestClient(TestServer(app)) as client:
        with caplog.at_level(logging.ERROR):
            response = await client.get("/boom")
        assert response.status == 500
        body = await response.json()
        assert "secret internal detail" not in str(body)
        assert body["request_id"] in body["detail"]
    assert "secret internal detail" in caplog.text  # the log keeps it for the operator


async def test_metrics_count_requests_by_route_template(client: Client) -> None:
    await client.get("/healthz")
    await client.get("/v1/recordings/does-not-exist-123")
    text = await (await client.get("/metrics")).text()
    assert 'callrec_http_requests_total{method="GET",route="/healthz",status="200"}' in text
    assert "does-not-exist-123" not in text  # raw paths never become labels


async def test_metrics_read_the_overdue_subject_requests_fresh(client: Client, pool: Pool) -> None:
    await pool.execute(
        "INSERT INTO subject_requests (id, kind, subject_type, phone_number, channel, received_at,"
        " due_at, legal_due_at) VALUES ($1, 'access', 'phone', '+358401111111', 'phone',"
        " now() - interval '20 days', now() - interval '6 days', now() + interval '10 days')",
        uuid.uuid4(),
    )
    text = await (await client.get("/metrics")).text()
    assert "callrec_subject_requests_overdue 1.0" in text
    assert "callrec_subject_requests_due_soon 0.0" in text


async def test_readyz_says_when_ingest_is_off(client: Client) -> None:
    """Without a webhook secret (non-embedded mode) calls are refused; /readyz says so."""
    body = await (await client.get("/readyz")).json()
    assert body["ingest"] == {
        "webhook": "off: set CALLREC_WEBHOOK_SECRET",
        "twilio": "off: set CALLREC_TWILIO_AUTH_TOKEN",
    }


async def test_readyz_says_twilio_ingest_is_on_only_when_callbacks_are_taken(
    settings: Settings,
) -> None:
    """With the token but no host to fetch from, every callback is refused: that is off."""
    token = dataclasses.replace(settings, twilio_auth_token=Secret(TOKEN))
    for hosts, state, answer in [
        ((), "off: list api.twilio.com in CALLREC_FETCH_ALLOWED_HOSTS", 422),
        (("127.0.0.1",), "on, but api.twilio.com is not in CALLREC_FETCH_ALLOWED_HOSTS", 422),
        (("api.twilio.com",), "on", 202),
    ]:
        configured = dataclasses.replace(token, fetch_allowed_hosts=hosts)
        async with TestClient(TestServer(create_app(configured, run_worker=False))) as client:
            ingest = (await (await client.get("/readyz")).json())["ingest"]
            assert ingest["twilio"].startswith(state), hosts
            form = callback_form(f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/x")
            status, problem = await post_callback(client, form)
            assert status == answer, problem

"""The worker (and embedded serve) runs the scheduler unless CALLREC_SCHEDULER is off."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable

import pytest
from aiohttp import web

from callrec.app import create_app, create_worker_app
from common.settings import Settings


async def started(app: web.Application) -> None:
    runner = web.AppRunner(app)
    await runner.setup()  # runs the cleanup contexts' start halves
    await runner.cleanup()


@pytest.mark.parametrize("build", [create_worker_app, lambda s: create_app(s, run_worker=True)])
async def test_the_worker_starts_and_stops_the_scheduler_with_its_six_jobs(
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
    build: Callable[[Settings], web.Application],
) -> None:
    caplog.set_level(logging.INFO, logger="retention.scheduler")
    await started(build(dataclasses.replace(settings, scheduler=True)))
    assert "started with 6 jobs" in caplog.text


async def test_the_scheduler_can_be_switched_off(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="retention.scheduler")
    await started(create_worker_app(settings))  # the test settings switch it off
    assert "started" not in caplog.text
    assert Settings.from_env({"CALLREC_SCHEDULER": "false"}).scheduler is False

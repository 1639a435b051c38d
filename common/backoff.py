"""Exponential backoff for background work that failed and will be tried again."""

from __future__ import annotations

from datetime import timedelta


def backoff(attempt: int, *, first: timedelta, most: timedelta) -> timedelta:
    """Delay before try ``attempt`` + 1: ``first``, then doubling, never more than ``most``."""
    delay: timedelta = first * 2 ** max(attempt - 1, 0)
    return min(delay, most)

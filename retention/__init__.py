"""Retention policies, legal holds and the scheduled lifecycle jobs."""

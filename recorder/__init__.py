"""Telephony ingest: webhook handlers, signature checks, audio processing and ingest jobs."""

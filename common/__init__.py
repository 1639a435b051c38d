"""Plumbing every layer may use: settings, logging, metrics, backoff, error types.

The lowest room: it imports nothing of the project, so any package can import it.
"""

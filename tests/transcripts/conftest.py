"""Fixtures of the transcription tests (the model and engine come from tests/conftest.py)."""

from tests.transcripts.helpers import api, transcribe_settings  # noqa: F401 - fixtures

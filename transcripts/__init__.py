"""Transcripts on premises: speech-to-text jobs, sealed transcripts, the blind keyword index.

Beside :mod:`recorder`, not above it: neither imports the other. The composition root hands
the ingest worker the hook that queues a transcription when a call becomes ready, hands the
transcription job the recording's rendition, and adds this room's rows to the recordings'
erasure (see ``rights.sweeps``).
"""

"""Compliance documents generated from the live system: privacy notices, the Art. 30 record
and the evidence a supervisor asks for (no HTTP)."""

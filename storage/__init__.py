"""Persistence: PostgreSQL (pool, migrations), object stores, encryption and the keyring."""

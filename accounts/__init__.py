"""Staff accounts: passwords, sessions, the role and permission table, playback purposes.

It owns the ``users`` and ``sessions`` tables; the API calls its typed functions.
"""

"""callrec: call recording and customer register for privacy-serious organisations.

This package is the composition root: the CLI, the app factory, the embedded PostgreSQL and
the wiring of the packages below it into one aiohttp application and its background jobs.
"""

__version__ = "0.1.0"

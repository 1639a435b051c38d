"""callrec: call recording and customer register for privacy-serious organisations.

This package is the composition root: settings, logging, the CLI and the wiring of the
``storage``, ``api``, ``recorder`` and ``retention`` packages into one aiohttp application.
"""

__version__ = "0.1.0"

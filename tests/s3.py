"""Settings that point an app at the test run's S3 server, on a bucket of its own."""

from __future__ import annotations

import dataclasses
import secrets

from common.settings import Secret, Settings


def on_s3(settings: Settings, s3_endpoint: tuple[str, str, str]) -> Settings:
    """``settings`` with objects in a fresh bucket on the S3-protocol test server."""
    endpoint, access, secret = s3_endpoint
    return dataclasses.replace(
        settings,
        s3_endpoint=endpoint,
        s3_access_key=Secret(access),
        s3_secret_key=Secret(secret),
        s3_bucket="t-" + secrets.token_hex(6),
        s3_secure=False,
    )

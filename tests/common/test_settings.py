"""Settings: contract variables parse, bad values name the variable, secrets never print."""

from __future__ import annotations

from pathlib import Path

import pytest

from common.settings import Secret, Settings, SettingsError


def test_defaults_are_the_embedded_mode() -> None:
    settings = Settings.from_env({})
    assert settings.data_dir == Path("./var")
    assert settings.embedded_database
    assert not settings.uses_s3
    assert settings.port == 8080
    assert settings.keyring_path == Path("./var/keyring.txt")


def test_every_contract_variable_is_read() -> None:
    env = {
        "CALLREC_DATA_DIR": "/srv/callrec",
        "CALLREC_DATABASE_URL": "postgresql://u:pw@db:5432/callrec",
        "CALLREC_S3_ENDPOINT": "minio:9000",
        "CALLREC_S3_ACCESS_KEY": "access",
        "CALLREC_S3_SECRET_KEY": "secret-key",
        "CALLREC_S3_BUCKET": "recordings",
        "CALLREC_S3_SECURE": "false",
        "CALLREC_WEBHOOK_SECRET": "0123456789abcdef0123",
        "CALLREC_TWILIO_AUTH_TOKEN": "twilio-token",
        "CALLREC_KEYRING": "/run/secrets/keyring.txt",
        "CALLREC_FETCH_ALLOWED_HOSTS": "api.twilio.com, pbx.example.fi:8443",
        "CALLREC_HOST": "0.0.0.0",  # noqa: S104 - a value under test, nothing binds
        "CALLREC_PORT": "9090",
    }
    settings = Settings.from_env(env)
    assert settings.database_url == Secret("postgresql://u:pw@db:5432/callrec")
    assert settings.s3_endpoint == "minio:9000"
    assert settings.s3_secure is False
    assert settings.s3_bucket == "recordings"
    assert settings.fetch_allowed_hosts == ("api.twilio.com", "pbx.example.fi:8443")
    assert settings.keyring_path == Path("/run/secrets/keyring.txt")
    assert settings.port == 9090
    assert settings.host == "0.0.0.0"  # noqa: S104 - a value under test
    assert Settings.names() >= set(env)


def test_secrets_never_print() -> None:
    settings = Settings.from_env(
        {"CALLREC_DATABASE_URL": "postgresql://u:hunter2@db/x", "CALLREC_WEBHOOK_SECRET": "s" * 20}
    )
    text = repr(settings) + str(settings)
    assert "hunter2" not in text
    assert "ssssssss" not in text


def refused_naming_each(env: dict[str, str]) -> str:
    """Start-up refuses ``env`` with one message naming every variable in it; the message."""
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    message = str(caught.value)
    for name in env:
        assert name in message
    return message


def test_all_problems_are_reported_at_once_naming_each_variable() -> None:
    message = refused_naming_each(
        {
            "CALLREC_PORT": "eighty",
            "CALLREC_S3_SECURE": "maybe",
            "CALLREC_DATABASE_URL": "mysql://root:topsecret@x/y",
            "CALLREC_WEBHOOK_SECRET": "short",
            "CALLREC_S3_BUCKET": "Bad_Bucket",
            "CALLREC_PROT": "1",
        }
    )
    assert "topsecret" not in message
    assert "short" not in message.split("CALLREC_WEBHOOK_SECRET")[1].split("\n")[0]


def test_s3_endpoint_needs_keys() -> None:
    with pytest.raises(SettingsError, match="CALLREC_S3_ACCESS_KEY"):
        Settings.from_env({"CALLREC_S3_ENDPOINT": "minio:9000"})


@pytest.mark.parametrize("port", ["0", "65536", "-1"])
def test_port_range(port: str) -> None:
    with pytest.raises(SettingsError, match="CALLREC_PORT"):
        Settings.from_env({"CALLREC_PORT": port})


def test_upload_limits_parse_and_default() -> None:
    defaults = Settings.from_env({})
    assert (defaults.max_uploads_per_peer, defaults.upload_min_rate_kibps) == (8, 64)
    assert (defaults.upload_grace_seconds, defaults.trusted_proxies) == (10.0, ())
    settings = Settings.from_env(
        {
            "CALLREC_MAX_UPLOADS_PER_PEER": "4",
            "CALLREC_UPLOAD_GRACE_SECONDS": "2.5",
            "CALLREC_UPLOAD_MIN_RATE_KIBPS": "16",
            "CALLREC_TRUSTED_PROXIES": "10.0.0.5, 192.168.0.0/16,::1",
        }
    )
    assert settings.max_uploads_per_peer == 4
    assert settings.upload_grace_seconds == 2.5
    assert settings.upload_min_rate_kibps == 16
    assert [str(n) for n in settings.trusted_proxies] == [
        "10.0.0.5/32",
        "192.168.0.0/16",
        "::1/128",
    ]


def test_bad_upload_limits_are_all_reported() -> None:
    refused_naming_each(
        {
            "CALLREC_MAX_UPLOADS_PER_PEER": "0",
            "CALLREC_UPLOAD_GRACE_SECONDS": "nan",
            "CALLREC_UPLOAD_MIN_RATE_KIBPS": "fast",
            "CALLREC_TRUSTED_PROXIES": "10.0.0.5/8",
        }
    )


def test_timezone_defaults_to_helsinki_and_bad_zones_are_reported_with_the_rest() -> None:
    assert Settings.from_env({}).timezone.key == "Europe/Helsinki"
    assert Settings.from_env({"CALLREC_TIMEZONE": "Europe/Stockholm"}).timezone.key == (
        "Europe/Stockholm"
    )
    for bad in ("Europe/Helsingfors", "../etc/passwd", "Finland time"):
        message = refused_naming_each({"CALLREC_TIMEZONE": bad, "CALLREC_PORT": "eighty"})
        assert "Europe/Helsinki" in message

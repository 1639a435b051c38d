"""docker-compose.yml cannot run here (no Docker), so check what can be checked."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from callrec.embedded import PRIVATE_LOG_SETTINGS
from common.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def load() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def test_compose_names_the_services_and_real_images() -> None:
    services = load()["services"]
    assert {"postgres", "minio", "minio-init", "api", "worker"} <= set(services)
    assert services["worker"]["command"] == ["worker", "--jobs", "ingest"]
    assert services["transcriber"]["profiles"] == ["transcribe"]
    assert "--jobs transcribe" in services["transcriber"]["entrypoint"][-1]
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["minio"]["image"].startswith("minio/minio:")
    assert services["minio-init"]["image"].startswith("minio/mc:")
    assert services["api"]["build"] == "."
    for name in ("postgres", "minio", "api"):
        assert "healthcheck" in services[name], name


def test_every_callrec_variable_in_compose_is_a_real_setting() -> None:
    services = load()["services"]
    used = {
        key
        for service in services.values()
        for key in (service.get("environment") or {})
        if key.startswith("CALLREC_")
    }
    assert used, "the api service must be configured through CALLREC_* variables"
    assert used <= Settings.names(), used - Settings.names()


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    packages = [
        p.name
        for p in ROOT.iterdir()
        if (p / "__init__.py").exists() and p.name not in {"tests", "bench"}
    ]
    for package in packages:
        assert f"COPY {package} ./{package}" in dockerfile, package


def test_compose_postgres_keeps_row_values_out_of_its_log() -> None:
    command = load()["services"]["postgres"]["command"]
    assert command[0] == "postgres"
    flags = command[1::2]
    assert set(flags) == {"-c"}
    given = dict(setting.split("=", 1) for setting in command[2::2])
    assert given == PRIVATE_LOG_SETTINGS

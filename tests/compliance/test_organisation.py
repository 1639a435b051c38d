"""The organisation profile: the example loads, a bad file names every bad field, and a
missing file leaves every fact to be completed."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Final

import pytest

from callrec.app import create_app
from callrec.cli import main
from common.settings import Settings
from compliance.organisation import (
    REGISTERS,
    OrganisationError,
    load_organisation,
)

EXAMPLE: Final = Path(__file__).parents[2] / "compliance" / "organisation.example.toml"
BAD: Final = """
[controller]
name = "Esimerkki Oy"
y_tunnus = "1234567-2"
adress = "Toinen linja 14"

[dpo]
contact = 42

[[processors]]
name = "Puhelin Oy"
registers = ["calls"]
"""
BAD_FIELDS: Final = (
    "controller.y_tunnus",
    "controller.adress",
    "dpo.contact",
    "processors[0].role",
    "processors[0].registers",
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "organisation.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_complete_and_valid() -> None:
    organisation = load_organisation(EXAMPLE)
    assert organisation.y_tunnus == "1234567-1"
    assert organisation.missing() == []
    assert organisation.processors is not None
    assert {p.name for p in organisation.processors if "call_recordings" in p.registers}
    assert organisation.transfers == ()


def test_without_a_file_every_fact_is_to_be_completed() -> None:
    assert load_organisation(None).missing() == [
        "controller.name",
        "controller.y_tunnus",
        "controller.address",
        "controller.contact",
        "dpo.contact",
        "recipients",
        "processors",
        "transfers",
    ]


def test_an_absent_key_is_to_be_completed_and_an_empty_list_means_none(tmp_path: Path) -> None:
    organisation = load_organisation(
        write(tmp_path, 'recipients = []\n[controller]\nname = "Esimerkki Oy"\n')
    )
    assert organisation.recipients == ()
    assert "recipients" not in organisation.missing()
    assert "processors" in organisation.missing()
    assert "transfers" not in organisation.missing()  # a profile that names none has none


def test_a_bad_file_names_every_bad_field(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError) as caught:
        load_organisation(write(tmp_path, BAD))
    message = str(caught.value)
    for name in BAD_FIELDS:
        assert name in message
    assert "check digit" in message
    assert len(caught.value.problems) == len(BAD_FIELDS)


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("[controller\nname = 1", "not valid TOML"),
        ("controller = 5", "controller: must be a table"),
        ("[[recipients]]\nname = ''\nrole = 'x'", "recipients[0].name: must be non-empty text"),
        ("[[transfers]]\nrecipient = 'X Inc.'\ncountry = 'US'", "transfers[0].safeguard: missing"),
    ],
)
def test_each_kind_of_mistake_is_named(tmp_path: Path, text: str, said: str) -> None:
    with pytest.raises(OrganisationError, match=re.escape(said)):
        load_organisation(write(tmp_path, text))


def test_a_file_that_cannot_be_read_is_named(tmp_path: Path) -> None:
    with pytest.raises(OrganisationError, match="cannot read the file"):
        load_organisation(tmp_path / "nowhere.toml")


def test_text_in_three_languages_falls_back_to_one_given(tmp_path: Path) -> None:
    path = write(tmp_path, '[[processors]]\nname = "Host Oy"\nrole = { en = "hosting" }\n')
    organisation = load_organisation(path)
    assert organisation.processors is not None
    assert organisation.processors[0].role.read("fi") == "hosting"
    assert organisation.processors[0].registers == REGISTERS


def test_a_bad_profile_stops_the_app_before_it_starts(tmp_path: Path) -> None:
    settings = Settings(organisation_file=write(tmp_path, BAD))
    with pytest.raises(OrganisationError, match=r"controller\.y_tunnus"):
        create_app(settings)


def test_serve_refuses_a_bad_profile_with_a_message_and_no_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CALLREC_ORGANISATION_FILE", str(write(tmp_path, BAD)))
    monkeypatch.setenv("CALLREC_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CALLREC_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("CALLREC_WEBHOOK_SECRET", "s" * 32)
    for command in (["serve"], ["compliance", "record"]):
        assert main(command) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        assert "invalid organisation profile" in err
        for name in BAD_FIELDS:
            assert name in err


def test_the_settings_read_the_profile_path_and_transcription() -> None:
    settings = Settings.from_env(
        {"CALLREC_ORGANISATION_FILE": "/etc/callrec/org.toml", "CALLREC_TRANSCRIBE": "on"}
    )
    assert settings.organisation_file == Path("/etc/callrec/org.toml")
    assert settings.transcribe is True
    assert Settings.from_env({}).transcribe is False
    assert dataclasses.replace(settings, transcribe=False).transcribe is False

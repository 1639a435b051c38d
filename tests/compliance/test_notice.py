"""The notices and the record, built from facts without a server: every language, every
section, the live settings, the marks, and the three output formats."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from common.settings import Settings
from compliance.content import Facts
from compliance.notice import build_notice
from compliance.organisation import REGISTERS, Organisation, load_organisation
from compliance.record import record_csv, record_of_processing
from compliance.render import STYLE, STYLE_HASH, as_json, html_page, markdown
from compliance.texts import CUSTOMER_GOALS, DATA_ITEMS, TEXT
from rights.wording import LANGUAGES, Language, language_of
from tests.compliance.test_organisation import EXAMPLE

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
SECTIONS = (
    "controller",
    "contact",
    "name",
    "purpose",
    "content",
    "sources",
    "disclosures",
    "transfers",
    "protection",
    "retention",
    "rights",
    "complaint",
)


def facts(
    organisation: Organisation | None = None, kinds: tuple[str, ...] = (), **settings: object
) -> Facts:
    live = dataclasses.replace(Settings(), **settings)  # type: ignore[arg-type]
    return Facts(live, organisation or Organisation(), kinds, NOW)


def text_of(register: str, language: str, given: Facts) -> str:
    return markdown(build_notice(register, given, language_of(language)), Settings().timezone)


def test_the_three_languages_have_the_same_words() -> None:
    for language in LANGUAGES:
        assert TEXT[language].keys() == TEXT["fi"].keys(), language
        assert DATA_ITEMS[language].keys() == set(REGISTERS)
        assert len(CUSTOMER_GOALS[language]) == len(CUSTOMER_GOALS["fi"])
        for register in REGISTERS:
            assert len(DATA_ITEMS[language][register]) == len(DATA_ITEMS["fi"][register])


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("register", REGISTERS)
def test_every_notice_has_the_seed_documents_sections(register: str, language: Language) -> None:
    notice = build_notice(register, facts(load_organisation(EXAMPLE)), language)
    assert tuple(s.key for s in notice.sections) == SECTIONS
    assert notice.missing() == []
    assert "[" not in markdown(notice, Settings().timezone)  # no mark anywhere


def test_without_a_profile_each_missing_fact_is_marked_not_invented() -> None:
    notice = build_notice("call_recordings", facts(), "fi")
    assert notice.missing() == [
        "controller.name",
        "controller.y_tunnus",
        "controller.address",
        "controller.contact",
        "dpo.contact",
        "recipients",
        "processors",
        "transfers",
    ]
    text = markdown(notice, Settings().timezone)
    assert "Y-tunnus: **[täydennettävä: Y-tunnus]**" in text
    assert "**[täydennettävä: siirrot EU:n ja ETA:n ulkopuolelle]**" in text
    assert "[to be completed: business ID (Y-tunnus)]" in text_of("customers", "en", facts())


def test_the_retention_periods_are_the_settings() -> None:
    given = facts(retention_recordings_days=45, retention_contact_log_days=730)
    assert "Puhelutallenteet: säilytysaika 45 päivää puhelun päivästä." in text_of(
        "call_recordings", "fi", given
    )
    assert "Samtalsinspelningar: lagringstid 45 dagar" in text_of("call_recordings", "sv", given)
    assert "kept for 2 years from the day of the entry" in text_of("customers", "en", given)
    assert "45" not in text_of("customers", "en", given)  # each register its own categories


def test_the_access_target_is_the_setting() -> None:
    assert "Vastaamme 14 päivän kuluessa." in text_of("customers", "fi", facts())
    assert "within 10 days" in text_of("customers", "en", facts(subject_request_due_days=10))


def test_keep_original_and_transcription_follow_the_settings() -> None:
    off = text_of("call_recordings", "en", facts())
    assert "We do not keep the original audio file." in off
    assert "Speech is not turned into text." in off
    on = text_of("call_recordings", "en", facts(keep_original=True, transcribe=True))
    assert "We also keep the original audio file" in on
    assert "Speech is turned into text by machine." in on


INDEX_SAID: dict[Language, str] = {
    "fi": "avaimellinen tiiviste",
    "sv": "nycklad hash",
    "en": "keyed hash",
}


def test_the_keyword_index_and_kept_transcripts_are_told_as_they_are() -> None:
    on = facts(transcribe=True)
    kept = dataclasses.replace(facts(), transcripts_kept=True)
    for language, words in INDEX_SAID.items():
        transcript = TEXT[language]["data.transcript"]
        said = text_of("call_recordings", language, on)
        assert words in said, language
        assert TEXT[language]["transcribe.index"] in said
        assert transcript in said  # among the kinds of data
        record = record_of_processing(on, language_of(language))["registers"][0]
        assert transcript in record["personal_data"]
        stopped = text_of("call_recordings", language, kept)
        assert TEXT[language]["transcribe.stopped"] in stopped
        assert transcript in stopped
        assert words not in stopped
        assert TEXT[language]["transcribe.off"] in text_of("call_recordings", language, facts())
    never = record_of_processing(facts())["registers"][0]["personal_data"]
    assert TEXT["en"]["data.transcript"] not in never
    assert TEXT["en"]["data.transcript"] not in text_of("customers", "en", on)


def test_keys_are_said_to_be_apart_only_when_they_are(tmp_path: Path) -> None:
    apart = "The keys are kept apart from the recordings."
    embedded = facts(data_dir=tmp_path / "data")
    assert apart not in text_of("call_recordings", "en", embedded)
    own = facts(data_dir=tmp_path / "data", keyring=tmp_path / "secrets" / "ring.txt")
    assert apart in text_of("call_recordings", "en", own)
    assert apart in text_of("call_recordings", "en", facts(s3_endpoint="s3.example.fi"))


def test_who_may_listen_and_why_comes_from_the_role_table() -> None:
    text = text_of("call_recordings", "fi", facts())
    assert "- Asiakaspalvelu: kuuntelee puhelun, kun pitää tarkistaa, mitä sovittiin." in text
    assert "- Kouluttaja: kuuntelee koulutukseen valittuja puheluita." in text
    assert "Tallenteen voi ladata tiedostona vain: tietosuojavastaava." in text
    assert "Kerromme puhelun alussa, että puhelu tallennetaan." in text
    customers = text_of("customers", "en", facts())
    assert "a housing advisor (only their own customers, without the personal identity code)" in (
        customers
    )


def test_two_factor_and_single_sign_on_appear_once_configured() -> None:
    configured = facts(require_2fa_roles=("admin", "dpo"), oidc_issuer="https://login.example.fi")
    text = text_of("customers", "en", configured)
    assert "two ways of identification: the main user, the data protection officer." in text
    assert "single sign-on" in text
    neither = text_of("customers", "en", facts(require_2fa_roles=(), oidc_issuer=None))
    assert "two ways" not in neither
    assert "single sign-on" not in neither


def test_the_disclosure_log_kinds_are_listed() -> None:
    text = text_of("customers", "fi", facts(kinds=("authority", "debt_collection")))
    assert "- viranomaiset, joilla on lain mukaan oikeus tietoihin\n- perintä" in text
    assert "Luovutuslokissa ei ole yhtään luovutusta." in text_of("customers", "fi", facts())


def test_the_profile_parties_go_to_their_own_register() -> None:
    organisation = load_organisation(EXAMPLE)
    calls = text_of("call_recordings", "sv", facts(organisation))
    assert "Puhelinpalvelu Oy: telefonsystem och inspelning av samtal" in calls
    assert "Perintä Oy" not in calls
    assert "Vi lämnar inte regelbundet ut uppgifter till andra." in calls
    assert "Perintä Oy: vuokrasaatavien perintä" in text_of("customers", "fi", facts(organisation))


def test_html_has_languages_headings_marks_and_no_script() -> None:
    notices = [build_notice(r, facts(), "sv") for r in REGISTERS]
    page = html_page(notices, "sv", Settings().timezone, lambda lang: f"/privacy?lang={lang}")
    assert page.startswith('<!doctype html>\n<html lang="sv">')
    assert "<script" not in page
    assert '<a href="/privacy?lang=fi" lang="fi" hreflang="fi">Suomeksi</a>' in page
    assert page.count("<h1>") == 1
    assert page.count("<h2 ") == 2  # one per register
    assert len(re.findall(r"<h3>\d+\. ", page)) == 2 * len(SECTIONS)
    assert '<mark class="todo">[ska kompletteras: FO-nummer]</mark>' in page
    assert "@media print" in STYLE
    assert len(STYLE_HASH) == 44


def test_html_escapes_what_the_profile_says(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text('[controller]\nname = "<script>alert(1)</script> Oy"\n', encoding="utf-8")
    notice = build_notice("customers", facts(load_organisation(path)), "fi")
    page = html_page([notice], "fi", Settings().timezone, lambda lang: f"?lang={lang}")
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Oy" in page


def test_json_lists_sections_and_missing_facts() -> None:
    document = as_json(build_notice("customers", facts(), "en"))
    assert [s["number"] for s in document["sections"]] == list(range(1, len(SECTIONS) + 1))
    assert document["to_be_completed"][0] == "controller.name"
    first = document["sections"][0]["blocks"][0]
    assert first == {"paragraph": "[to be completed: the controller's name]"}


def test_the_record_covers_article_30_for_both_registers() -> None:
    record = record_of_processing(facts(load_organisation(EXAMPLE), ("maintenance",)))
    assert record["controller"]["y_tunnus"] == "1234567-1"
    assert [r["register"] for r in record["registers"]] == list(REGISTERS)
    for register in record["registers"]:
        for key in (
            "purposes",
            "data_subjects",
            "personal_data",
            "recipients",
            "processors",
            "transfers",
            "retention",
            "security_measures",
        ):
            assert register[key] is not None, key
    customers = record["registers"][1]
    assert customers["disclosure_log_recipient_kinds"] == ["maintenance and repairs"]
    assert {k: customers["retention"][0][k] for k in ("category", "days")} == {
        "category": "contact_log",
        "days": 1095,
    }
    assert record["to_be_completed"] == []


def test_the_record_without_a_profile_says_null_and_names_the_gaps() -> None:
    record = record_of_processing(facts(), "fi")
    assert record["controller"]["name"] is None
    assert record["registers"][0]["transfers"] is None
    assert "controller.y_tunnus" in record["to_be_completed"]
    assert record["registers"][0]["name"] == "Asiakaspuheluiden tallenteet"


def test_the_record_csv_is_one_fact_a_row_and_runs_no_formula(tmp_path: Path) -> None:
    path = tmp_path / "org.toml"
    path.write_text('[controller]\nname = "=HYPERLINK(1)"\n', encoding="utf-8")
    text = record_csv(record_of_processing(facts(load_organisation(path))))
    assert text.startswith("\ufeffregister,item,value")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert ["", "controller.name", "'=HYPERLINK(1)"] in rows
    assert ["call_recordings", "retention.days", "90"] in rows
    assert all(len(row) == 3 for row in rows)

"""The console's transcript logic without a browser: which word is lit at a moment
(``spoken.js``) and which personal data the DPO is offered as spans (``pii.js``), run under
Node.js (which the single sign-on tests need too) on the modules the browser loads."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any, Final

import pytest

from tests.console.text import STATIC

NODE: Final = shutil.which("node")
RUN: Final = """
import { suggestions } from "%(static)s/pii.js";
import { spokenAt, timeline } from "%(static)s/spoken.js";
const cases = JSON.parse(process.argv[1]);
const answer = cases.map(([kind, input]) => kind === "suggest"
  ? suggestions(input.transcript, input.customer, input.duration ?? Infinity)
  : spokenAt(timeline(input.segments), input.time).map((w) => input.segments[w.segment].words[w.word].word));
console.log(JSON.stringify(answer));
"""


def segment(channel: str, start: float, text: str) -> dict[str, Any]:
    """A segment whose words take 0.5 s each (0.4 s spoken) from ``start``."""
    words = [
        {"start": start + 0.5 * i, "end": start + 0.5 * i + 0.4, "word": f" {word}"}
        for i, word in enumerate(text.split())
    ]
    return {
        "start": start,
        "end": words[-1]["end"],
        "channel": channel,
        "text": text,
        "words": words,
    }


def run(*cases: tuple[str, dict[str, Any]]) -> list[Any]:
    """Each case's answer from the console's own modules."""
    if NODE is None:
        pytest.fail("node is missing: `make test` installs Node.js for the sign-on tests")
    script = RUN % {"static": STATIC.as_uri()}
    done = subprocess.run(
        [NODE, "--input-type=module", "-e", script, json.dumps(cases)],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    answer: list[Any] = json.loads(done.stdout)
    return answer


def found(text: str, customer: dict[str, str] | None = None, **extra: Any) -> list[tuple[str, str]]:
    """(kind, words) of the suggestions for a customer's segment saying ``text``."""
    transcript = {"language": "fi", "segments": [segment("customer", 1.0, text)]}
    [answer] = run(("suggest", {"transcript": transcript, "customer": customer, **extra}))
    return [(s["kind"], s["text"]) for s in answer]


MAIJA: Final = {"first_name": "Maija", "last_name": "Mäkinotkelma"}


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("tunnus on 131052-308T kiitos", [("henkilotunnus", "131052-308T")]),
        ("se on 010203A123B.", [("henkilotunnus", "010203A123B.")]),
        (
            "yksi kolme yksi nolla viisi kaksi viiva kolme nolla kahdeksan T ok",
            [("henkilotunnus", "yksi kolme yksi nolla viisi kaksi viiva kolme nolla kahdeksan T")],
        ),
        ("131052 A 308 T", [("henkilotunnus", "131052 A 308 T")]),
        ("soita +358 40 123 4567, kiitos", [("phone", "+358 40 123 4567,")]),
        (
            "numero 0401234567 ja 131052-308T",
            [("phone", "0401234567"), ("henkilotunnus", "131052-308T")],
        ),
        ("postinumero 00530 kello 14 30 asunto 12", []),
        ("osoite maija@example.fi.", [("email", "maija@example.fi.")]),
        ("maija ät example piste fi kiitos", [("email", "maija ät example piste fi")]),
        ("olen kotona at five piste", []),
    ],
)
def test_numbers_and_addresses_are_found_in_words_as_written_or_spoken(
    said: str, expected: list[tuple[str, str]]
) -> None:
    assert sorted(found(said)) == sorted(expected)


def test_the_customers_names_are_found_inflected_and_only_with_a_customer() -> None:
    said = "Maijan asia, lähetän Mäkinotkelmalle. Maijalaiset kysyivät myös"
    assert found(said, MAIJA) == [
        ("first_name", "Maijan"),
        ("last_name", "Mäkinotkelmalle."),
        ("first_name", "Maijalaiset"),  # a suggestion, never applied without the DPO's click
    ]
    assert found(said) == []
    assert found("Virtasen ja Virtanen", {"first_name": "Li", "last_name": "Virtanen"}) == [
        ("last_name", "Virtasen"),
        ("last_name", "Virtanen"),
    ]
    assert found("lisää Li", {"first_name": "Li", "last_name": "X"}) == [("first_name", "Li")]


def test_a_span_covers_the_words_with_a_margin_within_the_call_on_their_channel() -> None:
    transcript = {
        "language": "fi",
        "segments": [
            segment("mono", 0.0, "131052-308T on"),
            segment("agent", 2.0, "soita 0401234567"),
        ],
    }
    [answer] = run(("suggest", {"transcript": transcript, "customer": None, "duration": 2.8}))
    assert answer == [
        {"kind": "henkilotunnus", "start": 0, "end": 0.6, "channel": "both", "text": "131052-308T"},
        {"kind": "phone", "start": 2.3, "end": 2.8, "channel": "agent", "text": "0401234567"},
    ]


def test_the_lit_word_follows_time_per_channel_and_holds_through_a_pause() -> None:
    segments = [segment("agent", 1.0, "yksi kaksi kolme"), segment("customer", 1.7, "joo selvä")]
    answers = run(
        *[
            ("spoken", {"segments": segments, "time": t})
            for t in (0.5, 1.0, 1.45, 1.6, 1.8, 2.45, 5.0)
        ]
    )
    assert answers == [
        [],
        [" yksi"],
        [" yksi"],  # the pause after a word keeps it lit until the next begins
        [" kaksi"],
        [" kaksi", " joo"],  # both talk at once: both lit
        [" selvä"],  # the agent's segment ended at 2.4
        [],
    ]

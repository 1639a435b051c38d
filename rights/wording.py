"""Plain-language words for retention periods and the data subject's rights, in fi/sv/en.

The privacy notice (``compliance``) and the access copy a person receives (``rights.export``)
must say the same thing in the same words: a person who compares the two should not find two
versions of how long their calls are kept. So both read them from here. The texts follow
selkokieli: short sentences, the reader addressed as "you", no article numbers in the text.
Every figure comes from the live settings the caller passes in; nothing here is a number.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal, get_args

from common.settings import RETENTION_DEFAULTS, Settings

Language = Literal["fi", "sv", "en"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)
DEFAULT_LANGUAGE: Final[Language] = "fi"


def language_of(value: str | None) -> Language:
    """``value`` when it is one of our languages, else Finnish (the register's default)."""
    for language in LANGUAGES:
        if value == language:
            return language
    return DEFAULT_LANGUAGE


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


_UNITS: Final[dict[Language, tuple[tuple[str, str], tuple[str, str]]]] = {
    "fi": (("vuosi", "vuotta"), ("päivä", "päivää")),
    "sv": (("år", "år"), ("dag", "dagar")),
    "en": (("year", "years"), ("day", "days")),
}


def period(days: int, language: Language) -> str:
    """A period in words: whole years as years ("3 vuotta"), anything else as days."""
    years, day_units = _UNITS[language]
    if days >= 365 and days % 365 == 0:
        return _plural(days // 365, *years)
    return _plural(days, *day_units)


@dataclass(frozen=True)
class Retention:
    """One category of data: what it is, and from when its period is counted."""

    what: str
    counted_from: str


# Keyed like common.settings.RETENTION_DEFAULTS; a test checks that every key is here.
RETENTION: Final[dict[Language, dict[str, Retention]]] = {
    "fi": {
        "recordings": Retention("Puhelutallenteet", "puhelun päivästä"),
        "training": Retention("Koulutukseen valitut puhelut", "puhelun päivästä"),
        "failed_ingest": Retention(
            "Puhelut, joiden tallennus epäonnistui", "viimeisestä yrityksestä"
        ),
        "contact_log": Retention("Yhteydenpito (puhelut, viestit, käynnit)", "merkinnän päivästä"),
        "applicants": Retention(
            "Asunnon hakijan tiedot, jos et saanut asuntoa", "viimeisestä muutoksesta"
        ),
        "former_tenants": Retention(
            "Entisen vuokralaisen tiedot", "siitä, kun viimeinen vuokrasopimus päättyi"
        ),
        "exports": Retention("Sinulle tehty kopio tiedoistasi", "kopion tekemisestä"),
        "audit_log": Retention("Merkinnät siitä, kuka käsitteli tietojasi", "merkinnän päivästä"),
    },
    "sv": {
        "recordings": Retention("Samtalsinspelningar", "från samtalets dag"),
        "training": Retention("Samtal som valts för utbildning", "från samtalets dag"),
        "failed_ingest": Retention("Samtal som inte kunde sparas", "från sista försöket"),
        "contact_log": Retention(
            "Kontakter (samtal, meddelanden, besök)", "från anteckningens dag"
        ),
        "applicants": Retention(
            "Uppgifter om bostadssökande som inte fick en bostad", "från sista ändringen"
        ),
        "former_tenants": Retention(
            "Uppgifter om tidigare hyresgäster", "från att det sista hyresavtalet tog slut"
        ),
        "exports": Retention(
            "Kopian av dina uppgifter som vi gjort åt dig", "från att den gjordes"
        ),
        "audit_log": Retention(
            "Anteckningar om vem som har behandlat dina uppgifter", "från anteckningens dag"
        ),
    },
    "en": {
        "recordings": Retention("Call recordings", "from the day of the call"),
        "training": Retention("Calls chosen for staff training", "from the day of the call"),
        "failed_ingest": Retention("Calls that could not be saved", "from the last attempt"),
        "contact_log": Retention(
            "Contact history (calls, messages, visits)", "from the day of the entry"
        ),
        "applicants": Retention(
            "Data of applicants who did not get a home", "from the last change"
        ),
        "former_tenants": Retention("Data of former tenants", "from the end of the last lease"),
        "exports": Retention("The copy of your data we made for you", "from the day it was made"),
        "audit_log": Retention("Records of who handled your data", "from the day of the record"),
    },
}

_KEPT: Final[dict[Language, str]] = {
    "fi": "{what}: säilytysaika {period} {counted_from}.",
    "sv": "{what}: lagringstid {period} {counted_from}.",
    "en": "{what}: kept for {period} {counted_from}.",
}
_HOLD: Final[dict[Language, str]] = {
    "fi": "Jos tietoa tarvitaan riidan tai oikeusasian selvittämiseen, säilytämme sen pidempään. "
    "Poistamme sen, kun asia on selvitetty.",
    "sv": "Om en uppgift behövs för att reda ut en tvist eller ett rättsligt ärende sparar vi den "
    "längre. Vi raderar den när ärendet är utrett.",
    "en": "If we need an item to settle a dispute or a legal claim, we keep it longer. We delete "
    "it when the matter is settled.",
}


def retention_days(settings: Settings) -> dict[str, int]:
    """The live period of every category, in days, from the settings."""
    return {name: getattr(settings, f"retention_{name}_days") for name in RETENTION_DEFAULTS}


def retention_sentence(category: str, days: int, language: Language) -> str:
    """One category's period as a sentence ("Puhelutallenteet: säilytysaika 90 päivää …")."""
    words = RETENTION[language][category]
    return _KEPT[language].format(
        what=words.what, period=period(days, language), counted_from=words.counted_from
    )


def retention_sentences(
    settings: Settings, language: Language, categories: tuple[str, ...] | None = None
) -> list[str]:
    """The sentences for ``categories`` (default: every category), in that order."""
    days = retention_days(settings)
    chosen = categories if categories is not None else tuple(days)
    return [retention_sentence(name, days[name], language) for name in chosen]


def legal_hold_sentence(language: Language) -> str:
    """Why an item may be kept past its period (a legal hold), in plain words."""
    return _HOLD[language]


@dataclass(frozen=True)
class Right:
    """One right of the data subject: a short heading and a few short sentences."""

    key: str
    heading: str
    text: str


_RIGHTS: Final[dict[Language, tuple[tuple[str, str, str], ...]]] = {
    "fi": (
        (
            "access",
            "Saat tietää, mitä tietoja sinusta on",
            "Voit pyytää kopion kaikista tiedoistasi. Kopiossa ovat myös puhelut, joissa on "
            "sinun äänesi. Vastaamme {due} kuluessa. Laki sallii enintään kuukauden.",
        ),
        (
            "rectification",
            "Voit korjata väärän tiedon",
            "Jos tieto on väärin, kerro siitä meille. Korjaamme sen.",
        ),
        (
            "erasure",
            "Voit pyytää poistamaan tietosi",
            "Poistamme tiedot, joita emme enää tarvitse. Osa tiedoista on pakko säilyttää, "
            "esimerkiksi vuokrasopimuksen tai lain takia. Silloin kerromme, miksi.",
        ),
        (
            "restriction",
            "Voit pyytää rajoittamaan käsittelyä",
            "Voit pyytää, että emme käytä tietoja sillä aikaa, kun selvitämme asiaa.",
        ),
        (
            "objection",
            "Voit vastustaa käsittelyä",
            "Voit kieltää suoramarkkinoinnin milloin tahansa. Voit myös vastustaa muuta "
            "käsittelyä, joka perustuu meidän etuumme.",
        ),
        (
            "portability",
            "Saat tietosi koneluettavassa muodossa",
            "Kopiossa tiedot ovat myös tiedostoina, jotka voit siirtää toiseen palveluun.",
        ),
        (
            "complaint",
            "Voit valittaa tietosuojavaltuutetulle",
            "Jos olet sitä mieltä, että käsittelemme tietojasi väärin, voit tehdä valituksen "
            "tietosuojavaltuutetun toimistolle. Ohjeet ovat osoitteessa tietosuoja.fi.",
        ),
    ),
    "sv": (
        (
            "access",
            "Du får veta vilka uppgifter vi har om dig",
            "Du kan be om en kopia av alla dina uppgifter. I kopian finns också samtal där din "
            "röst hörs. Vi svarar inom {due}. Lagen tillåter högst en månad.",
        ),
        (
            "rectification",
            "Du kan rätta fel uppgifter",
            "Om en uppgift är fel, säg till oss. Vi rättar den.",
        ),
        (
            "erasure",
            "Du kan be oss radera dina uppgifter",
            "Vi raderar uppgifter som vi inte längre behöver. En del uppgifter måste vi spara, "
            "till exempel på grund av hyresavtalet eller lagen. Då berättar vi varför.",
        ),
        (
            "restriction",
            "Du kan be oss begränsa behandlingen",
            "Du kan be oss att inte använda uppgifterna medan vi utreder saken.",
        ),
        (
            "objection",
            "Du kan invända mot behandlingen",
            "Du kan när som helst förbjuda direktmarknadsföring. Du kan också invända mot annan "
            "behandling som bygger på vårt intresse.",
        ),
        (
            "portability",
            "Du får dina uppgifter i maskinläsbar form",
            "I kopian finns uppgifterna också som filer som du kan flytta till en annan tjänst.",
        ),
        (
            "complaint",
            "Du kan klaga hos dataombudsmannen",
            "Om du anser att vi behandlar dina uppgifter fel kan du klaga hos "
            "dataombudsmannens byrå. Anvisningar finns på tietosuoja.fi.",
        ),
    ),
    "en": (
        (
            "access",
            "You can find out what data we have about you",
            "You can ask for a copy of all your data. The copy includes calls in which your "
            "voice is heard. We answer within {due}. The law allows at most one month.",
        ),
        (
            "rectification",
            "You can have wrong data corrected",
            "If something is wrong, tell us. We will correct it.",
        ),
        (
            "erasure",
            "You can ask us to delete your data",
            "We delete data we no longer need. Some data we must keep, for example because of "
            "the lease or the law. Then we tell you why.",
        ),
        (
            "restriction",
            "You can ask us to restrict processing",
            "You can ask us not to use the data while we look into the matter.",
        ),
        (
            "objection",
            "You can object to processing",
            "You can forbid direct marketing at any time. You can also object to other "
            "processing that is based on our interest.",
        ),
        (
            "portability",
            "You get your data in a machine-readable form",
            "The copy also holds your data as files that you can move to another service.",
        ),
        (
            "complaint",
            "You can complain to the Data Protection Ombudsman",
            "If you think we handle your data wrongly, you can complain to the Office of the "
            "Data Protection Ombudsman. See tietosuoja.fi for how.",
        ),
    ),
}

_HOW_TO_ASK: Final[dict[Language, str]] = {
    "fi": "Kerro pyyntösi meille. Tarkistamme ensin, kuka olet. Näin tietosi eivät päädy "
    "väärälle henkilölle. Pyyntö on maksuton.",
    "sv": "Berätta för oss vad du vill. Vi kontrollerar först vem du är. Så hamnar dina "
    "uppgifter inte hos fel person. Det kostar ingenting.",
    "en": "Tell us what you want. We first check who you are. That way your data does not "
    "reach the wrong person. It costs nothing.",
}

HEADINGS: Final[dict[Language, Mapping[str, str]]] = {
    "fi": {"retention": "Kuinka kauan säilytämme tietoja", "rights": "Sinun oikeutesi"},
    "sv": {"retention": "Hur länge vi sparar uppgifterna", "rights": "Dina rättigheter"},
    "en": {"retention": "How long we keep the data", "rights": "Your rights"},
}


def rights(language: Language, due_days: int) -> list[Right]:
    """The data subject's rights; ``due_days`` is the internal target for an answer
    (``CALLREC_SUBJECT_REQUEST_DUE_DAYS``)."""
    due = period(due_days, language)
    if language == "fi":  # "14 päivän kuluessa": the genitive, whatever the unit
        due = f"{due_days} päivän"
    return [Right(key, heading, text.format(due=due)) for key, heading, text in _RIGHTS[language]]


def how_to_ask(language: Language) -> str:
    """How a person uses their rights: identity is checked first, and it is free."""
    return _HOW_TO_ASK[language]

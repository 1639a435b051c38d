"""The access export (GDPR Art. 15): one ZIP with everything callrec holds about a subject.

The recordings themselves go in, as Opus-in-Ogg audio files (a written summary is not
enough: the Finnish sanctions board fined a company for exactly that in 2023), with their
metadata as JSON and CSV, the register data, contact log, disclosures, marketing choices,
the access-log entries about them, a readable index in Finnish and English, and a SHA-256
manifest. The ZIP is produced as a stream (the zip writer never seeks, so it writes data
descriptors) straight into the encryptor: neither the archive nor a recording is ever whole
in memory or plaintext on disk.

What is left out: other people's protected data. Lease co-parties are not named, staff in
the access log appear by role, not by name (their identity is their own personal data), and
an address, phone or e-mail shared with a person under turvakielto (a shared home, say) is
masked as for any reader without the task (register/protection.py decides which).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import uuid
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any, Final

from accounts.users import account_id, housing_advisors, names_of, roles_by_id
from audit.log import entries_about, entries_by
from common.jsonready import json_ready
from common.settings import Settings
from recorder.annotations import annotations_of
from recorder.catalog import recordings_of_subject
from recorder.redaction import rendition_of
from register.consents import all_preferences
from register.contact_log import all_entries
from register.customers import get_customer
from register.disclosures import all_disclosures
from register.leases import leases_of
from register.protection import Reader, mask_contacts, mask_leases, protection_of
from register.staff import StaffDirectory
from rights.access_page import CopyContents, render
from rights.export_choices import choices_of
from rights.export_transcripts import TRANSCRIPT_KEYS, transcript_copies
from rights.wording import DEFAULT_LANGUAGE, Language, language_of, retention_sentences
from storage.db import Connection, jsonable
from storage.fieldcrypt import FieldCipher
from storage.objects import once
from storage.readahead import read_ahead
from storage.vault import Vault, load_sealed_many

# The accounts the register names (the assigned housing advisor in the customer record).
STAFF: Final = StaffDirectory(names_of=names_of, housing_advisors=housing_advisors)
RECORDING_COLUMNS: Final = (
    "file", "id", "started_at", "declared_duration_seconds", "measured_duration_seconds",
    "direction", "caller_number", "answered_by", "service_line", "channel_layout",
    "notice_played", *TRANSCRIPT_KEYS,
)  # fmt: skip


@dataclass(frozen=True)
class Subject:
    """Whose data: ``kind`` is customer, staff or phone; ``key`` the id, username or number."""

    kind: str
    key: str


@dataclass
class ExportResult:
    """Filled in while the stream is consumed."""

    files: int = 0
    recordings: int = 0
    manifest: list[tuple[str, str]] = field(default_factory=list)


class _Sink(io.RawIOBase):
    """A write-only, non-seekable buffer that the zip writer appends to and we drain."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


class ZipStream:
    """Add members one at a time; each ``add`` yields the archive bytes it produced."""

    def __init__(self, result: ExportResult, zone: tzinfo = UTC) -> None:
        self.sink = _Sink()
        self.zip = zipfile.ZipFile(self.sink, "w")
        self.result = result
        self.now = datetime.now(zone).timetuple()[:6]  # ZIP times have no zone: local

    async def add(
        self,
        name: str,
        chunks: AsyncIterable[bytes],
        *,
        compress: bool = True,
        sha256: bytes | None = None,
    ) -> AsyncIterator[bytes]:
        """Write one member from ``chunks`` and yield the archive bytes as they appear.

        ``sha256`` is the member's digest for the manifest when it is known already;
        otherwise it is computed on the way through.
        """
        info = zipfile.ZipInfo(name, date_time=self.now)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        digest = hashlib.sha256() if sha256 is None else None
        with self.zip.open(info, "w", force_zip64=True) as member:
            async for chunk in chunks:
                if digest is not None:
                    digest.update(chunk)
                member.write(chunk)
                if out := self.sink.drain():
                    yield out
        self.result.files += 1
        known = sha256 if digest is None else digest.digest()
        assert known is not None
        self.result.manifest.append((name, known.hex()))
        if out := self.sink.drain():
            yield out

    def finish(self) -> bytes:
        """The central directory."""
        self.zip.close()
        return self.sink.drain()

    def discard(self) -> None:
        """Close the writer without output (after a failure, or again after :meth:`finish`)."""
        with contextlib.suppress(ValueError):
            self.zip.close()
        self.sink.drain()


def in_zone(value: Any, zone: tzinfo) -> Any:
    """``value`` with every aware datetime inside it moved to ``zone``: the subject reads
    their call at 21:55+02:00, as it happened, not at 19:55+00:00 (the instant is the same)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {key: in_zone(item, zone) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_zone(item, zone) for item in value]
    return value


def _text(value: object) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _json(value: Any, zone: tzinfo) -> bytes:
    """Readable JSON for the subject; times ISO 8601 in ``zone`` with their offset."""
    return json.dumps(in_zone(value, zone), ensure_ascii=False, indent=2, default=_text).encode()


def _stem(recording: dict[str, Any]) -> str:
    """The member name of a call's files without the extension: when it started and the
    start of its id (no personal data), ``-redacted`` when the copy is the redacted one."""
    started = recording["started_at"][:19].replace(":", "")
    redacted = "-redacted" if recording["export"] == "redacted" else ""
    return f"recordings/{started}-{recording['id'][:8]}{redacted}"


def _csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")  # the BOM makes spreadsheets read UTF-8


class AccessExport:
    """Everything about one subject, as a ZIP stream."""

    def __init__(
        self,
        conn: Connection,
        vault: Vault,
        cipher: FieldCipher | None,
        settings: Settings,
        subject: Subject,
        on_progress: Callable[[int, int], Awaitable[None]] | None = None,
        *,
        request_id: uuid.UUID | None = None,
    ) -> None:
        self.conn = conn
        self.request_id = request_id  # whose copy choices (original or redacted) apply
        self.vault = vault
        self.cipher = cipher
        self.settings = settings
        self.subject = subject
        self.on_progress = on_progress
        self.result = ExportResult()
        self.zone = settings.timezone
        self.contents = CopyContents()
        self.language: Language = DEFAULT_LANGUAGE  # the register's, once it is read

    async def stream(self) -> AsyncIterator[bytes]:
        """The ZIP, member by member; if a source fails, the half-written archive is dropped."""
        archive = ZipStream(self.result, self.zone)
        try:
            async for out in self._members(archive):
                yield out
            yield archive.finish()
        finally:
            archive.discard()

    async def _members(self, archive: ZipStream) -> AsyncIterator[bytes]:
        recordings = [
            jsonable(in_zone(asdict(found), self.zone))
            for found in await recordings_of_subject(self.conn, self.subject.kind, self.subject.key)
        ]
        sealed_ids = [uuid.UUID(r.pop("audio_object_id")) for r in recordings]
        sealed_ids = await self._chosen_copies(recordings, sealed_ids)
        sealed = await load_sealed_many(self.conn, sealed_ids)
        audio = [  # (recording, its audio); one shredded meanwhile is listed without audio
            (recording, sealed[object_id])
            for recording, object_id in zip(recordings, sealed_ids, strict=True)
            if object_id in sealed
        ]
        stems = {r["id"]: _stem(r) for r in recordings}
        async with contextlib.aclosing(
            read_ahead(audio, lambda pair: self.vault.open_range(pair[1]))
        ) as streams:
            async for (recording, item), chunks in streams:
                recording["file"] = f"{stems[recording['id']]}.ogg"
                # AEAD decryption proves the bytes are the sealed plaintext, whose SHA-256
                # was recorded at ingest: no need to hash 270 kB per call again.
                async for out in archive.add(
                    recording["file"], chunks, compress=False, sha256=item.plaintext_sha256
                ):
                    yield out
                self.result.recordings += 1
                if self.on_progress is not None:
                    await self.on_progress(self.result.recordings, len(audio))
        async for copy in transcript_copies(self.conn, self.vault, recordings, stems):
            self.contents.transcripts[copy.recording_id] = copy.transcript
            for name, data in copy.members:
                async for out in archive.add(name, once(data)):
                    yield out
        self.contents.recordings = recordings
        sections = [
            *[item async for item in self._register_files()],
            *[item async for item in self._training_notes(recordings)],
            *[item async for item in self._audit_files(recordings)],
        ]
        self.contents.sections = dict(sections)
        self.contents.files = ["recordings.json", "recordings.csv", *self.contents.sections]
        for name, data in [
            ("recordings.json", _json(recordings, self.zone)),
            ("recordings.csv", _csv(recordings, RECORDING_COLUMNS)),
            *[(name, _json(value, self.zone)) for name, value in sections],
            ("index.txt", self._index().encode()),
            ("index.html", self._page().encode()),
        ]:
            async for out in archive.add(name, once(data)):
                yield out
        manifest = "".join(f"{digest}  {name}\n" for name, digest in self.result.manifest)
        async for out in archive.add("manifest.sha256", once(manifest.encode())):
            yield out

    async def _register_files(self) -> AsyncIterator[tuple[str, Any]]:
        if self.subject.kind != "customer" or self.cipher is None:
            return
        customer_id = uuid.UUID(self.subject.key)
        customer = await get_customer(self.conn, self.cipher, STAFF, customer_id)
        numbers = [p.number for p in customer.phones] if customer else []
        today = datetime.now(UTC).date()
        protection = await protection_of(self.conn, customer_id, today, numbers)
        reader = Reader(sees_protected=False, own_id=customer_id)
        if customer is not None:
            self.language = language_of(customer.language)
            record = asdict(customer)
            record.pop("assigned_advisor_id", None)
            yield "register/customer.json", mask_contacts(record, protection, reader)
        leases = json_ready(await leases_of(self.conn, customer_id))
        for lease in leases:  # other parties are other people: only the subject's own role
            lease["parties"] = [p for p in lease["parties"] if p["customer_id"] == self.subject.key]
        yield "register/leases.json", mask_leases(leases, protection, reader)
        yield (
            "register/contact_log.json",
            json_ready(await all_entries(self.conn, self.cipher, customer_id)),
        )
        for name, read in (
            ("disclosures.json", all_disclosures),
            ("marketing.json", all_preferences),
        ):
            yield f"register/{name}", json_ready(await read(self.conn, customer_id))

    async def _training_notes(
        self, recordings: list[dict[str, Any]]
    ) -> AsyncIterator[tuple[str, Any]]:
        """Trainers' notes about the calls a staff member answered: personal data of that
        agent (the trainer who wrote each is left out: their name is theirs)."""
        if self.subject.kind != "staff" or self.cipher is None:
            return
        ids = [uuid.UUID(r["id"]) for r in recordings]
        notes = await annotations_of(self.conn, self.cipher, ids)
        yield "training/notes.json", [note.as_json(author=False) for note in notes]

    async def _audit_files(
        self, recordings: list[dict[str, Any]]
    ) -> AsyncIterator[tuple[str, Any]]:
        about = await entries_about(self.conn, "recording", [r["id"] for r in recordings])
        if self.subject.kind == "customer":
            about += await entries_about(self.conn, "customer", [self.subject.key])
        roles = await roles_by_id(self.conn, {e.actor_id for e in about if e.actor_id})
        rows = [
            jsonable(
                {
                    "seq": e.seq,
                    "at": e.at.astimezone(self.zone),
                    "action": e.action,
                    "purpose": e.purpose,
                    "outcome": e.outcome,
                    "actor_role": ",".join(roles[e.actor_id]) if e.actor_id in roles else None,
                }
            )
            for e in sorted(about, key=lambda e: e.seq)
        ]
        yield "access_log/about_you.json", rows
        if self.subject.kind == "staff":
            actor = await account_id(self.conn, self.subject.key)
            by = [] if actor is None else await entries_by(self.conn, actor)
            yield "access_log/your_actions.json", [asdict(e) for e in by]

    async def _chosen_copies(
        self, recordings: list[dict[str, Any]], sealed_ids: list[uuid.UUID]
    ) -> list[uuid.UUID]:
        """The object of each call's copy: the redacted rendition where the DPO chose it for
        this request (``export`` and ``export_reason`` say so in recordings.json), else the
        original. A chosen redacted copy that is not ready stops the export (it is retried)."""
        choices = (
            {}
            if self.request_id is None
            else await choices_of(self.conn, self.cipher, self.request_id)
        )
        chosen = []
        for recording, object_id in zip(recordings, sealed_ids, strict=True):
            choice = choices.get(uuid.UUID(recording["id"]))
            recording["export"] = "original"
            if choice is not None and choice.export == "redacted":
                rendition = await rendition_of(self.conn, uuid.UUID(recording["id"]))
                if rendition.status != "ready" or rendition.audio_object_id is None:
                    raise RedactedCopyNotReady(recording["id"])
                object_id = rendition.audio_object_id
                recording["export"] = "redacted"
                recording["export_reason"] = choice.reason
            chosen.append(object_id)
        return chosen

    def _page(self) -> str:
        """``index.html``: the package as readable pages in the subject's language."""
        return render(self.contents, self.settings, self.language, datetime.now(self.zone))

    def _index(self) -> str:
        def retention(language: Language) -> str:
            return "\n".join(f"- {line}" for line in retention_sentences(self.settings, language))

        index = INDEX.format(
            created=datetime.now(self.zone).isoformat(timespec="seconds"),
            zone=self.zone,
            recordings=self.result.recordings,
            retention_fi=retention("fi"),
            retention_en=retention("en"),
        )
        if any("transcript_status" in r for r in self.contents.recordings):
            index += TRANSCRIPT_INDEX
        redacted = [r for r in self.contents.recordings if r.get("export") == "redacted"]
        if not redacted:
            return index
        listed = "".join(f"- {r.get('file', r['id'])}: {r['export_reason']}\n" for r in redacted)
        return index + REDACTED_INDEX.format(listed=listed)


class RedactedCopyNotReady(Exception):
    """The DPO chose a redacted copy whose rendition is being rendered again: try later."""


TRANSCRIPT_INDEX: Final = """
PUHELUT TEKSTINÄ / THE CALLS AS TEXT
Puheluista, jotka on muunnettu koneellisesti tekstiksi, on kopiossa teksti kahtena
tiedostona: recordings/...transcript.txt (luettava: rivillä aika puhelun alusta, puhuja ja
sanat) ja recordings/...transcript.json (sanat ajoituksineen). Kone voi kuulla väärin.
recordings.json kertoo jokaisesta puhelusta tekstin tilan (transcript_status: ready =
valmis, pending = vielä tekemättä, failed = ei onnistunut; keskeneräisestä ei ole tiedostoa)
ja onko muiden henkilöiden tiedot korvattu merkinnällä [redacted] (transcript_export).
Calls that were turned into text by machine have the text twice in this copy:
recordings/...transcript.txt (to read: each line has the time from the start of the call,
the speaker and the words) and recordings/...transcript.json (the words with their timings).
The machine can mishear. recordings.json tells for each call the state of its text
(transcript_status: ready, pending = not made yet, failed; no file unless ready) and whether
other people's data is replaced by [redacted] (transcript_export).
"""
REDACTED_INDEX: Final = """
MUIDEN HENKILÖIDEN TIEDOT / OTHER PEOPLE'S DATA
Näistä puheluista on hiljennetty kohtia, joissa kuullaan muiden henkilöiden tietoja
(tietosuoja-asetus 15 artiklan 4 kohta: kopio ei saa vaikuttaa haitallisesti muiden oikeuksiin).
In these calls, passages with other people's data have been silenced (GDPR Article 15(4):
the copy must not adversely affect the rights and freedoms of others). Syy / why:
{listed}"""
INDEX: Final = """\
callrec - kopio henkilötiedoistasi / a copy of your personal data
Luotu / created: {created}
Ajat ovat aikavyöhykkeellä / times are in the time zone {zone}, with their offset from UTC.
Avaa index.html selaimella: siinä kaikki tiedot ovat luettavina sivuina ja puhelut voi kuunnella.
Open index.html in a web browser: it shows everything as readable pages, and plays the calls.

SUOMEKSI
Tämä paketti sisältää kaikki meillä olevat tietosi (EU:n tietosuoja-asetus 15 artikla):
- recordings/: puhelutallenteesi ({recordings} kpl) äänitiedostoina (Opus/Ogg; avautuvat
  esimerkiksi selaimella tai VLC-soittimella) sekä niiden tiedot (recordings.json, .csv)
- register/: asiakasrekisterin tietosi, vuokrasopimukset, yhteydenpito, luovutukset ja
  markkinointikiellot tai -luvat
- access_log/: merkinnät siitä, milloin ja mihin tarkoitukseen tietojasi on käsitelty
- manifest.sha256: tiedostojen tarkistussummat
Osoite-, puhelin- ja sähköpostitiedot, jotka ovat myös turvakiellon alaisen henkilön tietoja
(esimerkiksi yhteinen asunto), näkyvät merkinnällä "masked".
Käsittelyn tarkoitukset: asiakassuhteen hoitaminen, puhelujen sisällön todentaminen ja
henkilöstön koulutus. Tietoja luovutetaan vain sopimuskumppaneille (esim. perintä, huolto)
ja viranomaisille, joilla on siihen oikeus; luovutukset on lueteltu tiedostossa
register/disclosures.json. Säilytysajat:
{retention_fi}
Sinulla on oikeus pyytää tietojesi oikaisemista tai poistamista, vastustaa käsittelyä ja
tehdä valitus tietosuojavaltuutetun toimistolle (tietosuoja.fi).

IN ENGLISH
This package holds all the personal data we have about you (GDPR Article 15):
- recordings/: your call recordings ({recordings}) as audio files (Opus in Ogg; they play
  in a web browser or VLC), and their details (recordings.json, .csv)
- register/: your customer-register data, leases, contact history, disclosures and
  marketing consents or bans
- access_log/: when and for what purpose your data was accessed
- manifest.sha256: checksums of every file
An address, phone number or e-mail address that is also the data of a person under a
non-disclosure order (turvakielto), such as a shared home, shows as "masked".
Purposes: managing the customer relationship, verifying what was agreed on calls, and staff
training. Data is disclosed only to contract partners (e.g. debt collection, maintenance)
and to authorities entitled to it; disclosures are listed in register/disclosures.json.
Retention periods:
{retention_en}
You may ask us to rectify or erase your data, object to processing, and complain to the
Data Protection Ombudsman (tietosuoja.fi).
"""

"""The age v1 file format (C2SP age spec) with X25519 recipients, built on ``cryptography``.

callrec splits every age file in two: the *header* (recipient stanzas and MAC, a few hundred
bytes) is kept in PostgreSQL, the *payload* (16-byte nonce and 64 KiB STREAM chunks) in the
object store. ``header + payload`` is an ordinary age file, so the stock ``age`` tool can
always recover an object with the keyring file; and deleting the header row destroys the
only copy of the wrapped file key (crypto-shredding).

Because the payload is a sequence of independently authenticated 64 KiB chunks, any plaintext
byte range can be decrypted by reading only the chunks it covers (see :class:`PayloadLayout`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage import bech32
from storage.serial import SerialWorker

if TYPE_CHECKING:
    from hashlib import _Hash as Hash

VERSION_LINE: Final = b"age-encryption.org/v1"
CHUNK_SIZE: Final = 64 * 1024
TAG_SIZE: Final = 16
SEALED_CHUNK_SIZE: Final = CHUNK_SIZE + TAG_SIZE
THREAD_BATCH: Final = 16 * CHUNK_SIZE  # 1 MiB: enough work to be worth a thread hop
PAYLOAD_NONCE_SIZE: Final = 16
FILE_KEY_SIZE: Final = 16
_X25519_LABEL: Final = b"age-encryption.org/v1/X25519"
_COLUMNS: Final = 64
_LAST: Final = b"\x01"
_NOT_LAST: Final = b"\x00"


class AgeError(Exception):
    """The data is not a valid age file, or it was altered; never silently ignored."""


class NoMatchingIdentity(AgeError):
    """None of the identities given can unwrap the file key (wrong key or key rotated away)."""


def _b64encode(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _b64decode(text: bytes) -> bytes:
    """Decode canonical unpadded base64, as age requires; anything else is an error."""
    try:
        data = base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise AgeError("malformed base64 in header") from None
    if _b64encode(data) != text:
        raise AgeError("non-canonical base64 in header")
    return data


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


# --------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class Recipient:
    """An X25519 public key: who a file key is wrapped to (``age1…``)."""

    public_bytes: bytes

    @classmethod
    def parse(cls, text: str) -> Recipient:
        """Read an ``age1…`` recipient string."""
        try:
            raw = bech32.decode("age", text.strip())
        except bech32.Bech32Error as exc:
            raise AgeError(f"not an age X25519 recipient: {exc}") from None
        if len(raw) != 32:
            raise AgeError("an X25519 recipient has 32 bytes")
        return cls(raw)

    def __str__(self) -> str:
        return bech32.encode("age", self.public_bytes)


@dataclass(frozen=True)
class Identity:
    """An X25519 private key (``AGE-SECRET-KEY-1…``); its ``repr`` never shows the key."""

    secret_bytes: bytes

    @classmethod
    def generate(cls) -> Identity:
        """A fresh random identity."""
        return cls(os.urandom(32))

    @classmethod
    def parse(cls, text: str) -> Identity:
        """Read an ``AGE-SECRET-KEY-1…`` identity string."""
        try:
            raw = bech32.decode("age-secret-key-", text.strip())
        except bech32.Bech32Error as exc:
            raise AgeError(f"not an age X25519 identity: {exc}") from None
        if len(raw) != 32:
            raise AgeError("an X25519 identity has 32 bytes")
        return cls(raw)

    def encode(self) -> str:
        """The identity as the stock ``age`` tool writes it."""
        return bech32.encode("age-secret-key-", self.secret_bytes).upper()

    @cached_property
    def private_key(self) -> X25519PrivateKey:
        """The key object, built once: every object opened exchanges with it."""
        return X25519PrivateKey.from_private_bytes(self.secret_bytes)

    @cached_property
    def recipient(self) -> Recipient:
        """The public half."""
        return Recipient(self.private_key.public_key().public_bytes_raw())

    def __repr__(self) -> str:
        return f"Identity(recipient={self.recipient})"


# --------------------------------------------------------------------------- header


@dataclass(frozen=True)
class Stanza:
    """One recipient stanza: a type, its arguments and a binary body."""

    kind: str
    args: tuple[str, ...]
    body: bytes

    def encode(self) -> bytes:
        """Serialise with the body base64-wrapped at 64 columns (last line always shorter)."""
        line = " ".join((self.kind, *self.args)).encode()
        text = _b64encode(self.body)
        lines = [text[i : i + _COLUMNS] for i in range(0, len(text), _COLUMNS)]
        if not lines or len(lines[-1]) == _COLUMNS:
            lines.append(b"")
        return b"-> " + line + b"\n" + b"".join(part + b"\n" for part in lines)


def wrap_file_key(file_key: bytes, recipient: Recipient) -> Stanza:
    """Wrap ``file_key`` to ``recipient`` with an ephemeral X25519 share."""
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient.public_bytes))
    wrap_key = _hkdf(shared, share + recipient.public_bytes, _X25519_LABEL)
    body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    return Stanza("X25519", (_b64encode(share).decode(),), body)


def _unwrap_x25519(stanza: Stanza, identity: Identity) -> bytes | None:
    if stanza.kind != "X25519":
        return None
    if len(stanza.args) != 1 or len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
        raise AgeError("malformed X25519 stanza")
    share = _b64decode(stanza.args[0].encode())
    if len(share) != 32:
        raise AgeError("malformed X25519 share")
    try:
        shared = identity.private_key.exchange(X25519PublicKey.from_public_bytes(share))
    except ValueError:
        raise AgeError("X25519 share is a low-order point") from None
    wrap_key = _hkdf(shared, share + identity.recipient.public_bytes, _X25519_LABEL)
    try:
        return ChaCha20Poly1305(wrap_key).decrypt(bytes(12), stanza.body, None)
    except InvalidTag:
        return None


def _header_mac(file_key: bytes, header_without_mac: bytes) -> bytes:
    mac_key = _hkdf(file_key, b"", b"header")
    return hmac.new(mac_key, header_without_mac, hashlib.sha256).digest()


def encode_header(file_key: bytes, stanzas: Sequence[Stanza]) -> bytes:
    """Build a complete header (version line, stanzas, MAC line)."""
    body = VERSION_LINE + b"\n" + b"".join(s.encode() for s in stanzas) + b"---"
    return body + b" " + _b64encode(_header_mac(file_key, body)) + b"\n"


def new_header(recipients: Iterable[Recipient]) -> tuple[bytes, bytes]:
    """A fresh random file key and a header wrapping it to every recipient."""
    file_key = os.urandom(FILE_KEY_SIZE)
    stanzas = [wrap_file_key(file_key, r) for r in recipients]
    if not stanzas:
        raise AgeError("at least one recipient is needed")
    return file_key, encode_header(file_key, stanzas)


@dataclass(frozen=True)
class Header:
    """A parsed header; :meth:`file_key` unwraps and authenticates it."""

    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes
    size: int

    def file_key(self, identities: Iterable[Identity]) -> bytes:
        """Unwrap the file key with the first identity that fits, then check the MAC."""
        for identity in identities:
            for stanza in self.stanzas:
                file_key = _unwrap_x25519(stanza, identity)
                if file_key is not None:
                    if not hmac.compare_digest(_header_mac(file_key, self.mac_input), self.mac):
                        raise AgeError("header MAC mismatch: the header was altered")
                    return file_key
        raise NoMatchingIdentity("no identity in the keyring can open this object")


def parse_header(data: bytes) -> Header:
    """Parse the header at the start of ``data`` (which may continue with the payload)."""
    pos = 0

    def next_line() -> bytes:
        nonlocal pos
        end = data.find(b"\n", pos)
        if end < 0:
            raise AgeError("truncated header")
        line = data[pos:end]
        pos = end + 1
        return line

    if next_line() != VERSION_LINE:
        raise AgeError("not an age v1 file")
    stanzas: list[Stanza] = []
    while True:
        line_start = pos
        line = next_line()
        if line.startswith(b"---"):
            if not line.startswith(b"--- "):
                raise AgeError("malformed MAC line")
            mac = _b64decode(line[4:])
            if len(mac) != 32:
                raise AgeError("malformed MAC")
            return Header(tuple(stanzas), mac, data[: line_start + 3], pos)
        if not line.startswith(b"-> "):
            raise AgeError("malformed stanza")
        words = line[3:].decode("ascii", "strict").split(" ")
        if not words[0] or any(not w for w in words):
            raise AgeError("malformed stanza arguments")
        body_lines: list[bytes] = []
        while True:
            body_line = next_line()
            if len(body_line) > _COLUMNS:
                raise AgeError("stanza body line too long")
            body_lines.append(body_line)
            if len(body_line) < _COLUMNS:
                break
        stanzas.append(Stanza(words[0], tuple(words[1:]), _b64decode(b"".join(body_lines))))


def rewrap_header(header_bytes: bytes, identities: Iterable[Identity], to: Recipient) -> bytes:
    """Re-encrypt a header's file key to ``to``; the payload stays as it is."""
    file_key = parse_header(header_bytes).file_key(identities)
    return encode_header(file_key, [wrap_file_key(file_key, to)])


# --------------------------------------------------------------------------- payload


def payload_key(file_key: bytes, nonce: bytes) -> bytes:
    """The STREAM key for one payload."""
    return _hkdf(file_key, nonce, b"payload")


def _chunk_nonce(index: int, last: bool) -> bytes:
    return index.to_bytes(11, "big") + (_LAST if last else _NOT_LAST)


async def encrypt_stream(
    file_key: bytes,
    plaintext: AsyncIterable[bytes],
    *,
    nonce: bytes | None = None,
    digest: Hash | None = None,
) -> AsyncIterator[bytes]:
    """Yield the payload for ``plaintext`` of any length: nonce, then sealed chunks.

    Sealing stays on the event loop: ``cryptography``'s ChaCha20-Poly1305 holds the GIL
    (about 17 µs a chunk), so a thread would only make the loop wait for the GIL. SHA-256
    releases it, so the hash of each :data:`THREAD_BATCH` goes to a background thread that
    runs beside the loop while it receives and seals the next batch. The input is cut into
    chunks without copying it, so the pieces must not change after they are yielded.
    Small inputs never leave the loop.
    """
    nonce = os.urandom(PAYLOAD_NONCE_SIZE) if nonce is None else nonce
    aead = ChaCha20Poly1305(payload_key(file_key, nonce))
    yield nonce
    chunker = _Chunker()
    hashing = _Hashing(digest)
    index = 0
    try:
        async for piece in plaintext:
            view = _frozen(piece)
            hashing.add(view)
            for chunk in chunker.add(view):
                yield aead.encrypt(_chunk_nonce(index, False), chunk, None)
                index += 1
            await hashing.hand_over()
        yield aead.encrypt(_chunk_nonce(index, True), chunker.rest(), None)
        await hashing.finish()
    finally:
        hashing.close()


class _Chunker:
    """Cuts pieces of any size into 64 KiB chunks, copying only chunks that span two pieces."""

    def __init__(self) -> None:
        self._partial: list[memoryview] = []
        self._partial_size = 0
        self._whole: memoryview | bytes | None = None  # a whole chunk that may be the last

    def add(self, view: memoryview) -> Iterator[memoryview | bytes]:
        """The whole chunks that now have more data after them."""
        while view:
            if self._whole is not None:
                yield self._whole
                self._whole = None
            take = min(CHUNK_SIZE - self._partial_size, len(view))
            self._partial.append(view[:take])
            self._partial_size += take
            view = view[take:]
            if self._partial_size == CHUNK_SIZE:
                parts = self._partial
                self._whole = parts[0] if len(parts) == 1 else b"".join(parts)
                self._partial, self._partial_size = [], 0

    def rest(self) -> memoryview | bytes:
        """The last chunk: the held whole chunk, or what is left (empty for empty input)."""
        if self._whole is not None:
            return self._whole
        return b"".join(self._partial)


class _Hashing:
    """SHA-256 of a stream in a background thread, a batch at a time, in order."""

    def __init__(self, digest: Hash | None) -> None:
        self._digest = digest
        self._pending: list[memoryview] = []
        self._pending_size = 0
        self._worker: SerialWorker[None] = SerialWorker("hash", depth=3)

    def add(self, view: memoryview) -> None:
        """Queue the next piece for hashing."""
        if self._digest is not None:
            self._pending.append(view)
            self._pending_size += len(view)

    async def hand_over(self) -> None:
        """Start hashing the queued pieces once they make a batch."""
        if self._pending_size >= THREAD_BATCH:
            if self._worker.full:
                await self._worker.next()
            self._worker.submit(self._take())

    async def finish(self) -> None:
        """Hash the rest (on the loop when it is all there is) and wait for the thread."""
        if not self._worker:
            self._take()()
            return
        self._worker.submit(self._take())
        while self._worker:
            await self._worker.next()

    def close(self) -> None:
        """Stop the thread (after an error, anything not hashed yet is dropped)."""
        self._worker.close()

    def _take(self) -> Callable[[], None]:
        pieces, self._pending, self._pending_size = self._pending, [], 0
        return partial(_update, self._digest, pieces)


def _update(digest: Hash | None, pieces: list[memoryview]) -> None:
    if digest is not None:
        for piece in pieces:
            digest.update(piece)


def _frozen(piece: bytes) -> memoryview:
    """A read-only view of ``piece``; a mutable buffer is copied, since its owner may refill it."""
    view = memoryview(piece)
    return view if view.readonly else memoryview(bytes(view))


@dataclass(frozen=True)
class PayloadLayout:
    """Where plaintext bytes live in a payload of known size."""

    payload_size: int

    def __post_init__(self) -> None:
        body = self.payload_size - PAYLOAD_NONCE_SIZE
        if body < TAG_SIZE:
            raise AgeError("payload too short")
        tail = body % SEALED_CHUNK_SIZE
        if 0 < tail < TAG_SIZE or (tail == TAG_SIZE and body > TAG_SIZE):
            raise AgeError("payload size is not a valid STREAM length (truncated?)")

    @property
    def chunk_count(self) -> int:
        """Number of sealed chunks (at least one)."""
        return -(-(self.payload_size - PAYLOAD_NONCE_SIZE) // SEALED_CHUNK_SIZE)

    @property
    def plaintext_size(self) -> int:
        """Length of the plaintext the payload decrypts to."""
        return self.payload_size - PAYLOAD_NONCE_SIZE - self.chunk_count * TAG_SIZE

    def chunk_range(self, start: int, end: int) -> tuple[int, int]:
        """Chunk indexes ``[first, last]`` covering plaintext bytes ``[start, end)``."""
        if not 0 <= start < end <= self.plaintext_size:
            raise ValueError("range outside the plaintext")
        return start // CHUNK_SIZE, (end - 1) // CHUNK_SIZE

    @staticmethod
    def payload_offset(chunk: int) -> int:
        """Byte offset of sealed chunk ``chunk`` in the payload."""
        return PAYLOAD_NONCE_SIZE + chunk * SEALED_CHUNK_SIZE


class PayloadDecryptor:
    """Decrypts individual sealed chunks of one payload."""

    def __init__(self, file_key: bytes, nonce: bytes, layout: PayloadLayout) -> None:
        if len(nonce) != PAYLOAD_NONCE_SIZE:
            raise AgeError("payload nonce missing")
        self._aead = ChaCha20Poly1305(payload_key(file_key, nonce))
        self.layout = layout

    def decrypt(self, index: int, sealed: bytes) -> bytes:
        """Open chunk ``index``; altered, truncated or moved chunks raise :class:`AgeError`."""
        last = index == self.layout.chunk_count - 1
        try:
            plain = self._aead.decrypt(_chunk_nonce(index, last), sealed, None)
        except InvalidTag:
            raise AgeError(f"payload chunk {index} failed authentication") from None
        if not plain and index > 0:
            raise AgeError("empty final chunk")
        return plain

"""The age format: interoperability with rage (pyrage) and loud failure on any tampering."""

from __future__ import annotations

import hashlib
import os
import random
from collections.abc import AsyncIterator

import pyrage
import pytest

from storage import age
from storage.age import (
    CHUNK_SIZE,
    PAYLOAD_NONCE_SIZE,
    SEALED_CHUNK_SIZE,
    AgeError,
    Identity,
    NoMatchingIdentity,
    PayloadDecryptor,
    PayloadLayout,
)


async def pieces(data: bytes, size: int = 7001) -> AsyncIterator[bytes]:
    """Feed ``data`` in awkward piece sizes, as a network would."""
    for i in range(0, len(data), size):
        yield data[i : i + size]


async def encrypt(data: bytes, identity: Identity) -> tuple[bytes, bytes]:
    """Return (header, payload) for ``data``."""
    file_key, header = age.new_header([identity.recipient])
    payload = b"".join([c async for c in age.encrypt_stream(file_key, pieces(data))])
    return header, payload


def decrypt(header: bytes, payload: bytes, identity: Identity) -> bytes:
    """Decrypt with our own reader, chunk by chunk."""
    file_key = age.parse_header(header).file_key([identity])
    layout = PayloadLayout(len(payload))
    decryptor = PayloadDecryptor(file_key, payload[:PAYLOAD_NONCE_SIZE], layout)
    chunks = []
    for index in range(layout.chunk_count):
        offset = layout.payload_offset(index)
        chunks.append(decryptor.decrypt(index, payload[offset : offset + SEALED_CHUNK_SIZE]))
    return b"".join(chunks)


SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE, 200_003]


@pytest.mark.parametrize("size", SIZES)
async def test_rage_decrypts_what_we_write(size: int) -> None:
    identity = Identity.generate()
    data = os.urandom(size)
    header, payload = await encrypt(data, identity)
    assert (
        pyrage.decrypt(header + payload, [pyrage.x25519.Identity.from_str(identity.encode())])
        == data
    )


@pytest.mark.parametrize("size", SIZES)
def test_we_decrypt_what_rage_writes(size: int) -> None:
    rage_identity = pyrage.x25519.Identity.generate()
    identity = Identity.parse(str(rage_identity))
    data = os.urandom(size)
    blob = pyrage.encrypt(data, [rage_identity.to_public()])
    header = age.parse_header(blob)  # rage adds grease stanzas: they must be skipped
    assert decrypt(blob[: header.size], blob[header.size :], identity) == data
    assert PayloadLayout(len(blob) - header.size).plaintext_size == size


def test_keys_round_trip_through_rage_encoding() -> None:
    rage_identity = pyrage.x25519.Identity.generate()
    ours = Identity.parse(str(rage_identity))
    assert ours.encode() == str(rage_identity)
    assert str(ours.recipient) == str(rage_identity.to_public())
    assert age.Recipient.parse(str(ours.recipient)) == ours.recipient
    assert "SECRET" not in repr(ours)


@pytest.mark.parametrize("bad", ["", "age1qqqq", "AGE-SECRET-KEY-1QQQQ", "age1" + "x" * 58])
def test_malformed_keys_are_rejected(bad: str) -> None:
    with pytest.raises(AgeError):
        age.Recipient.parse(bad)
    with pytest.raises(AgeError):
        Identity.parse(bad)


@pytest.fixture
async def sample() -> tuple[Identity, bytes, bytes, bytes]:
    identity = Identity.generate()
    data = os.urandom(3 * CHUNK_SIZE + 500)
    header, payload = await encrypt(data, identity)
    return identity, data, header, payload


def test_flipped_payload_byte_fails(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    identity, _data, header, payload = sample
    for position in (PAYLOAD_NONCE_SIZE + 10, len(payload) // 2, len(payload) - 1):
        broken = bytearray(payload)
        broken[position] ^= 0x01
        with pytest.raises(AgeError, match="authentication"):
            decrypt(header, bytes(broken), identity)


def test_truncated_payload_fails(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    identity, _data, header, payload = sample
    # cut exactly at a chunk boundary: a non-final chunk is now read as final
    cut = PayloadLayout.payload_offset(2)
    with pytest.raises(AgeError):
        decrypt(header, payload[:cut], identity)
    # cut inside the tag area: not even a valid STREAM length
    with pytest.raises(AgeError, match="STREAM length"):
        decrypt(header, payload[: cut + 5], identity)


def test_reordered_chunks_fail(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    identity, _data, header, payload = sample
    first, second = PayloadLayout.payload_offset(0), PayloadLayout.payload_offset(1)
    third = PayloadLayout.payload_offset(2)
    swapped = payload[:first] + payload[second:third] + payload[first:second] + payload[third:]
    with pytest.raises(AgeError, match="chunk 0"):
        decrypt(header, swapped, identity)


async def test_swapped_header_fails(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    identity, data, _header, payload = sample
    other_header, _ = await encrypt(data, identity)
    with pytest.raises(AgeError, match="authentication"):
        decrypt(other_header, payload, identity)


def test_wrong_identity_fails(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    _identity, _data, header, payload = sample
    with pytest.raises(NoMatchingIdentity):
        decrypt(header, payload, Identity.generate())


def test_altered_header_fails_mac(sample: tuple[Identity, bytes, bytes, bytes]) -> None:
    identity, _data, header, payload = sample
    extra = age.Stanza("grease-x", ("a",), b"junk").encode()
    altered = header.replace(b"---", extra + b"---", 1)
    with pytest.raises(AgeError, match="MAC"):
        decrypt(altered, payload, identity)


@pytest.mark.parametrize(
    "text",
    [
        b"not age\n",
        b"age-encryption.org/v1\n",
        b"age-encryption.org/v1\n-> X25519\n",
        b"age-encryption.org/v1\n--- AAAA\n",
        b"age-encryption.org/v1\n-> X25519 abc\n" + b"A" * 65 + b"\n--- x\n",
    ],
)
def test_malformed_headers_are_rejected(text: bytes) -> None:
    with pytest.raises(AgeError):
        age.parse_header(text)


def test_rewrap_moves_file_key_to_new_recipient(
    sample: tuple[Identity, bytes, bytes, bytes],
) -> None:
    identity, data, header, payload = sample
    new_identity = Identity.generate()
    rewrapped = age.rewrap_header(header, [identity], new_identity.recipient)
    assert decrypt(rewrapped, payload, new_identity) == data
    with pytest.raises(NoMatchingIdentity):
        decrypt(rewrapped, payload, identity)


def test_layout_maps_offsets_to_chunks() -> None:
    rng = random.Random(7)
    for size in [1, CHUNK_SIZE, CHUNK_SIZE + 1, 10 * CHUNK_SIZE + 17]:
        chunks = max(1, -(-size // CHUNK_SIZE))
        layout = PayloadLayout(PAYLOAD_NONCE_SIZE + size + 16 * chunks)
        assert layout.plaintext_size == size
        assert layout.chunk_count == chunks
        for _ in range(20):
            start = rng.randrange(size)
            end = rng.randrange(start + 1, size + 1)
            first, last = layout.chunk_range(start, end)
            assert first == start // CHUNK_SIZE
            assert last == (end - 1) // CHUNK_SIZE
    with pytest.raises(ValueError, match="outside"):
        PayloadLayout(PAYLOAD_NONCE_SIZE + 16 + 10).chunk_range(0, 11)


@pytest.mark.parametrize(
    ("size", "piece"),
    [(40 * CHUNK_SIZE, 350_000), (40 * CHUNK_SIZE + 5, CHUNK_SIZE), (3 * 1024 * 1024 + 1, 7001)],
)
async def test_large_streams_hash_and_seal_beside_the_loop(size: int, piece: int) -> None:
    """Past one thread batch the hash runs in a thread: the digest and the payload still match."""
    identity = Identity.generate()
    data = os.urandom(size)
    file_key, header = age.new_header([identity.recipient])
    digest = hashlib.sha256()
    stream = age.encrypt_stream(file_key, pieces(data, piece), digest=digest)
    payload = b"".join([c async for c in stream])
    assert digest.digest() == hashlib.sha256(data).digest()
    assert decrypt(header, payload, identity) == data
    assert pyrage.decrypt(header + payload, [pyrage.x25519.Identity.from_str(identity.encode())])


async def test_a_reused_buffer_is_copied_before_it_changes() -> None:
    """A producer that refills one bytearray must not change what was already taken."""
    identity = Identity.generate()
    data = os.urandom(2 * 1024 * 1024 + 3)

    async def refilled() -> AsyncIterator[bytes]:
        buffer = bytearray(100_000)
        for i in range(0, len(data), len(buffer)):
            piece = data[i : i + len(buffer)]
            buffer[: len(piece)] = piece
            yield memoryview(buffer)[: len(piece)]  # type: ignore[misc]

    file_key, header = age.new_header([identity.recipient])
    digest = hashlib.sha256()
    payload = b"".join([c async for c in age.encrypt_stream(file_key, refilled(), digest=digest)])
    assert decrypt(header, payload, identity) == data
    assert digest.digest() == hashlib.sha256(data).digest()

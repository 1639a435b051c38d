"""The streaming multipart reader: exact part data however the body is cut into chunks."""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator

import pytest

from recorder.multipart import MAX_HEADER_BYTES, MultipartError, MultipartStream

BOUNDARY = "callrec-test-boundary"
DELIMITER = b"\r\n--" + BOUNDARY.encode()


def body_of(parts: dict[str, bytes]) -> bytes:
    out = [b"preamble\r\n"]
    for name, data in parts.items():
        out.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        )
        out.append(data + b"\r\n")
    out.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(out)


async def cut(body: bytes, sizes: list[int]) -> AsyncIterator[bytes]:
    position = 0
    for size in sizes:
        if position >= len(body):
            return
        yield body[position : position + size]
        position += size
    if position < len(body):
        yield body[position:]


async def read_all(body: AsyncIterator[bytes]) -> dict[str, bytes]:
    stream = MultipartStream(body, BOUNDARY)
    parts = {}
    while (part := await stream.next_part()) is not None:
        parts[part.name] = b"".join([piece async for piece in stream.read_part()])
    return parts


def tricky_audio(rng: random.Random) -> bytes:
    """Random bytes sown with CRs and every prefix of the delimiter, but never all of it."""
    pieces = [os.urandom(rng.randrange(1, 3000)) for _ in range(200)]
    for n in range(0, len(pieces), 3):
        pieces[n] += DELIMITER[: rng.randrange(1, len(DELIMITER))]
    data = b"\r".join(pieces)
    assert DELIMITER not in data
    return data


@pytest.mark.parametrize("seed", range(12))
async def test_parts_come_back_exactly_whatever_the_chunking(seed: int) -> None:
    rng = random.Random(seed)
    audio = tricky_audio(rng)
    parts = {"metadata": b'{"external_id": "x"}', "audio": audio}
    body = body_of(parts)
    sizes = [rng.choice([1, 2, 7, len(DELIMITER) - 1, 4096, 65536, 300_000]) for _ in range(4000)]
    assert await read_all(cut(body, sizes)) == parts


async def test_chunks_that_end_at_every_point_of_the_delimiter() -> None:
    audio = os.urandom(10_000) + b"\r\n--callrec"
    parts = {"audio": audio}
    body = body_of(parts)
    start = body.index(b"\r\n\r\n") + 4  # the headers come first, in a chunk of their own
    end = body.index(DELIMITER, start + len(audio) - 20)
    for split in range(end - 5, end + len(DELIMITER) + 5):
        assert await read_all(cut(body, [start, split - start])) == parts


async def test_truncated_part_is_an_error() -> None:
    body = body_of({"audio": os.urandom(200_000)})
    with pytest.raises(MultipartError, match="truncated"):
        await read_all(cut(body[:150_000], [65536] * 4))


@pytest.mark.parametrize("chunk", [64, 1 << 20])
async def test_part_headers_and_preamble_are_limited_however_the_body_arrives(chunk: int) -> None:
    """The limit holds when the whole oversized header came in one chunk, not only when
    the reader had to wait for more."""
    huge = b"X-Pad: " + b"a" * (MAX_HEADER_BYTES + 10)
    headers = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="metadata"\r\n'.encode()
    for body, what in [
        (headers + huge + b"\r\n\r\n{}\r\n" + f"--{BOUNDARY}--\r\n".encode(), "part headers"),
        (huge + b"\r\n" + body_of({"metadata": b"{}"}), "preamble"),
    ]:
        with pytest.raises(MultipartError, match=f"{what} too long"):
            await read_all(cut(body, [chunk] * (len(body) // chunk + 1)))

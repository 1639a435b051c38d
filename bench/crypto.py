"""Benchmark the encrypted object format against bare ChaCha20-Poly1305, in one run.

Prints ratios, not just times, because the machines are shared and absolute times drift:

* encrypt and decrypt throughput of our age STREAM format as a ratio to one-shot
  ChaCha20-Poly1305 over the same bytes (target >= 0.8 both ways);
* the time to read 64 KiB at 1 %, 50 % and 99 % of a large encrypted object on the
  filesystem store (target max/min <= 1.5).

Run: ``.venv/bin/python -m bench.crypto [--size-mb 256] [--object-mb 1024]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from storage import age
from storage.age import PAYLOAD_NONCE_SIZE, SEALED_CHUNK_SIZE, PayloadDecryptor, PayloadLayout
from storage.fs import FilesystemStore
from storage.keyring import Keyring
from storage.vault import Vault

PIECE = 1024 * 1024
REPEATS = 3


async def pieces(data: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(data), PIECE):
        yield data[i : i + PIECE]


async def stream_encrypt(file_key: bytes, data: bytes) -> int:
    """Encrypt and count the output, as a store consuming the chunks would."""
    return sum([len(c) async for c in age.encrypt_stream(file_key, pieces(data))])


async def stream_encrypt_collect(file_key: bytes, data: bytes) -> bytes:
    return b"".join([c async for c in age.encrypt_stream(file_key, pieces(data))])


def stream_decrypt(file_key: bytes, payload: bytes) -> int:
    layout = PayloadLayout(len(payload))
    decryptor = PayloadDecryptor(file_key, payload[:PAYLOAD_NONCE_SIZE], layout)
    view = memoryview(payload)
    total = 0
    for index in range(layout.chunk_count):
        offset = layout.payload_offset(index)
        total += len(decryptor.decrypt(index, bytes(view[offset : offset + SEALED_CHUNK_SIZE])))
    return total


def best_of(func: object, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        func()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


async def best_of_async(file_key: bytes, data: bytes) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await stream_encrypt(file_key, data)
        times.append(time.perf_counter() - started)
    return min(times)


async def throughput(size_mb: int) -> None:
    data = os.urandom(size_mb * 1024 * 1024)
    key = ChaCha20Poly1305.generate_key()
    bare = ChaCha20Poly1305(key)
    nonce = bytes(12)
    file_key = os.urandom(16)

    view = memoryview(data)
    chunk = age.CHUNK_SIZE

    def bare_chunked() -> None:
        for i in range(0, len(data), chunk):
            bare.encrypt(nonce, view[i : i + chunk], None)

    bare_sealed = bare.encrypt(nonce, data, None)
    chunked_enc = best_of(bare_chunked)
    bare_enc = best_of(lambda: bare.encrypt(nonce, data, None))
    bare_dec = best_of(lambda: bare.decrypt(nonce, bare_sealed, None))
    payload = await stream_encrypt_collect(file_key, data)
    ours_enc = await best_of_async(file_key, data)
    ours_dec = best_of(lambda: stream_decrypt(file_key, payload))

    mb = len(data) / 1e6
    print(f"throughput over {size_mb} MiB (best of {REPEATS}):")
    print(
        f"  encrypt: bare {mb / bare_enc:8.0f} MB/s  ours {mb / ours_enc:8.0f} MB/s  "
        f"ratio {bare_enc / ours_enc:.2f}  (target >= 0.8)"
    )
    print(
        f"  encrypt: bare in 64 KiB pieces {mb / chunked_enc:5.0f} MB/s  "
        f"ratio ours/that {chunked_enc / ours_enc:.2f}  (framing and async overhead alone)"
    )
    print(
        f"  decrypt: bare {mb / bare_dec:8.0f} MB/s  ours {mb / ours_dec:8.0f} MB/s  "
        f"ratio {bare_dec / ours_dec:.2f}  (target >= 0.8)"
    )


async def random_access(object_mb: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        keyring = Keyring.create(Path(tmp) / "keyring.txt")
        vault = Vault(FilesystemStore(Path(tmp) / "objects"), keyring)
        block = os.urandom(PIECE)

        async def big() -> AsyncIterator[bytes]:
            for _ in range(object_mb):
                yield block

        started = time.perf_counter()
        sealed = await vault.seal(big(), kind="test")
        print(f"sealed a {object_mb} MiB object in {time.perf_counter() - started:.1f} s")
        size = sealed.plaintext_size
        results = {}
        for label, fraction in (("1%", 0.01), ("50%", 0.50), ("99%", 0.99)):
            start = int(size * fraction)
            timings = []
            for _ in range(200):
                began = time.perf_counter()
                got = sum([len(p) async for p in vault.open_range(sealed, start, start + 65536)])
                timings.append(time.perf_counter() - began)
                assert got == 65536
            results[label] = statistics.median(timings)
        print("64 KiB read at offset (median of 200):")
        for label, seconds in results.items():
            print(f"  {label:>4}: {seconds * 1e6:8.0f} us")
        spread = max(results.values()) / min(results.values())
        print(f"  max/min ratio {spread:.2f}  (target <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--object-mb", type=int, default=1024)
    args = parser.parse_args()
    asyncio.run(run(args.size_mb, args.object_mb))


async def run(size_mb: int, object_mb: int) -> None:
    await throughput(size_mb)
    await random_access(object_mb)


if __name__ == "__main__":
    main()

"""Benchmark the register: bulk import and search, against bare indexed SQL in the same run.

1. Generates N customers (valid henkilötunnus, phones, e-mails, addresses; surnames from
   syllables so that a name prefix is as selective as in a real register) as a CSV file and
   imports it with the real importer; prints rows per second and the time for 100 000.
2. Searches a random sample by phone, customer number, henkilötunnus and name prefix with
   the real search (classification, blind index, decryption of the hits) and prints p50/p95
   (target p95 <= 20 ms) and the ratio to a bare indexed SQL lookup of the same row.

The service's database is the embedded one, in a temporary folder.

Run: ``.venv/bin/python -m bench.register [--customers 1000000] [--samples 300]``
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from callrec.app import load_or_create_keyring, open_database
from common.settings import Settings
from register.importer import HEADER_ORDER, import_customers
from register.phones import normalise_phone
from register.search import classify_query, prefix_range, search_customers
from storage.db import Pool
from storage.fieldcrypt import FieldCipher, load_data_key

CHECK = "0123456789ABCDEFHJKLMNPRSTUVWXY"
SYLLABLES = [
    "mä", "ki", "vir", "ta", "nen", "kor", "pi", "lai", "ho", "nie", "mi", "hei", "kin",
    "salo", "la", "ri", "ko", "ski", "jär", "vi", "lah", "ti", "nur", "mi", "aho", "lin",
    "kos", "ke", "sa", "ra", "hal", "lo", "ne", "pel", "to", "suo", "rin", "ne", "ta",
]  # fmt: skip
FIRST_NAMES = ["Maija", "Pekka", "Aino", "Juha", "Sari", "Mikko", "Liisa", "Antti", "Eeva", "Timo"]


def henkilotunnus(n: int) -> str:
    """A valid, unique code for index ``n`` (distinct dates x individual numbers)."""
    day = 1 + n % 28
    month = 1 + (n // 28) % 12
    year = (n // 336) % 100
    individual = 2 + (n // 33600) % 897
    separator = "-" if (n // 336) % 200 < 100 else "A"
    base = f"{day:02d}{month:02d}{year:02d}"
    return f"{base}{separator}{individual:03d}{CHECK[int(base + f'{individual:03d}') % 31]}"


def surname(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3, 3, 4)))).capitalize()


def generate(path: Path, count: int, seed: int = 7) -> None:
    """Write ``count`` customers as an import CSV."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER_ORDER)
        for n in range(count):
            writer.writerow(
                {
                    "customer_number": f"A-{n + 1}",
                    "first_name": rng.choice(FIRST_NAMES),
                    "last_name": surname(rng),
                    "roles": rng.choice(("tenant", "applicant", "tenant;joint_payer")),
                    "henkilotunnus": henkilotunnus(n),
                    "language": "fi",
                    "turvakielto": "true" if n % 200 == 0 else "false",
                    "phones": f"+35840{n:07d}",
                    "emails": f"c{n}@example.fi",
                    "street": f"Katu {n % 300}",
                    "postal_code": f"{n % 100000:05d}",
                    "city": "Helsinki",
                }.get(name, "")
                for name in HEADER_ORDER
            )


async def timed(samples: list[Any], call: Callable[[Any], Awaitable[object]]) -> list[float]:
    times = []
    for sample in samples:
        started = time.perf_counter()
        await call(sample)
        times.append(time.perf_counter() - started)
    return times


def p(times: list[float], q: float) -> float:
    return statistics.quantiles(times, n=100)[int(q) - 1] * 1000


async def searches(pool: Pool, cipher: FieldCipher, count: int, samples: int) -> None:
    rng = random.Random(11)
    picks = [rng.randrange(count) for _ in range(samples)]
    rows = {
        r["customer_number"]: r
        for r in await pool.fetch(
            "SELECT customer_number, last_name FROM customers WHERE customer_number = ANY($1)",
            [f"A-{n + 1}" for n in picks],
        )
    }
    kinds: dict[str, tuple[list[str], str, Callable[[str], Any]]] = {
        "phone": (
            [f"040{n:07d}" for n in picks],
            "SELECT customer_id FROM customer_phones WHERE number = $1",
            normalise_phone,
        ),
        "customer number": (
            [f"A-{n + 1}" for n in picks],
            "SELECT id FROM customers WHERE customer_number = $1",
            str,
        ),
        "henkilotunnus": (
            [henkilotunnus(n) for n in picks],
            "SELECT id FROM customers WHERE hetu_index = $1",
            lambda q: cipher.blind_index("hetu", q),
        ),
        "name prefix": (
            [rows[f"A-{n + 1}"]["last_name"][:5] for n in picks],
            'SELECT id FROM customers WHERE lower(last_name) COLLATE "C" >= $1'
            ' AND lower(last_name) COLLATE "C" < $2'
            ' ORDER BY lower(last_name) COLLATE "C", id LIMIT 20',
            prefix_range,
        ),
    }
    print(f"search, {samples} random customers of {count:,}, milliseconds:")
    for kind, (queries, bare_sql, bare_arg) in kinds.items():

        async def ours(q: str) -> None:
            async with pool.acquire() as conn:
                found = await search_customers(
                    conn, cipher, classify_query(q), advisor_id=None, limit=20
                )
            assert found, q

        async def bare(q: str, sql: str = bare_sql, arg: Any = bare_arg) -> None:
            value = arg(q)
            assert await pool.fetch(sql, *(value if isinstance(value, tuple) else (value,)))

        ours_times, bare_times = [], []
        for _ in range(2):  # alternate rounds so drift hits both
            ours_times += await timed(queries, ours)
            bare_times += await timed(queries, bare)
        print(
            f"  {kind:16s} p50 {p(ours_times, 50):6.2f}  p95 {p(ours_times, 95):6.2f}   "
            f"bare SQL p50 {p(bare_times, 50):5.2f}  p95 {p(bare_times, 95):5.2f}   "
            f"ratio p50 {p(ours_times, 50) / p(bare_times, 50):4.1f}"
        )
    print("  (target p95 <= 20 ms)")


async def run(count: int, samples: int) -> None:
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_TMP")) as tmp:
        folder = Path(tmp)
        source = folder / "customers.csv"
        started = time.perf_counter()
        generate(source, count)
        print(f"generated {count:,} rows in {time.perf_counter() - started:.1f} s")
        settings = Settings(data_dir=folder / "var", log_format="text")
        keyring = load_or_create_keyring(settings)
        async with open_database(settings) as pool:
            async with pool.acquire() as conn:
                cipher = FieldCipher(await load_data_key(conn, keyring, "register"))
            marks: dict[int, float] = {}
            started = time.perf_counter()

            def progress(report: Any) -> None:
                if report.rows >= 100_000 and 100_000 not in marks:
                    marks[100_000] = time.perf_counter() - started

            with source.open(encoding="utf-8", newline="") as handle:
                report = await import_customers(
                    pool, cipher, csv.DictReader(handle), {}, on_progress=progress
                )
            elapsed = time.perf_counter() - started
            assert report.imported == count, (report.imported, report.rejected[:3])
            print(
                f"import: {count:,} rows in {elapsed:.1f} s ({count / elapsed:,.0f} rows/s); "
                f"first 100,000 in {marks.get(100_000, elapsed):.1f} s (target <= 60 s)"
            )
            await pool.execute("ANALYZE")
            await searches(pool, cipher, count, samples)


def main() -> None:
    parser = argparse.ArgumentParser(description="register benchmark")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    asyncio.run(run(args.customers, args.samples))


if __name__ == "__main__":
    main()

"""The erasure engine against real PostgreSQL and each object store."""

from __future__ import annotations

import uuid
from datetime import date

import pytest

from retention.erasure import Why
from rights.sweeps import erasure_engine
from storage.db import Pool
from storage.objects import ObjectNotFound
from storage.vault import Vault
from tests.retention.helpers import add_customer, add_recording, object_key_of

TODAY = date(2026, 11, 23)


async def hold(
    pool: Pool, *, recordings: tuple[uuid.UUID, ...] = (), customer: uuid.UUID | None = None
) -> uuid.UUID:
    hold_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO legal_holds (id, reason, customer_id) VALUES ($1, 'dispute', $2)",
        hold_id,
        customer,
    )
    for recording_id in recordings:
        await pool.execute(
            "INSERT INTO legal_hold_recordings VALUES ($1, $2)", hold_id, recording_id
        )
    return hold_id


async def test_held_recordings_are_kept_and_the_rest_shredded(pool: Pool, vault: Vault) -> None:
    customer = await add_customer(pool)
    free = await add_recording(pool, vault)
    held = await add_recording(pool, vault)
    of_held_customer = await add_recording(pool, vault, customer_id=customer)
    recording_hold = await hold(pool, recordings=(held,))
    customer_hold = await hold(pool, customer=customer)
    free_key = await object_key_of(pool, free)

    report = await erasure_engine(pool, vault.store).erase_recordings(
        [free, held, of_held_customer], Why("retention:recordings")
    )

    decisions = {d.item_id: (d.action, d.reason) for d in report.decisions}
    assert decisions == {
        free: ("erased", "retention:recordings"),
        held: ("kept", f"legal hold {recording_hold}"),
        of_held_customer: ("kept", f"legal hold {customer_hold}"),
    }
    assert (report.objects_deleted, report.objects_pending) == (1, 0)
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 2
    assert await pool.fetchval("SELECT count(*) FROM sealed_objects") == 2
    tombstone = await pool.fetchrow("SELECT * FROM tombstones")
    assert tombstone is not None
    assert (tombstone["id"], tombstone["kind"], tombstone["objects"]) == (free, "recording", 1)
    with pytest.raises(ObjectNotFound):
        await vault.store.size(free_key)
    assert await pool.fetchval("SELECT count(*) FROM pending_object_deletions") == 0


async def test_a_dry_run_decides_but_changes_nothing(pool: Pool, vault: Vault) -> None:
    recording = await add_recording(pool, vault)
    report = await erasure_engine(pool, vault.store, dry_run=True).erase_recordings(
        [recording], Why("manual")
    )
    assert report.counts() == {"recording.erased": 1}
    assert await pool.fetchval("SELECT count(*) FROM recordings") == 1
    await vault.store.size(await object_key_of(pool, recording))
    assert await pool.fetchval("SELECT count(*) FROM tombstones") == 0


@pytest.mark.parametrize(
    ("lease_end", "expected"),
    [(None, "kept_core"), (date(2020, 1, 31), "anonymised"), ("no lease", "erased")],
)
async def test_customer_erasure_respects_the_lease(
    pool: Pool, vault: Vault, lease_end: object, expected: str
) -> None:
    customer = await add_customer(pool)
    recording = await add_recording(pool, vault, customer_id=customer)
    await pool.execute(
        "INSERT INTO contact_log (id, customer_id, channel, direction, topic, note, at)"
        " VALUES ($1, $2, 'phone', 'inbound', 'rent', 'promised to pay on Friday', now())",
        uuid.uuid4(),
        customer,
    )
    if lease_end != "no lease":
        lease = uuid.uuid4()
        await pool.execute(
            "INSERT INTO leases (id, lease_number, property, apartment, start_date, end_date)"
            " VALUES ($1, 'V-1', 'Toinen linja 14', 'B 12', '2019-01-01', $2)",
            lease,
            lease_end,
        )
        await pool.execute("INSERT INTO lease_parties VALUES ($1, $2, 'tenant')", lease, customer)

    report = await erasure_engine(pool, vault.store).erase_customer(
        customer, Why("subject_request"), TODAY
    )

    counts = report.counts()
    assert counts[f"customer.{expected}"] == 1
    assert (counts["recording.erased"], counts["contact.erased"]) == (1, 1)
    assert await pool.fetchval("SELECT count(*) FROM recordings WHERE id = $1", recording) == 0
    assert await pool.fetchval("SELECT count(*) FROM contact_log") == 0
    names = await pool.fetchval(
        "SELECT first_name || last_name FROM customers WHERE id = $1", customer
    )
    assert (
        names
        == {"kept_core": "MaijaMäkinotkelma", "anonymised": "erasederased", "erased": None}[
            expected
        ]
    )


async def test_a_customer_under_hold_is_kept_whole(pool: Pool, vault: Vault) -> None:
    customer = await add_customer(pool)
    recording = await add_recording(pool, vault, customer_id=customer)
    await hold(pool, customer=customer)
    report = await erasure_engine(pool, vault.store).erase_customer(customer, Why("manual"), TODAY)
    assert report.counts() == {"customer.kept": 1, "recording.kept": 1}
    assert await pool.fetchval("SELECT count(*) FROM recordings WHERE id = $1", recording) == 1


async def test_contact_entries_of_a_held_customer_are_kept_and_the_rest_erased(
    pool: Pool, vault: Vault
) -> None:
    held_customer = await add_customer(pool, "A-1")
    free_customer = await add_customer(pool, "A-2")
    customer_hold = await hold(pool, customer=held_customer)
    entries = {}
    for customer in (held_customer, free_customer):
        entries[customer] = uuid.uuid4()
        await pool.execute(
            "INSERT INTO contact_log (id, customer_id, channel, direction, topic, note, at)"
            " VALUES ($1, $2, 'phone', 'inbound', 'rent', 'called about the rent', now())",
            entries[customer],
            customer,
        )

    report = await erasure_engine(pool, vault.store).erase_contacts(
        list(entries.values()), Why("retention:contacts", uuid.uuid4())
    )

    decisions = {d.item_id: (d.action, d.reason) for d in report.decisions}
    assert decisions == {
        entries[held_customer]: ("kept", "legal hold"),
        entries[free_customer]: ("erased", "retention:contacts"),
    }
    assert await pool.fetchval("SELECT array_agg(id) FROM contact_log") == [entries[held_customer]]
    tombstone = await pool.fetchrow("SELECT id, kind, reason, request_id FROM tombstones")
    assert tombstone is not None
    assert dict(tombstone) == {
        "id": entries[free_customer],
        "kind": "contact",
        "reason": "retention:contacts",
        "request_id": None,
    }
    await pool.execute("UPDATE legal_holds SET released_at = now() WHERE id = $1", customer_hold)
    released = await erasure_engine(pool, vault.store).erase_contacts(
        [entries[held_customer]], Why("retention:contacts")
    )
    assert released.counts() == {"contact.erased": 1}

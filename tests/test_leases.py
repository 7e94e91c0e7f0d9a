"""The scheduler's lease and the outbox's claim lock when several processes ask for them at the same moment.

Each round uses a lease nobody has taken yet, the moment two schedulers' first ticks race for it. On SQLite the
writers take turns on an in-process lock and never race, so these tests run against PostgreSQL and MariaDB only
(CI runs both); there the old update-or-insert lease deadlocked in every round.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import pytest

from ledger_store.db import transaction
from ledger_store.leases import acquire
from ledger_store.outbox import create_claim_lock, lock_claims

NOW = datetime(2024, 11, 28, 10, 0)
TTL = timedelta(minutes=2)
CONTENDERS = 6


@pytest.fixture(autouse=True)
def a_database_server(engine) -> None:
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite writers take turns on an in-process lock, so these threads cannot race")


def all_at_once(work, count: int = CONTENDERS) -> tuple[list, list[BaseException]]:
    """Run work(n) in `count` threads released together; what each returned, and what any raised."""
    start = threading.Barrier(count)
    results: list = []
    errors: list[BaseException] = []

    def run(n: int) -> None:
        start.wait()
        try:
            results.append(work(n))
        except BaseException as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


def test_schedulers_racing_for_a_new_lease_one_gets_it_and_none_fails(db):
    for round_ in range(8):
        name = f"timed-work-{round_}"
        results, errors = all_at_once(lambda n, name=name: acquire(db, name, f"host-{n}", NOW, TTL))
        assert errors == []
        assert sorted(results) == [False] * (CONTENDERS - 1) + [True]


def test_delivery_passes_racing_to_create_the_claim_lock_all_get_on(db):
    results, errors = all_at_once(lambda n: create_claim_lock(db, NOW))
    assert errors == []  # the passes that lost the race to insert the row carry on, none fails
    with transaction(db) as session:
        lock_claims(session, NOW)  # and the row is there to lock

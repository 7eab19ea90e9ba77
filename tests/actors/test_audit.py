"""The AuditLog actor: writes the senders' lists that queued up together, retries, drains on stop,
and drops only the entries the store refuses."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from actors import ActorSystem, MailboxFull
from actors.audit import AuditEntry, AuditLog, AuditServices, RejectedEntries


def _entry(i: int) -> AuditEntry:
    return AuditEntry(user_id=None, action="POST", resource=f"/r/{i}", route=None, ip_address="127.0.0.1",
                      status=200, request_id=str(i), via=None, created_at=time.time())


def _system(write: Any) -> ActorSystem:
    system = ActorSystem()
    system.provide(AuditLog, AuditServices(write))
    return system


async def test_queued_lists_are_written_together_in_order_and_drained_on_stop() -> None:
    batches: list[list[AuditEntry]] = []

    async def write(entries: list[AuditEntry]) -> None:
        batches.append(entries)

    system = _system(write)
    ref = system.ref(AuditLog, "node")
    for start in range(0, 500, 10):  # 50 lists, all queued before the actor first runs
        ref.tell([_entry(i) for i in range(start, start + 10)])
    await system.stop_all(timeout=5)
    written = [e.request_id for b in batches for e in b]
    assert written == [str(i) for i in range(500)]
    assert len(batches) == -(-50 // AuditLog.max_batch)  # max_batch lists per write


async def test_a_failing_write_is_retried() -> None:
    calls: list[int] = []

    async def flaky(entries: list[AuditEntry]) -> None:
        calls.append(len(entries))
        if len(calls) == 1:
            raise ConnectionError("database restarting")

    class Fast(AuditLog):
        retry_delays = (0.01,)

    system = _system(flaky)
    await system.ref(Fast, "node").ask([_entry(1)])
    assert calls == [1, 1]
    await system.stop_all()


async def test_full_mailbox_refuses_instead_of_growing() -> None:
    gate = asyncio.Event()

    async def slow(entries: list[AuditEntry]) -> None:
        await gate.wait()

    class Tiny(AuditLog):
        mailbox_size = 3
        max_batch = 1

    system = _system(slow)
    ref = system.ref(Tiny, "node")
    refused = 0
    for i in range(10):
        try:
            ref.tell([_entry(i)])
        except MailboxFull:
            refused += 1
        await asyncio.sleep(0)
    assert refused >= 5
    gate.set()
    await system.stop_all()


async def test_refused_entries_are_split_out_and_the_rest_written(caplog) -> None:  # type: ignore[no-untyped-def]
    stored: list[str] = []
    calls = 0

    async def picky(entries: list[AuditEntry]) -> None:  # refuses a batch holding a "bad" entry, like COPY
        nonlocal calls
        calls += 1
        if calls == 2:  # the database blinks mid-split: that half is retried as a whole
            raise ConnectionError("database restarting")
        if any(e.request_id.startswith("bad") for e in entries):
            raise RejectedEntries("invalid byte sequence")
        stored.extend(e.request_id for e in entries)

    class Fast(AuditLog):
        retry_delays = (0.01,)

    entries = [_entry(i) for i in range(20)]
    entries[3], entries[17] = entries[3]._replace(request_id="bad-3"), entries[17]._replace(request_id="bad-17")
    system = _system(picky)
    with caplog.at_level(logging.ERROR, logger="actors.audit"):
        await system.ref(Fast, "node").ask(entries)
    await system.stop_all()
    assert sorted(stored, key=int) == [str(i) for i in range(20) if i not in (3, 17)]
    dropped = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(dropped) == 2 and "bad-3" in dropped[0] and "bad-17" in dropped[1]

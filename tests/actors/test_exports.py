"""The ExportWorker: claims while it has room (never more than `concurrency` jobs at once),
claims again as jobs end, survives failing services, and on Drain or stop cancels what runs
(the jobs put themselves back) and claims nothing more."""

from __future__ import annotations

import asyncio
from typing import Any

from actors import ActorSystem
from actors.exports import Drain, ExportServices, ExportWorker, Tick, Wake


class Queue:
    """Jobs as a database would hand them out, and what became of them."""

    def __init__(self, n: int) -> None:
        self.waiting = [{"id": i} for i in range(n)]
        self.started: list[int] = []
        self.done: list[int] = []
        self.put_back: list[int] = []
        self.release: dict[int, asyncio.Event] = {}
        self.claim_failures = 0
        self.maintained = 0

    async def claim(self) -> dict[str, Any] | None:
        if self.claim_failures:
            self.claim_failures -= 1
            raise ConnectionError("database away")
        return self.waiting.pop(0) if self.waiting else None

    async def run(self, job: dict[str, Any]) -> None:
        self.started.append(job["id"])
        self.release[job["id"]] = asyncio.Event()
        try:
            await self.release[job["id"]].wait()
        except asyncio.CancelledError:
            self.put_back.append(job["id"])
            raise
        self.done.append(job["id"])

    async def maintain(self) -> None:
        self.maintained += 1
        if self.maintained == 1:
            raise RuntimeError("first upkeep fails")


def _worker(queue: Queue, concurrency: int = 2) -> tuple[ActorSystem, Any]:
    system = ActorSystem()
    system.provide(ExportWorker, ExportServices(claim=queue.claim, run=queue.run, maintain=queue.maintain,
                                                concurrency=concurrency, interval=3600, stop_timeout=2))
    return system, system.ref(ExportWorker, "node")


async def _until(check: Any) -> None:
    for _ in range(500):
        if check():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never met")


async def test_it_runs_at_most_concurrency_jobs_and_claims_as_they_end() -> None:
    queue = Queue(3)
    system, ref = _worker(queue)
    assert await ref.ask(Wake()) == 2
    assert queue.started == [0, 1]
    queue.release[0].set()
    await _until(lambda: queue.started == [0, 1, 2])
    queue.release[1].set()
    queue.release[2].set()
    await _until(lambda: sorted(queue.done) == [0, 1, 2])
    assert await ref.ask(Wake()) == 0
    await system.stop_all()


async def test_failing_claims_and_upkeep_leave_it_working() -> None:
    queue = Queue(1)
    queue.claim_failures = 2
    system, ref = _worker(queue, concurrency=1)
    assert await ref.ask(Tick()) == 0  # the start's round and this one: upkeep fails, claims fail
    assert queue.maintained >= 1 and queue.started == []
    assert await ref.ask(Tick()) == 1
    assert queue.started == [0]
    queue.release[0].set()
    await _until(lambda: queue.done == [0])
    await system.stop_all()


async def test_drain_cancels_the_running_jobs_and_claims_no_more() -> None:
    queue = Queue(3)
    system, ref = _worker(queue)
    assert await ref.ask(Wake()) == 2
    assert await ref.ask(Drain()) == 0
    assert sorted(queue.put_back) == [0, 1] and queue.done == []
    assert await ref.ask(Wake()) == 0 and await ref.ask(Tick()) == 0
    assert queue.waiting == [{"id": 2}]  # left for another node, or the next start
    await system.stop_all()


async def test_stopping_the_system_puts_running_jobs_back() -> None:
    queue = Queue(1)
    system, ref = _worker(queue)
    await ref.ask(Wake())
    await system.stop_all()
    assert queue.put_back == [0]

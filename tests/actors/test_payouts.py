"""PayoutWorker: wakes run rounds until one finds less than a batch, queued wakes coalesce,
a failing round does not kill the worker, and Drain stops further rounds."""

from __future__ import annotations

import asyncio

from actors import ActorSystem
from actors.payouts import Drain, PayoutServices, PayoutWorker, Wake


async def test_rounds_run_until_the_backlog_is_worked_through() -> None:
    backlog = [5, 5, 5, 2]  # rows each round finds, with a batch of 5
    rounds: list[int] = []

    async def run_round() -> int:
        rounds.append(backlog[len(rounds)] if len(rounds) < len(backlog) else 0)
        return rounds[-1]

    system = ActorSystem()
    system.provide(PayoutWorker, PayoutServices(run_round=run_round, batch=5))
    ref = system.ref(PayoutWorker, "node")
    assert await ref.ask(Wake()) == 4
    assert rounds == [5, 5, 5, 2]
    await system.stop_all()


async def test_wakes_coalesce_failures_are_survived_and_drain_stops_rounds() -> None:
    gate = asyncio.Event()
    calls = 0

    async def run_round() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
        if calls == 2:
            raise RuntimeError("the database restarted")
        return 0

    system = ActorSystem()
    system.provide(PayoutWorker, PayoutServices(run_round=run_round, batch=5))
    ref = system.ref(PayoutWorker, "node")
    first = asyncio.create_task(ref.ask(Wake()))
    await asyncio.sleep(0.01)
    queued = [asyncio.create_task(ref.ask(Wake())) for _ in range(20)]  # while the first round runs
    await asyncio.sleep(0.01)
    gate.set()
    await asyncio.gather(first, *queued)
    assert calls == 2  # one round for the first wake, one (failing) for all twenty queued
    await ref.ask(Wake())
    assert calls == 3  # the worker lived on
    await ref.ask(Drain())
    await ref.ask(Wake())
    assert calls == 3
    await system.stop_all()


async def test_stopping_is_checked_between_rounds() -> None:
    stopping = asyncio.Event()

    async def run_round() -> int:
        stopping.set()  # shutdown begins during this round
        return 5  # a full batch: more may be left

    system = ActorSystem()
    system.provide(PayoutWorker, PayoutServices(run_round=run_round, batch=5, stopping=stopping.is_set))
    assert await system.ref(PayoutWorker, "node").ask(Wake()) == 1
    await system.stop_all()

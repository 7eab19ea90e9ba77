"""The actor runtime's guarantees, one test each."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from actors import Actor, ActorDead, ActorSystem, Envelope, MailboxFull


@dataclass(frozen=True)
class Add:
    n: int


@dataclass(frozen=True)
class Get:
    pass


class Counter(Actor):
    starts = 0

    async def on_start(self) -> None:
        Counter.starts += 1
        self.total = self.context.get(self.key, 0) if isinstance(self.context, dict) else 0

    async def receive(self, message):  # type: ignore[no-untyped-def]
        if isinstance(message, Add):
            self.total += message.n
            return self.total
        if isinstance(message, Get):
            return self.total
        raise ValueError(f"unknown {message!r}")


async def test_tell_and_ask() -> None:
    system = ActorSystem({})
    ref = system.ref(Counter, "a")
    ref.tell(Add(2))
    assert await ref.ask(Add(3)) == 5
    assert await ref.ask(Get()) == 5
    await system.stop_all()


async def test_ten_thousand_concurrent_asks_to_one_actor() -> None:
    class Big(Counter):
        mailbox_size = 512

    system = ActorSystem({})
    ref = system.ref(Big, "hot")
    results = await asyncio.gather(*(ref.ask(Add(1), timeout=30) for _ in range(10_000)))
    assert sorted(results) == list(range(1, 10_001))
    assert await ref.ask(Get()) == 10_000
    await system.stop_all()


async def test_handler_raising_every_third_message_answers_the_error_and_goes_on() -> None:
    class Flaky(Actor):
        max_failures = 10_000

        async def on_start(self) -> None:
            self.seen = 0

        async def receive(self, message):  # type: ignore[no-untyped-def]
            self.seen += 1
            if self.seen % 3 == 0:
                raise RuntimeError(f"boom {self.seen}")
            return self.seen

    system = ActorSystem()
    ref = system.ref(Flaky, 1)
    outcomes = await asyncio.gather(*(ref.ask(i) for i in range(30)), return_exceptions=True)
    errors = [o for o in outcomes if isinstance(o, RuntimeError)]
    assert len(errors) == 10
    assert [o for o in outcomes if not isinstance(o, Exception)] == [i for i in range(1, 31) if i % 3]
    assert await ref.ask("after") == 31  # still the same live actor
    await system.stop_all()


async def test_concurrent_first_messages_spawn_exactly_one_actor() -> None:
    Counter.starts = 0
    system = ActorSystem({})
    refs = [system.ref(Counter, "same") for _ in range(100)]
    await asyncio.gather(*(r.ask(Add(1)) for r in refs))
    assert Counter.starts == 1
    assert system.counts() == {"Counter": 1}
    assert await refs[0].ask(Get()) == 100
    await system.stop_all()


async def test_full_mailbox_is_back_pressure() -> None:
    class Slow(Actor):
        mailbox_size = 4

        async def receive(self, message):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.05)

    system = ActorSystem()
    ref = system.ref(Slow, 1)
    with pytest.raises(MailboxFull):
        for i in range(100):
            ref.tell(i)
    await ref.send("waits for room", timeout=5)
    await system.stop_all()


async def test_idle_actor_passivates_and_respawns_from_persisted_state() -> None:
    store = {"k": 41}

    class Persisted(Counter):
        idle_timeout = 0.05

        async def on_stop(self) -> None:
            store[self.key] = self.total

    system = ActorSystem(store)
    ref = system.ref(Persisted, "k")
    assert await ref.ask(Add(1)) == 42
    for _ in range(100):
        if not system.is_alive(Persisted, "k"):
            break
        await asyncio.sleep(0.02)
    assert not system.is_alive(Persisted, "k")
    assert await ref.ask(Add(1)) == 43  # same ref, fresh actor, state reloaded
    await system.stop_all()


async def test_repeated_failures_restart_from_persisted_state() -> None:
    store = {"r": 100}

    class Fragile(Counter):
        max_failures = 3

    system = ActorSystem(store)
    ref = system.ref(Fragile, "r")
    await ref.ask(Add(5))  # in memory only: 105
    Counter.starts = 0
    for _ in range(3):
        with pytest.raises(ValueError):
            await ref.ask("bad")
    # Restarted: a fresh instance reloaded the persisted 100.
    assert await ref.ask(Get()) == 100
    assert Counter.starts == 1
    await system.stop_all()


async def test_shutdown_drains_every_accepted_message() -> None:
    handled: list[int] = []

    class Recorder(Actor):
        async def receive(self, message):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0)
            handled.append(message)

    system = ActorSystem()
    refs = [system.ref(Recorder, k) for k in range(10)]
    for i in range(500):
        refs[i % 10].tell(i)
    await system.stop_all(timeout=10)
    assert sorted(handled) == list(range(500))
    with pytest.raises(ActorDead):
        await refs[0].ask("late")


async def test_receive_many_gets_queued_messages_as_one_batch() -> None:
    sizes: list[int] = []

    class Batcher(Actor):
        async def receive_many(self, batch: list[Envelope]) -> None:
            sizes.append(len(batch))
            for env in batch:
                env.reply(env.message * 2)

    system = ActorSystem()
    ref = system.ref(Batcher, 1)
    results = await asyncio.gather(*(ref.ask(i) for i in range(50)))
    assert results == [i * 2 for i in range(50)]
    assert max(sizes) > 1 and sum(sizes) == 50
    await system.stop_all()


async def test_failing_start_fails_askers_without_hanging() -> None:
    class Broken(Actor):
        async def on_start(self) -> None:
            raise RuntimeError("no state")

    system = ActorSystem()
    with pytest.raises(ActorDead):
        await system.ref(Broken, 1).ask("x", timeout=2)
    await system.stop_all()

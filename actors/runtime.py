"""The actor runtime: asyncio tasks with bounded mailboxes, owned by an ActorSystem.

- `ref.tell(msg)` enqueues without waiting; a full mailbox raises MailboxFull
  (back-pressure, never unbounded growth). `await ref.send(msg)` waits for room instead.
- `await ref.ask(msg, timeout=...)` waits for the reply; the handler's exception is
  re-raised in the asker, and the actor keeps running.
- The system spawns one actor per (class, key) on first use. Spawning has no await
  between lookup and insert, so concurrent first messages still make exactly one.
- An idle actor (no message for `idle_timeout`) is passivated if `can_passivate()`; a
  later message transparently spawns a fresh one, which reloads from persisted state.
- `max_failures` failures within `failure_window` seconds restart the actor: a new
  instance, `on_start` again, the mailbox (and so every accepted message) kept.
- `stop_all()` lets every actor drain what it accepted, then calls `on_stop`.
- Each actor class declares what it needs from outside as a typed object (a dataclass of
  Protocols, e.g. `chat_room.RoomServices`); `system.provide(cls, deps)` hands it over and
  every actor of that class is spawned with it as `self.context`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Hashable
from typing import Any, ClassVar, Generic, TypeVar

log = logging.getLogger("actors")

_STOP = object()


class ActorDead(RuntimeError):
    """The actor stopped (or the system is shutting down) before it could answer."""


class MailboxFull(RuntimeError):
    """The actor's mailbox is at capacity: back off and retry, or use `send`."""


class Envelope:
    """One message in a mailbox, with the future of its asker (None for tell)."""

    __slots__ = ("message", "future")

    def __init__(self, message: Any, future: asyncio.Future[Any] | None) -> None:
        self.message = message
        self.future = future

    def reply(self, value: Any) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_result(value)

    def fail(self, exc: BaseException) -> None:
        if self.future is not None and not self.future.done():
            self.future.set_exception(exc)


class Actor:
    """Subclass and implement `receive` (or `receive_many` to batch).

    State lives on the instance; nothing outside the actor's task touches it. What the
    actor needs from outside (stores, broker, clock) is in `self.context`: the object
    `ActorSystem.provide` registered for its class.
    """

    mailbox_size: ClassVar[int] = 1024
    max_batch: ClassVar[int] = 256
    idle_timeout: ClassVar[float | None] = 60.0
    max_failures: ClassVar[int] = 5
    failure_window: ClassVar[float] = 10.0

    def __init__(self, key: Hashable, context: Any) -> None:
        self.key = key
        self.context = context

    async def on_start(self) -> None:
        """Load state. Runs in the actor's task before the first message."""

    async def on_stop(self) -> None:
        """Runs after the mailbox is drained, on passivation or shutdown."""

    async def on_failure(self, exc: BaseException, message: Any) -> None:
        """Called after `receive` raised for `message` (the asker already got `exc`)."""

    def can_passivate(self) -> bool:
        return True

    def tell_self(self, message: Any) -> None:
        """Enqueue a message to this actor (e.g. from a broker callback, which must not block).

        Raises MailboxFull / ActorDead like `tell`.
        """
        cell: _Cell | None = getattr(self, "_cell", None)
        if cell is None:
            raise ActorDead(f"{type(self).__name__}[{self.key}] is not running")
        cell.put(Envelope(message, None))

    async def receive(self, message: Any) -> Any:
        raise NotImplementedError

    async def receive_many(self, batch: list[Envelope]) -> None:
        """Handle every queued message at once. Default: one `receive` each, in order.

        An override must reply to (or fail) every envelope.
        """
        for envelope in batch:
            try:
                envelope.reply(await self.receive(envelope.message))
            except Exception as exc:
                envelope.fail(exc)
                await self._failed(exc, envelope.message)

    async def _failed(self, exc: BaseException, message: Any) -> None:
        log.warning("%s[%s] failed on %s: %r", type(self).__name__, self.key, type(message).__name__, exc)
        try:
            await self.on_failure(exc, message)
        finally:
            cell: _Cell | None = getattr(self, "_cell", None)
            if cell is not None:
                cell.record_failure()


A = TypeVar("A", bound=Actor)


class _Cell:
    """The running incarnation of one actor: its mailbox and task."""

    def __init__(self, system: ActorSystem, cls: type[Actor], key: Hashable) -> None:
        self.system = system
        self.cls = cls
        self.key = key
        self.mailbox: asyncio.Queue[Any] = asyncio.Queue(cls.mailbox_size)
        self.closed = False
        self.failures: list[float] = []
        self.restart_requested = False
        self._room_waiters: deque[asyncio.Future[None]] = deque()
        self.actor = self._new_actor()
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"actor:{cls.__name__}:{key}")

    def _new_actor(self) -> Actor:
        actor = self.cls(self.key, self.system.dependencies(self.cls))
        actor._cell = self  # type: ignore[attr-defined]
        return actor

    def record_failure(self) -> None:
        now = time.monotonic()
        self.failures = [t for t in self.failures if now - t < self.cls.failure_window] + [now]
        if len(self.failures) >= self.cls.max_failures:
            self.restart_requested = True

    def put(self, envelope: Envelope) -> None:
        if self.closed:
            raise ActorDead(f"{self.cls.__name__}[{self.key}] is stopped")
        try:
            self.mailbox.put_nowait(envelope)
        except asyncio.QueueFull:
            raise MailboxFull(f"{self.cls.__name__}[{self.key}] mailbox full") from None

    async def wait_for_room(self) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._room_waiters.append(future)
        try:
            await future
        finally:
            if not future.done():
                future.cancel()

    def _wake_waiters(self, everyone: bool = False) -> None:
        room = len(self._room_waiters) if everyone else self.cls.mailbox_size - self.mailbox.qsize()
        while room > 0 and self._room_waiters:
            waiter = self._room_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                room -= 1

    def _take_batch(self, first: Any) -> tuple[list[Envelope], bool]:
        batch, stop = [], False
        item = first
        while True:
            if item is _STOP:
                stop = True
                break
            batch.append(item)
            if len(batch) >= self.cls.max_batch or self.mailbox.empty():
                break
            item = self.mailbox.get_nowait()
        return batch, stop

    async def _run(self) -> None:
        try:
            await self.actor.on_start()
        except Exception as exc:
            log.exception("%s[%s] failed to start", self.cls.__name__, self.key)
            self._close(ActorDead(f"{self.cls.__name__}[{self.key}] failed to start: {exc!r}"))
            return
        stop = False
        while not stop:
            try:
                item = await asyncio.wait_for(self.mailbox.get(), self.cls.idle_timeout)
            except TimeoutError:
                if self.mailbox.empty() and self.actor.can_passivate() and not self.system.stopping:
                    # No await between the check and the close: nothing can slip in between.
                    self._close(None)
                    await self._stop_actor()
                    return
                continue
            batch, stop = self._take_batch(item)
            self._wake_waiters()
            if batch:
                try:
                    await self.actor.receive_many(batch)
                except Exception as exc:  # a broken override must not kill the actor
                    for envelope in batch:
                        envelope.fail(exc)
                    await self.actor._failed(exc, batch[0].message)
            if self.restart_requested:
                await self._restart()
        self._close(ActorDead(f"{self.cls.__name__}[{self.key}] stopped"))
        await self._stop_actor()

    async def _restart(self) -> None:
        log.error("%s[%s] failing repeatedly: restarting from persisted state", self.cls.__name__, self.key)
        self.restart_requested = False
        self.failures.clear()
        await self._stop_actor()
        self.actor = self._new_actor()
        try:
            await self.actor.on_start()
        except Exception:
            log.exception("%s[%s] failed to restart", self.cls.__name__, self.key)
            self._close(ActorDead(f"{self.cls.__name__}[{self.key}] failed to restart"))

    async def _stop_actor(self) -> None:
        try:
            await self.actor.on_stop()
        except Exception:
            log.exception("%s[%s] on_stop failed", self.cls.__name__, self.key)

    def _close(self, error: BaseException | None) -> None:
        self.closed = True
        self.system._forget(self)
        while not self.mailbox.empty():
            item = self.mailbox.get_nowait()
            if isinstance(item, Envelope):
                item.fail(error or ActorDead("actor passivated"))
        # Senders waiting for room retry: they find a fresh incarnation or ActorDead.
        self._wake_waiters(everyone=True)


class ActorRef(Generic[A]):
    """A handle that stays valid across passivation: it finds (or respawns) the live actor."""

    __slots__ = ("_system", "cls", "key")

    def __init__(self, system: ActorSystem, cls: type[A], key: Hashable) -> None:
        self._system = system
        self.cls = cls
        self.key = key

    def tell(self, message: Any) -> None:
        self._system._cell(self.cls, self.key).put(Envelope(message, None))

    async def send(self, message: Any, timeout: float | None = 5.0) -> None:
        """Like tell, but waits (up to timeout) for mailbox room instead of raising."""
        await self._enqueue(Envelope(message, None), timeout)

    async def ask(self, message: Any, timeout: float | None = 5.0) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        async with asyncio.timeout(timeout):
            await self._enqueue(Envelope(message, future), None)
            return await future

    async def submit(self, message: Any, timeout: float | None = 5.0) -> asyncio.Future[Any]:
        """Enqueue (waiting up to timeout for mailbox room) and return the reply's future
        without waiting for it: a sender can pipeline, its messages handled in order."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        await self._enqueue(Envelope(message, future), timeout)
        return future

    async def _enqueue(self, envelope: Envelope, timeout: float | None) -> None:
        cell = self._system._cell(self.cls, self.key)
        if not cell.mailbox.full():  # the usual case: no clock to arm (a chat send's hot path)
            cell.put(envelope)
            return
        async with asyncio.timeout(timeout):
            while True:
                cell = self._system._cell(self.cls, self.key)
                if not cell.mailbox.full():
                    cell.put(envelope)
                    return
                await cell.wait_for_room()

    def __repr__(self) -> str:
        return f"ActorRef({self.cls.__name__}, {self.key!r})"


class ActorSystem:
    """Owns every actor of this node; one per app (no global registry)."""

    def __init__(self, context: Any = None) -> None:
        self.context = context  # for actor classes with nothing provided
        self.stopping = False
        self._cells: dict[tuple[type[Actor], Hashable], _Cell] = {}
        self._provided: dict[type[Actor], Any] = {}

    def provide(self, cls: type[Actor], dependencies: Any) -> None:
        """Spawn every `cls` actor (and subclass) with `dependencies` as its context.

        Call it before the first message to `cls`; a running actor keeps what it got."""
        self._provided[cls] = dependencies

    def dependencies(self, cls: type[Actor]) -> Any:
        """What `cls` was provided with (searching its bases), else the system's context."""
        for base in cls.__mro__:
            if base in self._provided:
                return self._provided[base]
        return self.context

    def ref(self, cls: type[A], key: Hashable) -> ActorRef[A]:
        return ActorRef(self, cls, key)

    def _cell(self, cls: type[Actor], key: Hashable) -> _Cell:
        cell = self._cells.get((cls, key))
        if cell is None or cell.closed:
            if self.stopping:
                raise ActorDead("actor system is shutting down")
            cell = _Cell(self, cls, key)
            self._cells[(cls, key)] = cell
        return cell

    def _forget(self, cell: _Cell) -> None:
        if self._cells.get((cell.cls, cell.key)) is cell:
            del self._cells[(cell.cls, cell.key)]

    def is_alive(self, cls: type[Actor], key: Hashable) -> bool:
        cell = self._cells.get((cls, key))
        return cell is not None and not cell.closed

    def live(self, cls: type[A]) -> list[A]:
        """The live actor instances of one class (for metrics and tests, not for messaging)."""
        return [c.actor for (k, _), c in self._cells.items() if k is cls and not c.closed]  # type: ignore[misc]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (cls, _), cell in self._cells.items():
            if not cell.closed:
                out[cls.__name__] = out.get(cls.__name__, 0) + 1
        return out

    async def stop_all(self, timeout: float = 8.0) -> None:
        """Stop accepting new actors; let each drain what it accepted, then stop."""
        self.stopping = True
        cells = list(self._cells.values())
        for cell in cells:
            if not cell.closed:
                # Waits for room: a full mailbox still drains before the stop marker.
                try:
                    async with asyncio.timeout(timeout):
                        await cell.mailbox.put(_STOP)
                except TimeoutError:
                    pass
        tasks = [c.task for c in cells]
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            if pending:
                log.error("%d actors did not drain within %.1fs", len(pending), timeout)

"""ExportWorker: one per node, runs the GDPR data export jobs that this node claims.

Jobs are rows (PostgreSQL is the queue): the worker claims a queued job (never one another
node holds), runs it in a task of its own, and claims the next when one finishes, up to
`concurrency` at a time. So a restart resumes what was queued, and several nodes share the
queue. Messages:

- `Wake()`: a job was queued (sent after the request's commit; a lost one costs a tick).
- `Drain()`: stop claiming, cancel the running jobs and wait until they put themselves back.
- every `interval` seconds the worker ticks itself: `maintain()` (fail the attempts of
  jobs whose worker died, delete archives past their retention), then it claims again.

What it needs from outside is its `ExportServices`: `claim`, `run` (one job to its end;
it is cancelled on shutdown and must then put its job back) and `maintain`. It never
imports veza: the app hands these over with `ActorSystem.provide`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, ClassVar

from actors.runtime import Actor, ActorDead, MailboxFull

log = logging.getLogger("actors.exports")


@dataclasses.dataclass(frozen=True, slots=True)
class ExportServices:
    claim: Callable[[], Awaitable[Any | None]]  # the next job for this node (with an `id` key), or None
    run: Callable[[Any], Awaitable[None]]  # run one job to its end
    maintain: Callable[[], Awaitable[None]]  # reap stuck jobs, expire old archives
    concurrency: int = 1
    interval: float = 30.0
    stop_timeout: float = 5.0  # how long a stopping worker waits for its cancelled jobs to put themselves back


@dataclasses.dataclass(frozen=True, slots=True)
class Wake:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Drain:
    """Stop claiming; cancel the running jobs (they put themselves back) and wait for them.
    Asked by the app before it closes what the jobs use (storage)."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Finished:
    job_id: Hashable


class ExportWorker(Actor):
    idle_timeout: ClassVar[float | None] = None  # a service actor lives as long as the node
    mailbox_size: ClassVar[int] = 256
    context: ExportServices

    async def on_start(self) -> None:
        self.running: dict[Hashable, asyncio.Task[None]] = {}
        self.draining = False
        self._ticker = asyncio.get_running_loop().create_task(self._tick(), name="export-worker-tick")
        self.tell_self(Tick())  # resume what an earlier run left queued or stuck

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.context.interval)
            try:
                self.tell_self(Tick())
            except MailboxFull:
                pass  # plenty of wake-ups queued already
            except ActorDead:
                return

    async def receive(self, message: Any) -> Any:
        if isinstance(message, Drain):
            self.draining = True
            await self._cancel_running()
            return 0
        if self.draining:
            return 0
        if isinstance(message, _Finished):
            self.running.pop(message.job_id, None)
        elif isinstance(message, Tick):
            try:
                await self.context.maintain()
            except Exception:  # noqa: BLE001 - the next tick tries again
                log.exception("export upkeep failed")
        elif not isinstance(message, Wake):
            raise TypeError(f"ExportWorker cannot handle {type(message).__name__}")
        return await self._fill()

    async def _fill(self) -> int:
        """Claim jobs while there is room; how many run now."""
        self.running = {job_id: task for job_id, task in self.running.items() if not task.done()}
        while not self.draining and len(self.running) < self.context.concurrency:
            try:
                job = await self.context.claim()
            except Exception:  # noqa: BLE001 - the database is away: the next tick tries again
                log.exception("claiming an export job failed")
                break
            if job is None:
                break
            job_id = job["id"]
            task = asyncio.get_running_loop().create_task(self._run(job), name=f"export:{job_id}")
            self.running[job_id] = task
        return len(self.running)

    async def _run(self, job: Any) -> None:
        try:
            await self.context.run(job)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - `run` settles its job; this is a bug, logged
            log.exception("export job %s crashed", job["id"])
        finally:
            try:
                self.tell_self(_Finished(job["id"]))
            except (MailboxFull, ActorDead):
                pass  # stopping, or flooded: the next message prunes finished tasks anyway

    async def on_stop(self) -> None:
        self._ticker.cancel()
        await self._cancel_running()

    async def _cancel_running(self) -> None:
        tasks = list(self.running.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self.context.stop_timeout)
        self.running.clear()

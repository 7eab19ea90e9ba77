"""AuditLog: a write-behind service actor that persists audit entries in batches.

Senders gather entries and `tell` it a list of them at a time (`veza.controls.audit`
hands over what 50 ms of requests produced); the actor drains every list queued and
writes them with one statement. A full mailbox means the database is behind: the sender
drops the batch and counts it rather than slowing requests down.

The writer arrives in its `AuditServices` (`write`, an `async (entries) -> None`), so this
module knows nothing of SQL. It raises
`RejectedEntries` when the store refuses what some entry holds: the actor then splits the
batch to drop only those entries, where anything else (the database restarting) is retried
as a whole.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

from actors.runtime import Actor, Envelope

log = logging.getLogger("actors.audit")

class RejectedEntries(Exception):
    """The writer's answer when the store refuses the content of some entry of the batch:
    writing the same batch again cannot succeed."""


class AuditEntry(NamedTuple):
    """One audited request. Senders may send plain tuples in this field order (building the
    NamedTuple costs a Python call per request); the writer reads entries by position."""

    user_id: UUID | None
    action: str
    resource: str
    route: str | None
    ip_address: str
    status: int
    request_id: str | None
    via: str | None
    created_at: float  # Unix time: cheaper to take per request than a datetime


@dataclasses.dataclass(frozen=True, slots=True)
class AuditServices:
    """Everything the AuditLog needs from outside: the writer of a batch."""

    write: Callable[[Sequence[AuditEntry]], Awaitable[None]]


class AuditLog(Actor):
    """Messages are lists of AuditEntry (a sender's batch)."""

    context: AuditServices

    mailbox_size: ClassVar[int] = 256  # lists: with the edge's lists of up to 100, ~25,000 entries
    max_batch: ClassVar[int] = 16  # lists written together (one COPY), when the writer fell behind
    idle_timeout: ClassVar[float | None] = None  # a service actor lives as long as the node
    retry_delays: ClassVar[tuple[float, ...]] = (0.1, 0.5, 2.0)

    async def receive_many(self, batch: list[Envelope]) -> None:
        entries = [entry for envelope in batch for entry in envelope.message]
        if entries:
            await self._write(entries)
        for envelope in batch:
            envelope.reply(len(envelope.message))

    async def _write(self, entries: list[AuditEntry]) -> bool:
        """Writes, retrying the whole batch while the database is unavailable; False when it
        stayed so through the retries (the entries are dropped)."""
        write = self.context.write
        for delay in (*self.retry_delays, None):
            try:
                await write(entries)
                return True
            except RejectedEntries as exc:  # no retry can help: find the bad entries
                return await self._split(entries, exc)
            except Exception as exc:  # the database may be restarting: retry, then give up loudly
                if delay is None:
                    log.error("dropping %d audit entries after retries: %r", len(entries), exc)
                    return False
                log.warning("audit write failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
        return False  # pragma: no cover - the loop always returns

    async def _split(self, entries: list[AuditEntry], exc: RejectedEntries) -> bool:
        """Bisects a refused batch: the good entries are written, each bad one dropped once."""
        if len(entries) == 1:
            log.error("dropping audit entry of request %s: %r", entries[0][6], exc.__cause__ or exc)
            return True
        half = len(entries) // 2
        if not await self._write(entries[:half]):  # unavailable meanwhile: the rest would wait as long
            log.error("dropping %d audit entries after retries", len(entries) - half)
            return False
        return await self._write(entries[half:])

    async def receive(self, message: Any) -> Any:  # pragma: no cover - receive_many handles all
        raise TypeError(f"unexpected message {type(message).__name__}")

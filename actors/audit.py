"""AuditLog: a write-behind service actor that persists audit entries in batches.

Requests `tell` it an `AuditEntry` and return at once; the actor drains everything
queued and writes it with one statement. A full mailbox means the database is behind:
the sender drops the entry and counts it rather than slowing requests down.

The writer arrives in the context (`context.services["audit.write"]`, an
`async (entries) -> None`), so this module knows nothing of SQL.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar, NamedTuple
from uuid import UUID

from actors.runtime import Actor, Envelope

log = logging.getLogger("actors.audit")

WRITER = "audit.write"


class AuditEntry(NamedTuple):
    """One audited request (a NamedTuple: built on every write request, so it must be cheap)."""

    user_id: UUID | None
    action: str
    resource: str
    route: str | None
    ip_address: str
    status: int
    request_id: str | None
    via: str | None
    created_at: float  # Unix time: cheaper to take per request than a datetime


class AuditLog(Actor):
    mailbox_size: ClassVar[int] = 10_000
    max_batch: ClassVar[int] = 1_000
    idle_timeout: ClassVar[float | None] = None  # a service actor lives as long as the node
    retry_delays: ClassVar[tuple[float, ...]] = (0.1, 0.5, 2.0)
    # After a write, let entries gather this long: under load, fewer and larger writes.
    linger: ClassVar[float] = 0.05

    async def receive_many(self, batch: list[Envelope]) -> None:
        entries = [e.message for e in batch if isinstance(e.message, AuditEntry)]
        if entries:
            await self._write(entries)
        for envelope in batch:
            envelope.reply(len(entries))
        await asyncio.sleep(self.linger)

    async def _write(self, entries: list[AuditEntry]) -> None:
        write = self.context.services[WRITER]
        for delay in (*self.retry_delays, None):
            try:
                await write(entries)
                return
            except Exception as exc:  # the database may be restarting: retry, then give up loudly
                if delay is None:
                    log.error("dropping %d audit entries after retries: %r", len(entries), exc)
                    return
                log.warning("audit write failed (%r); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)

    async def receive(self, message: Any) -> Any:  # pragma: no cover - receive_many handles all
        raise TypeError(f"unexpected message {type(message).__name__}")

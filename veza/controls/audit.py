"""The sending side of the audit trail: build an entry from a finished request, hand
batches of them to the AuditLog actor.

Called by the edge (`veza.http.edge`) for every POST/PUT/PATCH/DELETE outside the
reference's skipped paths (`audited`, decided once per route).

Never awaits anything: the request pays for a list append, not a database round trip.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

import asyncpg
from aiohttp import web
from prometheus_client import Counter

from actors import ActorDead, MailboxFull
from actors.audit import AuditEntry, AuditLog, AuditServices, RejectedEntries
from veza import keys
from veza.http.client_info import storable
from veza.store import audit as audit_store

log = logging.getLogger("veza.audit")

AUDITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The reference's skipped paths (with and without the API prefix).
SKIPPED_PREFIXES = ("/health", "/metrics", "/swagger", "/readyz", "/api/v1/admin",
                    "/api/v1/health", "/api/v1/metrics", "/api/v1/readyz")


# What the store refuses in an entry's content (no retry can help), as opposed to the
# database being unavailable: PostgreSQL's data errors, asyncpg's encoding errors.
_REJECTED = (asyncpg.DataError, ValueError, TypeError, OverflowError)


def audited(method: str, path: str) -> bool:
    """A request (or a route, by its template) that the audit trail records."""
    return method in AUDITED_METHODS and not path.startswith(SKIPPED_PREFIXES)


class AuditRecorder:
    """Builds an entry from each finished request and hands the AuditLog actor a batch at a
    time: a request pays one list append, the actor gets one message per `interval` (or per
    `max_pending` entries under load). Nothing is awaited.

    Batches stay small under load on purpose: the writer encodes a batch in one go on the
    event loop, and 100 rows are about half a millisecond (1,000 made POST p99 triple)."""

    __slots__ = ("log", "dropped", "interval", "max_pending", "_pending", "_timer")

    def __init__(self, log: Any, dropped: Counter, interval: float = 0.05, max_pending: int = 100) -> None:
        self.log, self.dropped = log, dropped
        self.interval, self.max_pending = interval, max_pending
        self._pending: list[tuple[Any, ...]] = []  # AuditEntry-shaped rows
        self._timer: asyncio.TimerHandle | None = None

    def record(self, request: web.Request, status: int, request_id: str, route: str | None, ip: str) -> None:
        """`route`: the template the request matched (None when it matched none)."""
        # `len(request)` first: a request with no state at all (anonymous, the common case
        # here) would otherwise pay for the KeyError that Mapping.get raises and catches.
        principal = request.get(keys.principal) if len(request) else None
        # The path and the address (X-Forwarded-For behind proxies) come from the client: one
        # refused character would fail the whole batch. Two C-level checks in the common case.
        # The method is one of AUDITED_METHODS and the request id is checked or minted.
        path = request.path
        if not path.isascii() or "\x00" in path:
            path = storable(path, 2048)
        if not ip.isascii() or "\x00" in ip:
            ip = storable(ip, 64)
        pending = self._pending
        # A plain tuple in AuditEntry's field order: building the NamedTuple itself costs
        # a Python-level __new__ per request, and the writer only reads by position.
        pending.append((principal.user_id if principal else None, request.method, path[:2048], route,
                        ip[:64], status, request_id, principal.via if principal else None, time.time()))
        if len(pending) >= self.max_pending:
            self.flush()
        elif len(pending) == 1:
            self._timer = asyncio.get_running_loop().call_later(self.interval, self.flush)

    def flush(self) -> None:
        """Hand what is pending to the actor now (on its timer, when full, and at shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            self.log.tell(batch)
        except (MailboxFull, ActorDead):  # the database is far behind (or gone): count, never block
            self.dropped.inc(len(batch))
            log.warning("audit writer behind: dropped %d entries", len(batch))


def start_audit(app: web.Application) -> AuditRecorder:
    """Hand the writer to the actor system; the actor spawns on the first entry.

    Call `flush` on shutdown, before the actor system drains its mailboxes (and so before
    the database pool closes).
    """
    db = app[keys.db]

    async def write(entries: Sequence[AuditEntry]) -> None:
        async with db.connection() as conn:
            try:
                await audit_store.insert_many(conn, entries)
            except _REJECTED as exc:  # the actor bisects the batch to drop only the bad entries
                raise RejectedEntries(str(exc)) from exc

    system = app[keys.actors]
    system.provide(AuditLog, AuditServices(write))
    app[keys.audit_log] = system.ref(AuditLog, "node")
    dropped = Counter("veza_audit_dropped_total", "Audit entries dropped (writer behind)",
                      registry=app[keys.metrics_registry])
    return AuditRecorder(app[keys.audit_log], dropped)

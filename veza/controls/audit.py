"""The sending side of the audit trail: build an entry from a finished request, tell the actor.

Called by the platform controls (`veza.http.middlewares.controls`) for every
POST/PUT/PATCH/DELETE outside the reference's skipped paths.

Never awaits anything: the request pays for one mailbox put, not a database round trip.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiohttp import web
from prometheus_client import Counter

from actors import ActorDead, MailboxFull
from actors.audit import WRITER, AuditEntry, AuditLog
from veza import keys
from veza.http.client_info import client_ip
from veza.store import audit as audit_store

log = logging.getLogger("veza.audit")

AUDITED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# The reference's skipped paths (with and without the API prefix).
SKIPPED_PREFIXES = ("/health", "/metrics", "/swagger", "/readyz", "/api/v1/admin",
                    "/api/v1/health", "/api/v1/metrics", "/api/v1/readyz")


class AuditRecorder:
    """Builds an entry from a finished request and tells the AuditLog actor (one mailbox put)."""

    __slots__ = ("log", "dropped")

    def __init__(self, log: Any, dropped: Counter) -> None:
        self.log, self.dropped = log, dropped

    @staticmethod
    def audited(request: web.Request) -> bool:
        return request.method in AUDITED_METHODS and not request.path.startswith(SKIPPED_PREFIXES)

    def record(self, request: web.Request, status: int) -> None:
        try:  # (not request.get: the generic Mapping.get is slow, and this runs per write request)
            principal = request[keys.principal]
        except KeyError:
            principal = None
        resource = request.match_info.route.resource
        entry = AuditEntry(  # positional: a NamedTuple's keyword path is several times slower
            principal.user_id if principal else None,
            request.method,
            request.path[:2048],
            resource.canonical if resource is not None else None,
            client_ip(request)[:64],
            status,
            request[keys.request_id],
            principal.via if principal else None,
            time.time(),
        )
        try:
            self.log.tell(entry)
        except (MailboxFull, ActorDead):
            self.dropped.inc()


def start_audit(app: web.Application) -> AuditRecorder:
    """Hand the writer to the actor system; the actor spawns on the first entry.

    The actor system drains the mailbox on shutdown, before the database pool closes.
    """
    db = app[keys.db]

    async def write(entries: list[AuditEntry]) -> None:
        async with db.connection() as conn:
            await audit_store.insert_many(conn, entries)

    system = app[keys.actors]
    system.context.services[WRITER] = write
    app[keys.audit_log] = system.ref(AuditLog, "node")
    dropped = Counter("veza_audit_dropped_total", "Audit entries dropped (writer behind)",
                      registry=app[keys.metrics_registry])
    return AuditRecorder(app[keys.audit_log], dropped)

"""The sending side of the audit trail: build an entry from a finished request, tell the actor.

Called by the platform-controls middleware (`veza.http.middlewares.controls`) for every
POST/PUT/PATCH/DELETE outside the reference's skipped paths.

Never awaits anything: the request pays for one mailbox put, not a database round trip.
"""

from __future__ import annotations

import datetime as dt
import logging
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


def audited(request: web.Request) -> bool:
    return request.method in AUDITED_METHODS and not request.path.startswith(SKIPPED_PREFIXES)


def record(request: web.Request, status: int) -> None:
    principal = request.get(keys.principal)
    resource = request.match_info.route.resource
    entry = AuditEntry(
        user_id=principal.user_id if principal else None,
        action=request.method,
        resource=request.path[:2048],
        route=resource.canonical if resource is not None else None,
        ip_address=client_ip(request)[:64],
        status=status,
        request_id=request.get(keys.request_id),
        via=principal.via if principal else None,
        created_at=dt.datetime.now(dt.UTC),
    )
    try:
        request.app[keys.audit_log].tell(entry)
    except (MailboxFull, ActorDead):
        request.app[keys.audit_dropped].inc()


def start_audit(app: web.Application) -> None:
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
    app[keys.audit_dropped] = Counter("veza_audit_dropped_total", "Audit entries dropped (writer behind)",
                                      registry=app[keys.metrics_registry])

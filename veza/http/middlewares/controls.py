"""The platform controls of every request, called by the edge middleware (`edge.py`) rather
than being a middleware layer of their own (each layer costs a coroutine per request):

1. privacy: Sec-GPC -> `keys.do_not_sell`
2. rate limits (`rate_limit.check`): 429, or the X-RateLimit-* values for the response
3. maintenance (`maintenance.check`, only while it is on): 503 for non-admins
4. audit (`veza.controls.audit`): POST/PUT/PATCH/DELETE recorded after the handler,
   refusals (429, 503) included, handed to the AuditLog actor without awaiting it

Refusals are raised as ApiErrors; the edge turns them into the envelope.
"""

from __future__ import annotations

from aiohttp import web

from veza import keys
from veza.controls.audit import AuditRecorder
from veza.controls.state import PlatformState
from veza.http.middlewares import maintenance, privacy, rate_limit
from veza.http.middlewares.rate_limit import RateLimit


class RequestControls:
    __slots__ = ("rate_limit", "state", "audit")

    def __init__(self, rate_limit: RateLimit | None, state: PlatformState, audit: AuditRecorder) -> None:
        self.rate_limit = rate_limit
        self.state = state
        self.audit = audit

    def before(self, request: web.Request) -> tuple[str, str] | None:
        """Privacy and rate limits; raises 429. Returns the X-RateLimit-* values, if limited."""
        request[keys.do_not_sell] = privacy.gpc_requested(request)
        return rate_limit.check(request, self.rate_limit) if self.rate_limit is not None else None

    async def check_maintenance(self, request: web.Request) -> None:
        """Raises 503 for a non-admin while maintenance is on (await only when `self.state.maintenance.enabled`)."""
        if maintenance.applies_to(request):
            await maintenance.check(request)

    def after(self, request: web.Request, status: int) -> None:
        if self.audit.audited(request):
            self.audit.record(request, status)

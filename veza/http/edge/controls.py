"""The platform controls of every request, which the edge (`edge.py`) applies in its own
frame rather than through helpers of this class (each Python call shows on cheap routes):

1. privacy: Sec-GPC -> `keys.do_not_sell`
2. rate limits (`RateLimit.check`) on limited routes: 429, or the X-RateLimit-* values
   for the response
3. maintenance (`maintenance.check`, only while it is on) on closable routes: 503 for
   non-admins
4. audit (`veza.controls.audit.AuditRecorder`) on audited routes: recorded after the
   handler, refusals (429, 503) included, never awaited

Which routes are limited, closable or audited is the route's `RoutePolicy`, decided at
registration. Refusals are raised as ApiErrors; the edge turns them into the envelope.
"""

from __future__ import annotations

from aiohttp import web

from veza.controls.audit import AuditRecorder
from veza.controls.state import PlatformState
from veza.http.client_info import client_ip
from veza.http.edge import maintenance
from veza.http.edge.rate_limit import RateLimit


class RequestControls:
    __slots__ = ("rate_limit", "state", "audit", "proxies")

    def __init__(self, rate_limit: RateLimit | None, state: PlatformState, audit: AuditRecorder,
                 proxies: tuple[str, ...]) -> None:
        self.rate_limit = rate_limit
        self.state = state
        self.audit = audit
        self.proxies = proxies  # TRUSTED_PROXIES

    def client_ip(self, request: web.Request) -> str:
        """The caller's address (without trusted proxies the peer is the client: no call for that)."""
        return client_ip(request, self.proxies) if self.proxies else request.remote or ""

    async def check_maintenance(self, request: web.Request) -> None:
        """Raises 503 for a non-admin (await only while `self.state.maintenance.enabled`)."""
        await maintenance.check(request)

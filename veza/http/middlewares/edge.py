"""The edge: the one middleware and the one response hook every request passes through.

Each aiohttp middleware layer costs a coroutine and a call per request, and each response
hook an await, so the per-request duties share one frame here, in this order:

1. X-Request-ID (`request_id`), also in the logging context
2. CORS preflights answered at once (`cors`)
3. the platform controls when installed (`controls.RequestControls`): privacy and rate
   limits, maintenance, then audit once the status is known
4. errors to the envelope (`errors`)
5. CORS headers, X-RateLimit-* headers, request metrics by route template (`metrics`)

`stamp` (on_response_prepare) adds what every response carries, streams and WebSocket
handshakes included: the request id, the security headers and the GPC echo.
"""

from __future__ import annotations

from time import perf_counter

from aiohttp import web
from multidict import CIMultiDict, istr

from veza import keys
from veza.http.errors import ApiError
from veza.http.middlewares import cors, errors, privacy, request_id, security_headers
from veza.http.middlewares.controls import RequestControls
from veza.http.middlewares.metrics import route_label
from veza.http.middlewares.rate_limit import LIMIT, REMAINING
from veza.logging_setup import request_id_var
from veza.metrics import RequestStats

REQUEST_ID = istr(request_id.HEADER)


class Edge:
    """What the edge needs per request, found with one app lookup."""

    __slots__ = ("allowed_origins", "stats", "security", "controls")

    def __init__(self, allowed_origins: tuple[str, ...], stats: RequestStats, production: bool) -> None:
        self.allowed_origins = allowed_origins
        self.stats = stats
        self.security = security_headers.SecurityHeaders(production)
        self.controls: RequestControls | None = None  # set while the platform controls run


@web.middleware
async def edge_middleware(request: web.Request, handler):  # type: ignore[no-untyped-def]
    edge: Edge = request.app[keys.edge]
    rid = request_id.of(request.headers.get(REQUEST_ID))
    request[keys.request_id] = rid
    token = request_id_var.set(rid)
    controls = edge.controls
    started = perf_counter()
    status = 500
    try:
        if request.method == "OPTIONS" and cors.is_preflight(request):
            response: web.StreamResponse = cors.preflight(request, edge.allowed_origins, rid)
            status = response.status
            return response
        limits = None
        try:
            if controls is not None:
                limits = controls.before(request)
                if controls.state.maintenance.enabled:
                    await controls.check_maintenance(request)
            response = await handler(request)
        except ApiError as exc:
            if limits is not None:
                exc.headers.setdefault(LIMIT, limits[0])
                exc.headers.setdefault(REMAINING, limits[1])
            response = errors.from_api_error(exc, rid)
        except web.HTTPException as exc:
            if exc.status < 400:  # redirects pass through
                status = exc.status
                raise
            response = errors.from_http_exception(exc, rid)
        except Exception:
            response = errors.internal(request, rid)
        else:
            if limits is not None and not response.prepared:
                headers = response.headers
                headers[LIMIT], headers[REMAINING] = limits
        status = response.status
        if not response.prepared:  # a WebSocket or stream has sent its headers already
            cors.apply(request, response, edge.allowed_origins)
        return response
    finally:
        if controls is not None:
            controls.after(request, status)
        edge.stats.observe(request.method, route_label(request), status, perf_counter() - started)
        request_id_var.reset(token)


async def stamp(request: web.Request, response: web.StreamResponse) -> None:
    headers: CIMultiDict[str] = response.headers
    try:
        headers[REQUEST_ID] = request[keys.request_id]
    except KeyError:  # answered before the middleware ran (e.g. a malformed request)
        pass
    edge: Edge = request.app[keys.edge]
    edge.security.apply(headers)
    if edge.controls is not None:
        privacy.echo(request, headers)

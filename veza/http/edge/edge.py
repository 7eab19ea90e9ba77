"""The edge: what every request passes through, wrapped around each route's handler.

Not an aiohttp middleware on purpose. aiohttp runs every middleware chain inside a layer
of its own and a response hook is an await per response; measured with callgrind, that
alone is 9% of the cheapest request, before any work. So `Edge.route` wraps each handler
once, at registration, with a `RoutePolicy` worked out from its path template, and the
per-request duties share that one frame, in this order:

1. X-Request-ID (`request_id`), also in the logging context
2. CORS preflights (only unmatched requests can be preflights: no route takes OPTIONS)
3. the platform controls when installed (`controls.RequestControls`): GPC (`privacy`),
   rate limits (`rate_limit`), maintenance, feature flags (`features`), then audit once
   the status is known
4. errors to the envelope (`errors`); a body still arriving is on a clock (`body_deadline`)
5. the response headers (`stamp_headers`): security, request id, X-RateLimit-*, CORS, GPC
6. request metrics by route template, and the access log line (`ACCESS_LOG`)

Before all of it, what aiohttp's parser rejects (a NUL in a header, an 8 KB URL) never
reaches a route: `rejections` makes its log record one line.

Every route is registered through here: API routers (`ApiRouter.add_to`), Swagger and
static files (`static_files`), and last the catch-all (`unmatched`) that gives 404/405
the envelope. Handlers that send their own headers (a WebSocket handshake, a stream)
call `stamp(request, response)` before `prepare`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
import asyncio
import logging
from logging import INFO
from time import perf_counter

from aiohttp import web
from multidict import CIMultiDict, CIMultiDictProxy, istr

from veza import keys
from veza.http.edge import (body_deadline, cors, errors, features, privacy, rate_limit, rejections, request_id,
                            security_headers)
from veza.http.edge.controls import RequestControls
from veza.http.edge.policy import UNMATCHED, RoutePolicy
from veza.http.edge.rate_limit import LIMIT, REMAINING
from veza.http.edge.request_id import NEW_IDS
from veza.http.edge.security_headers import CONTENT_TYPE, CSP, JSON
from veza.http.errors import ApiError
from veza.logging_setup import request_id_var
from veza.metrics import RequestStats

log = logging.getLogger("veza.http")
# One line per request: method, route template (the path for unmatched), status, duration;
# the request id is on every line already (logging_setup.FORMAT) and on the record.
access_log = logging.getLogger("veza.access")
ACCESS_LINE = "%s %s %d %.1fms"
UNMATCHED_PATH_MAX = 200
# nginx's status for a client that closed the connection before the answer.
CLIENT_CLOSED = 499

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

REQUEST_ID = istr(request_id.HEADER)
ORIGIN = istr("Origin")


class Edge:
    """The edge of one app: its settings, counters and (once started) platform controls."""

    __slots__ = ("allowed_origins", "stats", "security", "controls", "enabled", "access")

    def __init__(self, allowed_origins: tuple[str, ...], stats: RequestStats, production: bool,
                 enabled: bool = True, access: bool = True) -> None:
        self.allowed_origins = allowed_origins
        self.stats = stats
        self.security = security_headers.SecurityHeaders(production, extra=cors.always(allowed_origins))
        self.controls: RequestControls | None = None  # set while the platform controls run
        # Off only in the middleware benchmark's baseline: handlers are registered bare.
        self.enabled = enabled
        self.access: logging.Logger | None = access_log if access else None
        rejections.install()  # what aiohttp rejects before any route: one line each

    def route(self, method: str, path: str, handler: Handler, *, upload: bool = False) -> Handler:
        """`handler` behind the edge, for the route `method path` (its template); `upload`:
        it takes a multipart file upload (closed with the `uploads` flag)."""
        if not self.enabled:
            return handler
        return _edged(self, RoutePolicy.of(method, path, upload=upload), handler)

    def unmatched(self, handler: Handler) -> Handler:
        """`handler` behind the edge for requests no route matched (policy from the path)."""
        return _edged(self, None, handler) if self.enabled else handler

    def add_get(self, router: web.UrlDispatcher, path: str, handler: Handler) -> None:
        """GET and HEAD on `path`, each behind the edge (counted apart in the metrics)."""
        router.add_get(path, self.route("GET", path, handler), allow_head=False)
        router.add_head(path, self.route("HEAD", path, handler))

    def stamp_headers(self, incoming: CIMultiDictProxy[str], headers: CIMultiDict[str], rid: str,
                      limits: tuple[str, str] | None, gpc: bool) -> None:
        """What every answer carries: the security headers (and Vary), the request id, the
        X-RateLimit-* values of a limited route, CORS for an allowed Origin, the GPC echo.

        Each header costs aiohttp about as much to serialize as a Python call costs, so this
        runs on every request with as few calls as it can: two `extend`s, no helpers."""
        security = self.security
        content_type = headers.get(CONTENT_TYPE)
        chosen = security.api if content_type is not None and content_type.startswith(JSON) else security.page
        if CSP in headers:  # the handler chose its own policy: it keeps all of its own headers
            security_headers.merge(headers, chosen)
        else:
            headers.extend(chosen)
        if limits is None:
            headers[REQUEST_ID] = rid
        else:
            headers.extend(((REQUEST_ID, rid), (LIMIT, limits[0]), (REMAINING, limits[1])))
        if self.allowed_origins:
            origin = incoming.get(ORIGIN)
            if origin is not None:
                cors.allow(origin, headers, self.allowed_origins)
        if gpc:
            headers[privacy.GPC] = "1"


def stamp(request: web.Request, response: web.StreamResponse) -> None:
    """The edge's headers on a response its handler prepares itself (call before `prepare`).

    Rare (a WebSocket handshake, a stream), so this works out again what the edge kept in
    its frame: the request id from the logging context, the X-RateLimit-* values from the
    windows (the request is already counted), GPC from the request."""
    edge = request.app[keys.edge]
    if not edge.enabled:
        return
    controls, limits = edge.controls, None
    if controls is not None and controls.rate_limit is not None and not rate_limit.is_exempt(request.path):
        limits = controls.rate_limit.current(controls.client_ip(request))
    edge.stamp_headers(request.headers, response.headers, request_id_var.get(), limits,
                       controls is not None and privacy.do_not_sell(request))


def _edged(edge: Edge, policy: RoutePolicy | None, handler: Handler) -> Handler:
    stats, allowed_origins = edge.stats, edge.allowed_origins
    route_stats = stats.route(policy.method, policy.label) if policy is not None else None
    audit_route = policy.label if policy is not None else None

    # The per-request work is written out here rather than spread over helpers: on the
    # cheapest routes each Python call is a visible share of the request (see BENCHMARKS.md).
    async def edged(request: web.Request) -> web.StreamResponse:
        incoming = request.headers
        rid = incoming.get(REQUEST_ID)
        if rid is None or not request_id.is_safe(rid):
            rid = next(NEW_IDS)
        token = request_id_var.set(rid)
        started = perf_counter()
        route = policy or RoutePolicy.of(request.method, request.path, UNMATCHED)
        controls = edge.controls
        limits = None
        gpc = False
        status = 500
        try:
            try:
                if policy is None and cors.is_preflight(request):
                    response: web.StreamResponse = cors.preflight(request, allowed_origins, rid)
                else:
                    if controls is not None:
                        if incoming.get(privacy.SEC_GPC) == "1":
                            gpc = True
                            privacy.mark(request)
                        if route.limited and controls.rate_limit is not None:
                            limits = controls.rate_limit.check(controls.client_ip(request))
                        if route.closable and controls.state.maintenance.enabled:
                            await controls.check_maintenance(request)
                        if route.feature is not None:
                            flag = controls.state.flags.get(route.feature)
                            if flag is not None and not flag.enabled:
                                await features.check(request, route.feature)
                    if request.content.is_eof():  # no body, or it came with the headers
                        response = await handler(request)
                    else:
                        response = await body_deadline.watched(handler, request)
            except ApiError as exc:
                response = errors.from_api_error(exc, rid)
            except web.HTTPException as exc:
                if exc.status < 400:  # redirects pass through as aiohttp sends them
                    status = exc.status
                    raise
                response = errors.from_http_exception(exc, rid)
            except (ConnectionResetError, asyncio.CancelledError):
                # The client went away mid-request (aiohttp cancels the handler, or a read
                # fails): no answer to send and nothing to trace. A cancellation with the
                # connection still open is the server's own (shutdown) and keeps its 500.
                transport = request.transport
                if transport is None or transport.is_closing():
                    status = CLIENT_CLOSED
                    if edge.access is None:  # else the access line says 499
                        log.info("client closed the connection: %s %s", request.method, request.path)
                raise
            except Exception:
                response = errors.internal(request, rid)
            status = response.status
            # A WebSocket or stream has stamped and sent its own (the type test first: it is
            # most answers, and cheaper than the `prepared` property).
            if type(response) is web.Response or not response.prepared:
                edge.stamp_headers(incoming, response.headers, rid, limits, gpc)
            return response
        finally:
            if controls is not None and route.audited:
                controls.audit.record(request, status, rid, audit_route, controls.client_ip(request))
            elapsed = perf_counter() - started
            (route_stats or stats.route(request.method, UNMATCHED)).observe(status, elapsed)
            access = edge.access
            # Asked first: with the level above INFO the line's arguments are not even built.
            if access is not None and access.isEnabledFor(INFO):
                access.info(ACCESS_LINE, request.method, audit_route or _unmatched_path(request), status,
                            elapsed * 1000.0, extra={"request_id": rid})
            request_id_var.reset(token)

    edged.__name__ = edged.__qualname__ = getattr(handler, "__name__", "handler")
    return edged


def _unmatched_path(request: web.Request) -> str:
    """The path as sent (still percent-encoded: no control character reaches the log),
    without the query (it may hold a token), cut short."""
    path = request.rel_url.raw_path
    return path if len(path) <= UNMATCHED_PATH_MAX else path[:UNMATCHED_PATH_MAX] + "..."

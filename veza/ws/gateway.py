"""The WebSocket gateway: `GET /api/v1/ws` (alias `/ws`), one Connection per socket.

Auth is the short-lived chat token (`GET /api/v1/chat/token`) as `?token=` or
`Authorization: Bearer`; without one the socket is anonymous and read-only. A bad or
expired token still gets the upgrade, then a 4001 close a browser can see.
The socket's session (`_serve`, run after the handler returned: see `_Socket`) is its only
reader: it rate-limits, then hands each text frame to the `Dispatcher`. Logout, logout-all and bans close the user's affected sockets (4001); the
token expiring later does not. A role change updates the user's sockets in place. The
role, name and ban a socket opens with are the database's, not the token's, read with the
other upgrades of the moment (`veza.cluster.session_reader`: one query for many). At
shutdown every socket closes with 1001 before the actors drain.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sys
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any
from urllib.parse import unquote_plus
from uuid import UUID

from aiohttp import WSMsgType, web
from multidict import CIMultiDict, CIMultiDictProxy

from actors.hub import Hub
from protocols import frames
from protocols.errors import ErrorCode
from veza import keys
from veza.cluster.session_reader import SessionReader
from veza.http.auth import bearer_token
from veza.http.edge.edge import stamp
from veza.http.errors import ApiError, BadRequest
from veza.http.routing import ApiRouter
from veza.security.authenticators import standing
from veza.security.tokens import InvalidToken, uuid_claim
from veza.store import users
from veza.ws import COMMAND_SETS
from veza.ws.commands import Dispatcher
from veza.ws.connection import CLOSE_TIMEOUT, Connection, ConnectionLimits, Identity

log = logging.getLogger("veza.ws")

router = ApiRouter("realtime")

CLIENT_CLOSED_REQUEST = 499
CLOSE_INTERNAL_ERROR = 1011


class _BadToken(Exception):
    pass


def connection_limits(app: web.Application) -> ConnectionLimits:
    s = app[keys.settings]
    return _limits(s.ws_outbox_bytes, s.ws_rate, s.ws_burst)


@functools.lru_cache(maxsize=16)
def _limits(outbox_bytes: int, rate: float, burst: int) -> ConnectionLimits:
    """One (frozen) ConnectionLimits shared by the sockets of the same settings, not one each."""
    return ConnectionLimits(outbox_bytes=outbox_bytes, rate=rate, burst=burst)


def _query_token(request: web.Request) -> str | None:
    """`?token=` read off the raw query, which the URL already holds: `request.query` would
    keep a parsed MultiDict on the request for the socket's whole life (~1 KiB per idle
    socket; `raw_path` too would add an entry to the request's cache), and `parse_qsl`
    decodes every pair of the ~400-character query to find one."""
    query = request.rel_url.raw_query_string
    if "token=" not in query:
        return None
    for part in query.split("&"):
        if part.startswith("token="):
            value = part[6:]
            if "%" in value or "+" in value:  # as parse_qsl would decode it
                value = unquote_plus(value)
            return value or None
    return None


async def _identity(request: web.Request) -> tuple[Identity | None, int]:
    """Who the token says, checked against the session as it is now (read with the other
    upgrades of the moment, one query for many), and the reader's epoch before the read."""
    token = _query_token(request) or bearer_token(request)
    reader = request.app[keys.session_reader]
    epoch = reader.epoch
    if not token:
        return None, epoch
    try:
        claims = request.app[keys.tokens].decode(token, "chat")
        # A malformed claim (a number, a list, ...) is an invalid token, not a 500.
        user_id = uuid_claim(claims, "sub")
        session_id = uuid_claim(claims, "sid") if claims.get("sid") is not None else None
    except InvalidToken:
        raise _BadToken from None
    try:  # the role, the name and the ban as they are now, not as the token says
        state = await standing(request.app[keys.db].pool, user_id, session_id, reader)
    except ApiError:
        raise _BadToken from None
    # The role interned: a few distinct values, not a string per socket.
    return Identity(user_id=user_id, username=state.username, role=sys.intern(state.role),
                    session_id=session_id), epoch


async def _recheck(app: web.Application, conn: Connection) -> None:
    """The user's sessions or role were announced changed while this socket was opening
    (after its check, perhaps before it could be found to close): read them again, now that
    the socket is registered and later announcements will find it."""
    identity = conn.identity
    if identity is None:
        return
    try:
        state = await standing(app[keys.db].pool, identity.user_id, identity.session_id)
    except ApiError:
        conn.close(frames.CLOSE_UNAUTHORIZED, "session revoked")
        return
    conn.set_role(state.role)


class _Socket(web.WebSocketResponse):
    """The socket's life runs after its handler has returned.

    aiohttp ends every handled request with `await response.write_eof()`, in its own frame
    below the middlewares. The handler does the handshake and returns; the edge then counts
    and logs the 101 like any answer and lets go of its frames (and the router's), and the
    socket's session (`_serve`) runs as that `write_eof`. An idle socket so keeps ~1.5 KiB
    less alive: the middleware and routing coroutines with their locals, and the
    handshake's headers, dropped once they are sent."""

    __slots__ = ("_session",)  # a slot: one more entry would grow the response's __dict__

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(**kwargs)
        self._session: Coroutine[Any, Any, None] | None = None

    def hand_over(self, session: Coroutine[Any, Any, None]) -> None:
        """Run `session` (the read loop and its cleanup) where aiohttp finishes the response.
        aiohttp calls `write_eof` right after the handler returns, with nothing awaited in
        between, so a coroutine handed over is always run."""
        self._session = session

    def write_eof(self) -> Coroutine[Any, Any, None]:  # type: ignore[override]
        """Not a coroutine function: it returns the session itself, so an idle socket waits in
        one coroutine fewer (~200 B). The session ends with the ordinary `write_eof`."""
        session, self._session = self._session, None
        if session is None:
            return super().write_eof()
        self._headers = _SENT_HEADERS
        request = self._req
        if request is not None:
            # What the edge read off the request (path, remote, method, ...), cached by
            # aiohttp's reify for as long as the request lives: ~0.3 KiB per idle socket.
            # Asked again, each is worked out again from the request's message.
            request._cache.clear()
        return session


# What a handshake response keeps once its headers are on the wire: nothing (read-only, so
# a late writer would fail loudly rather than share state between sockets).
_SENT_HEADERS = CIMultiDictProxy(CIMultiDict())


@router.get("/ws", aliases=("/ws",), summary="The WebSocket (protocol v1, see docs/websocket.md)")
async def websocket(request: web.Request) -> web.StreamResponse:
    app = request.app
    settings = app[keys.settings]
    ws = _Socket(max_msg_size=frames.MAX_FRAME_BYTES, heartbeat=settings.ws_heartbeat, timeout=CLOSE_TIMEOUT,
                 compress=False)
    if not ws.can_prepare(request).ok:
        raise BadRequest("This endpoint speaks WebSocket: send an Upgrade request")
    try:
        (identity, epoch), bad_token = await _identity(request), False
    except _BadToken:
        identity, epoch, bad_token = None, 0, True
    stamp(request, ws)  # the handshake's headers leave with prepare, before the edge sees it
    try:
        await ws.prepare(request)
    except ConnectionError:
        # The client left during the handshake: nothing to clean up. aiohttp still finishes
        # the handler's response; a plain one fails quietly on the closed transport (499 is
        # nginx's "client closed request", which is what the metrics then count).
        return web.Response(status=CLIENT_CLOSED_REQUEST)
    if bad_token:
        await ws.close(code=frames.CLOSE_UNAUTHORIZED, message=b"token invalid or expired")
        return ws
    if app[keys.shutting_down]["value"]:
        await ws.close(code=frames.CLOSE_GOING_AWAY, message=b"server shutting down")
        return ws
    conn = Connection(ws, identity, connection_limits(app), app, request.transport)
    conn.start()
    app[keys.metrics].websockets.inc()
    ws.hand_over(_serve(app, conn, epoch))
    return ws


async def _serve(app: web.Application, conn: Connection, epoch: int) -> None:
    """The socket's life, from registration to cleanup (run by `_Socket.write_eof`). The only
    reader of the socket: it rate-limits, then hands each text frame to the dispatcher. One
    frame for all of it: each coroutine an idle socket waits in is ~200 B."""
    try:
        await app[keys.hub].register(conn)
        if conn.user_id is not None and app[keys.session_reader].invalidated_since(conn.user_id, epoch):
            await _recheck(app, conn)
        ws, dispatcher = conn.ws, app[keys.ws_dispatcher]
        idle_timeout = _receive_timeout(app[keys.settings])
        while True:
            try:
                msg = await ws.receive(timeout=idle_timeout)
            except TimeoutError:  # not even a pong: the peer is gone
                conn.close(frames.CLOSE_GOING_AWAY, "idle")
                break
            if msg.type is WSMsgType.TEXT:
                if not conn.take_token():
                    if conn.abusive:
                        conn.close(frames.CLOSE_POLICY, "rate limit abuse")
                        break
                    conn.send_error(ErrorCode.RATE_LIMITED, "too many frames, slow down", _ref_of(msg.data))
                    continue
                await dispatcher.dispatch(conn, msg.data)
            elif msg.type is WSMsgType.BINARY:
                conn.send_error(ErrorCode.INVALID, "binary frames are not supported: send JSON text")
            else:  # CLOSE, CLOSING, CLOSED, ERROR (1009 for an oversize frame is sent by aiohttp)
                break
    except Exception:  # no middleware below us now: a bug closes this socket, not the server
        log.exception("%r: the socket failed", conn)
        conn.close(CLOSE_INTERNAL_ERROR, "internal error")
    finally:
        # aiohttp cancels this task when the peer vanishes: the cleanup must still finish.
        finishing = asyncio.get_running_loop().create_task(_finish(app, conn))
        app[keys.ws_finishing].add(finishing)
        finishing.add_done_callback(app[keys.ws_finishing].discard)
        await asyncio.shield(finishing)
        await conn.ws.write_eof()  # what aiohttp awaited this session in place of: the eof mark


async def _finish(app: web.Application, conn: Connection) -> None:
    # Ours when the server closed it (4009, 4001, ...), else the code the client closed with.
    code = conn.close_code if conn.close_code is not None else conn.ws.close_code
    try:
        await app[keys.hub].unregister(conn)
        await app[keys.ws_dispatcher].closed(conn)
        conn.close(frames.CLOSE_GOING_AWAY, "")
        await conn.wait_closed()
    finally:
        metrics = app[keys.metrics]
        metrics.websockets.dec()
        metrics.websocket_closes.labels(str(code or 1006)).inc()
        if conn.dropped:
            metrics.websocket_dropped.inc(conn.dropped)


def _receive_timeout(settings) -> float | None:  # type: ignore[no-untyped-def]
    """The read loop's own idle clock, only when the heartbeat would not catch a silent
    socket first: aiohttp's heartbeat drops a socket whose pong is late (half an interval),
    so with the defaults (25 s, 60 s) a peer that stopped answering is gone in 37.5 s, and
    each idle socket is spared a timeout object and a timer (~0.5 KiB)."""
    heartbeat, idle = settings.ws_heartbeat, settings.ws_idle_timeout
    return None if heartbeat and heartbeat * 1.5 <= idle else idle


def _ref_of(raw: str) -> object:
    try:
        return frames.decode_header(raw).ref
    except frames.InvalidFrame as exc:
        return exc.ref


def revocation_listener(hub: Hub):  # type: ignore[no-untyped-def]
    async def on_revoked(user_id: UUID, session_ids: Sequence[UUID] | None, keep: UUID | None) -> None:
        for conn in hub.connections_of(user_id):
            session = getattr(conn, "session_id", None)
            cut = (keep is None or session != keep) if session_ids is None else session in session_ids
            if cut:
                conn.close(frames.CLOSE_UNAUTHORIZED, "session revoked")

    return on_revoked


def role_listener(app: web.Application, hub: Hub):  # type: ignore[no-untyped-def]
    """A role change applies to the user's open sockets at once: every later frame is
    authorized with the new role (rooms, moderation), no reconnect needed. The role is read
    back from the database: an announcement replayed late (after Redis came back) cannot
    put an older role over a newer one."""
    async def on_role_changed(user_id: UUID, role: str) -> None:
        conns = [c for c in hub.connections_of(user_id) if isinstance(c, Connection)]
        if not conns:
            return
        row = await users.standing(app[keys.db].pool, user_id)
        for conn in conns:
            conn.set_role(row["role"] if row else role)

    return on_role_changed


async def close_sockets(app: web.Application) -> None:
    """on_shutdown: every socket closes with 1001 (flushing what it has) before actors drain."""
    hub = app.get(keys.hub)
    if hub is None:
        return
    conns = hub.connections()
    hub.close_all(frames.CLOSE_GOING_AWAY, "server shutting down")
    waits = [c.wait_closed() for c in conns if isinstance(c, Connection)]
    if waits:
        await asyncio.gather(*waits, return_exceptions=True)


async def gateway_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the actor system (sockets close before actors drain), before the actors'
    services that hold the hub (`veza.rooms.rooms_ctx`, `veza.feeds.feeds_ctx`, ...)."""
    hub = Hub(app[keys.broker])
    await hub.start()
    app[keys.hub] = hub
    app[keys.ws_dispatcher] = Dispatcher(COMMAND_SETS)
    app[keys.ws_finishing] = set()
    app[keys.session_reader] = SessionReader(app[keys.db].pool, app[keys.session_events])
    app[keys.session_events].subscribe(revocation_listener(hub))
    app[keys.session_events].subscribe_roles(role_listener(app, hub))
    yield
    await close_sockets(app)
    if app[keys.ws_finishing]:
        await asyncio.wait(set(app[keys.ws_finishing]), timeout=CLOSE_TIMEOUT)
    await hub.stop()


def setup(app: web.Application) -> None:
    """The route and the shutdown hook (called by `create_app`, which lists `gateway_ctx`
    among its resources)."""
    router.add_to(app)
    app.on_shutdown.append(close_sockets)

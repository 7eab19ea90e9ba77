"""The live-streaming component of the app (one cleanup_ctx entry) and its ingest entry points.

Every ingest (nginx-rtmp, SRS, MediaMTX hooks and WHIP) goes through `start_ingest` /
`stop_ingest` / `ingest_heartbeat`: look the key up once (unique index), then message
the stream's LiveStream actor, which re-checks the key atomically as it goes live.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID

from aiohttp import web

from actors.live_stream import GoLive, GoOffline, Heartbeat, LiveServices, LiveStream, Tick
from veza import keys
from veza.domain import live
from veza.live.webrtc import WebRtcSessions
from protocols.live import PinnedProduct
from veza.store import live as store
from veza.store import products as product_store

log = logging.getLogger("veza.live")


class StoreAdapter:
    """The LiveStreamStore the actor is handed: each call on its own pooled connection."""

    def __init__(self, db: Any, node_id: str, fresh_seconds: float) -> None:
        self.db = db
        self.node_id = node_id
        self.fresh_seconds = fresh_seconds

    async def load(self, stream_id: UUID) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await store.load_state(conn, stream_id)

    async def go_live(self, stream_id: UUID, key: str, ingest: str, session: str) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await store.go_live(conn, stream_id, key, ingest=ingest, session=session)

    async def go_offline(self, stream_id: UUID, session: str | None, peak: int) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await store.go_offline(conn, stream_id, session=session, peak_viewers=peak)

    async def expire(self, stream_id: UUID, ingests: frozenset[str], timeout: float,
                     peak: int) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            return await store.expire(conn, stream_id, ingests=sorted(ingests), timeout=timeout, peak_viewers=peak)

    async def heartbeat(self, stream_id: UUID, session: str) -> bool:
        async with self.db.connection() as conn:
            return await store.heartbeat(conn, stream_id, session)

    async def sync(self, stream_id: UUID, local: int, total: int | None, peak: int) -> dict[str, Any] | None:
        async with self.db.connection() as conn:
            state = await store.sync_viewers(conn, stream_id, node_id=self.node_id, local=local,
                                             fresh_seconds=self.fresh_seconds)
            if total is not None:
                await store.set_viewers(conn, stream_id, total, peak)
        return state

    async def update(self, stream_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
        async with self.db.connection() as conn:
            return await store.update_metadata(conn, stream_id, changes)

    async def products(self, stream_id: UUID) -> list[PinnedProduct]:
        async with self.db.connection() as conn:
            return pinned_products(await product_store.pinned(conn, stream_id))


def pinned_products(rows: list[dict[str, Any]]) -> list[PinnedProduct]:
    return [PinnedProduct(id=str(r["id"]), title=r["title"], kind=r["kind"], price_cents=r["price_cents"],
                          currency=r["currency"], stock_remaining=r["stock_remaining"]) for r in rows]


def stream_ref(app: web.Application, stream_id: UUID) -> Any:
    return app[keys.actors].ref(LiveStream, stream_id)


async def start_ingest(app: web.Application, key: str, ingest: str, session: str) -> UUID | None:
    """Go live with `key`; the stream id, or None for an unknown key or a stream already live."""
    async with app[keys.db].connection() as conn:
        found = await live.stream_of_key(conn, key)
    if found is None:
        return None
    went_live = await stream_ref(app, found["id"]).ask(GoLive(key=key, ingest=ingest, session=session))
    return found["id"] if went_live else None


async def _resolve(app: web.Application, name: str, session: str) -> UUID | None:
    """The live stream `name` designates: by key, or by id when the ingest session matches.

    nginx-rtmp reports the redirected name (the stream id) in later callbacks; the id is
    public, so then the media server's connection id must match the live ingest session.
    """
    async with app[keys.db].connection() as conn:
        found = await live.stream_of_key(conn, name)
        if found is None:
            try:
                stream_id = UUID(name)
            except ValueError:
                return None
            state = await store.load_state(conn, stream_id)
            found = state if state and state["ingest_session"] == session and session else None
    return found["id"] if found else None


async def stop_ingest(app: web.Application, name: str, session: str | None) -> bool:
    stream_id = await _resolve(app, name, session or "")
    if stream_id is None:
        return False
    return bool(await stream_ref(app, stream_id).ask(GoOffline(session=session)))


async def end_live_stream(app: web.Application, stream_id: UUID, reason: str) -> None:
    """End whatever ingest is live (key regenerated, moderation): WHIP sessions close too."""
    publisher = app[keys.webrtc].by_stream.get(stream_id)
    if publisher is not None:
        await app[keys.webrtc].end_publisher(publisher.session, reason=reason)
    await stream_ref(app, stream_id).ask(GoOffline(session=None, reason=reason))


async def ingest_heartbeat(app: web.Application, name: str, session: str) -> bool:
    stream_id = await _resolve(app, name, session)
    if stream_id is None:
        return False
    return bool(await stream_ref(app, stream_id).ask(Heartbeat(session=session)))


async def live_ctx(app: web.Application) -> AsyncIterator[None]:
    """Hands LiveStream its services; resumes streams left live so dead ingests time out."""
    settings = app[keys.settings]
    system = app[keys.actors]
    interval = settings.live_viewers_interval
    # Another node's count stops counting after three missed syncs (a crashed node).
    adapter = StoreAdapter(app[keys.db], app[keys.broker].node_id, fresh_seconds=max(3 * interval, 2.0))
    services = LiveServices(store=adapter, hub=app[keys.hub], system=system,
                            ingest_timeout=settings.live_ingest_timeout, viewers_interval=interval)
    system.provide(LiveStream, services)
    app[keys.live] = services

    async def whip_ended(stream_id: UUID, session: str) -> None:
        await stream_ref(app, stream_id).ask(GoOffline(session=session, reason="whip session ended"))

    async def whip_alive(stream_id: UUID, session: str) -> None:
        await stream_ref(app, stream_id).ask(Heartbeat(session=session))

    timeout = settings.live_ingest_timeout
    webrtc = app[keys.webrtc] = WebRtcSessions(whip_ended, whip_alive, beat_every=timeout / 3, connect_timeout=timeout)
    async with app[keys.db].connection() as conn:
        for stream_id in await store.live_stream_ids(conn):
            system.ref(LiveStream, stream_id).tell(Tick())
    yield
    await webrtc.close()

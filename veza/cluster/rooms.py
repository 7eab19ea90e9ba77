"""Rooms in a cluster: the hub delivers each room's messages in seq order, filling gaps
from PostgreSQL (`actors/sequencer.py`). This module hands it the two reads it needs and
re-reads every room after a broker reconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID

from aiohttp import web

from protocols import frames
from veza import keys
from veza.rooms import RoomStoreAdapter


def room_reads(chat: RoomStoreAdapter):  # type: ignore[no-untyped-def]
    async def head(topic: str) -> int:
        room = await chat.load_room(UUID(topic.removeprefix("room:")))
        return int(room["last_seq"]) if room else 0

    async def fetch(topic: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        room_id = UUID(topic.removeprefix("room:"))
        messages = await chat.after(room_id, after, limit)
        return [(m.seq, frames.encode(frames.MessageEvent(room=room_id, message=m))) for m in messages]

    return head, fetch


async def cluster_rooms_ctx(app: web.Application) -> AsyncIterator[None]:
    """After the gateway (the hub) and the chat services; only when Redis joins nodes."""
    settings = app[keys.settings]
    if settings.redis_url:
        hub = app[keys.hub]
        head, fetch = room_reads(RoomStoreAdapter(app[keys.db]))
        hub.enable_sequencing(head, fetch, settings.cluster_gap_wait)
        broker = app[keys.broker]
        if hasattr(broker, "on_reconnect"):
            broker.on_reconnect(hub.resync_rooms)
    yield

"""The LiveStream actor inside the real app: viewer counting under churn, coalescing, ingest timeout."""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid

import pytest

from actors.live_stream import GetState, GoLive, Heartbeat, LiveStream, ViewersChanged
from protocols.live import topic
from tests.support import ApiClient
from veza import keys
from veza.config import Settings

INTERVAL = 0.2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_viewers_interval=INTERVAL, live_ingest_timeout=0.6)


class FakeSocket:
    """Stands in for a WebSocket connection on the hub: records what it is given, and when."""

    user_id = None

    def __init__(self) -> None:
        self.frames: list[tuple[float, dict]] = []

    def deliver(self, data: bytes, volatile: bool = False) -> None:
        self.frames.append((time.monotonic(), json.loads(data)))

    def close(self, code: int, reason: str = "") -> None:
        pass

    def of(self, type_: str) -> list[tuple[float, dict]]:
        return [(t, f) for t, f in self.frames if f["type"] == type_]


async def new_stream(client: ApiClient) -> dict:
    user = await client.register()
    return (await client.post("/live/streams", json={"title": "Actor"}, user=user)).data


async def wait_for(predicate, timeout: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_viewer_count_converges_under_churn_with_coalesced_events(client: ApiClient) -> None:
    stream = await new_stream(client)
    sid = uuid.UUID(stream["id"])
    hub, ref = client.app[keys.hub], client.app[keys.actors].ref(LiveStream, sid)
    observer = FakeSocket()
    await hub.subscribe(topic(sid), observer)
    ref.tell(ViewersChanged())
    pool = [FakeSocket() for _ in range(200)]
    watching: set[FakeSocket] = set()
    rng = random.Random(7)
    for _ in range(1500):  # joins and leaves as fast as the loop goes, for several intervals
        sock = rng.choice(pool)
        if sock in watching:
            await hub.unsubscribe(topic(sid), sock)
            watching.discard(sock)
        else:
            await hub.subscribe(topic(sid), sock)
            watching.add(sock)
        ref.tell(ViewersChanged())
        if rng.random() < 0.05:
            await asyncio.sleep(0.01)
    truth = len(watching) + 1
    await wait_for(lambda: observer.of("stream_viewers") and observer.of("stream_viewers")[-1][1]["viewers"] == truth)
    assert (await ref.ask(GetState()))["viewers"] == truth
    stamps = [t for t, _ in observer.of("stream_viewers")]
    gaps = [b - a for a, b in zip(stamps, stamps[1:])]
    # Coalesced: at most one per tick of the fixed cadence, never two back to back.
    assert (len(stamps) - 1) * INTERVAL <= (stamps[-1] - stamps[0]) + INTERVAL / 2
    assert all(gap >= INTERVAL / 2 for gap in gaps), gaps
    async with asyncio.timeout(5):  # written behind the announcement
        while True:
            async with client.app[keys.db].connection() as conn:
                if await conn.fetchval("SELECT viewer_count FROM live_streams WHERE id = $1", sid) == truth:
                    break
            await asyncio.sleep(0.05)


async def test_live_stream_without_heartbeat_goes_offline(client: ApiClient) -> None:
    stream = await new_stream(client)
    sid = uuid.UUID(stream["id"])
    observer = FakeSocket()
    await client.app[keys.hub].subscribe(topic(sid), observer)
    ref = client.app[keys.actors].ref(LiveStream, sid)
    assert await ref.ask(GoLive(key=stream["stream_key"], ingest="rtmp", session="c1")) is True
    for _ in range(4):  # heartbeats keep it alive past the timeout
        await asyncio.sleep(0.25)
        await ref.ask(Heartbeat(session="c1"))
    assert (await ref.ask(GetState()))["live"] is True
    await wait_for(lambda: bool(observer.of("stream_offline")))
    assert (await ref.ask(GetState()))["live"] is False
    async with client.app[keys.db].connection() as conn:
        row = await conn.fetchrow("SELECT status, ended_at, peak_viewers FROM live_streams WHERE id = $1", sid)
    assert row["status"] == "offline" and row["ended_at"] is not None and row["peak_viewers"] == 1


async def test_stale_key_cannot_go_live(client: ApiClient) -> None:
    stream = await new_stream(client)
    ref = client.app[keys.actors].ref(LiveStream, uuid.UUID(stream["id"]))
    assert await ref.ask(GoLive(key="live_" + "0" * 43, ingest="rtmp", session="x")) is False
    assert (await ref.ask(GetState()))["live"] is False


async def test_unknown_stream_answers_lookup_error(client: ApiClient) -> None:
    ref = client.app[keys.actors].ref(LiveStream, uuid.uuid4())
    with pytest.raises(LookupError):
        await ref.ask(GetState())

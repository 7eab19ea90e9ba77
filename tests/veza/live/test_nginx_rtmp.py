"""Real ingest: ffmpeg pushes RTMP to nginx-rtmp (the deploy config), which calls our hooks.

Needs Debian's nginx, libnginx-mod-rtmp and ffmpeg (scripts/install-system-deps).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.support import ApiClient
from tests.veza.live.media import MediaServer, ffmpeg_push, finish, nginx_rtmp
from tests.veza.live_support import HOOK_SECRET
from tests.veza.ws.test_live import Watcher, watcher
from veza.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET, live_viewers_interval=0.2)


@pytest.fixture
async def media(client: ApiClient) -> AsyncIterator[MediaServer]:
    hook_url = f"http://127.0.0.1:{client.raw.server.port}/api/v1/live/hooks/rtmp"
    async with nginx_rtmp(hook_url, HOOK_SECRET) as server:
        yield server


async def new_stream(client: ApiClient) -> tuple[dict, object]:
    owner = await client.register()
    return (await client.post("/live/streams", json={"title": "OBS set"}, user=owner)).data, owner


async def live_ids(client: ApiClient) -> set[str]:
    reply = await client.get("/live/streams", params={"is_live": "true", "limit": 100})
    return {s["id"] for s in reply.data["streams"]}


async def fetch_playlist(url: str, timeout: float = 20.0) -> str:
    async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
        while True:
            async with http.get(url) as resp:
                if resp.status == 200:
                    text = await resp.text()
                    if "#EXTINF" in text:
                        return text
            await asyncio.sleep(0.25)


async def test_ffmpeg_push_goes_live_serves_hls_by_id_then_offline(client: ApiClient, media: MediaServer) -> None:
    stream, _ = await new_stream(client)
    sid, key = stream["id"], stream["stream_key"]
    w, state = await watcher(client, sid)
    assert state["live"] is False

    ffmpeg = await ffmpeg_push(media.publish_url(key), seconds=6)
    try:
        live = await w.next("stream_live", timeout=20)
        assert live["stream"] == sid
        assert sid in await live_ids(client)
        playlist = await fetch_playlist(media.hls_url(sid))
        assert playlist.startswith("#EXTM3U") and key not in playlist
        async with aiohttp.ClientSession() as http, http.get(media.hls_url(key)) as resp:
            assert resp.status == 404
        assert all(key not in path.name for path in media.hls_dir.iterdir())
        assert await finish(ffmpeg) == 0
    finally:
        await finish(ffmpeg, timeout=1)
    offline = await w.next("stream_offline", timeout=20)
    assert offline["stream"] == sid and offline["duration"] >= 0
    assert sid not in await live_ids(client)
    assert all(key not in frame for frame in w.seen)
    assert key not in media.error_log()
    await w.ws.close()


async def test_wrong_key_is_rejected_and_nothing_goes_live(client: ApiClient, media: MediaServer) -> None:
    stream, _ = await new_stream(client)
    before = await live_ids(client)
    ffmpeg = await ffmpeg_push(media.publish_url("live_" + "w" * 43), seconds=3)
    assert await finish(ffmpeg) != 0
    assert await live_ids(client) == before and stream["id"] not in before
    assert not list(media.hls_dir.glob("*.m3u8")) if media.hls_dir.exists() else True


async def test_regenerated_key_makes_the_old_key_fail(client: ApiClient, media: MediaServer) -> None:
    stream, owner = await new_stream(client)
    old_key = stream["stream_key"]
    new_key = (await client.post("/live/streams/me/key/regenerate", user=owner)).data["stream_key"]
    assert await finish(await ffmpeg_push(media.publish_url(old_key), seconds=3)) != 0
    assert stream["id"] not in await live_ids(client)

    w: Watcher
    w, _ = await watcher(client, stream["id"])
    ffmpeg = await ffmpeg_push(media.publish_url(new_key), seconds=3)
    try:
        await w.next("stream_live", timeout=20)
        assert await finish(ffmpeg) == 0
    finally:
        await finish(ffmpeg, timeout=1)
    await w.next("stream_offline", timeout=20)
    await w.ws.close()

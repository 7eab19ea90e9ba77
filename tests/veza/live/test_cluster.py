"""Two nodes on one database (each with its own in-process broker): viewer counts add up
across nodes, and hooks may reach any node without the nodes undoing each other."""

from __future__ import annotations

import asyncio

import pytest

from tests.support import ApiClient
from tests.veza.live_support import HOOK_SECRET, publish_done, publish_rtmp, rtmp_hook
from tests.veza.ws.test_live import watcher
from veza.app import create_app
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_hook_secret=HOOK_SECRET, live_viewers_interval=0.2, live_ingest_timeout=1.5)


@pytest.fixture
async def nodes(aiohttp_client, settings: Settings) -> tuple[ApiClient, ApiClient]:  # type: ignore[no-untyped-def]
    a = ApiClient(await aiohttp_client(create_app(settings.replace(node_id="node-a"))))
    b = ApiClient(await aiohttp_client(create_app(settings.replace(node_id="node-b"))))
    return a, b


async def test_viewers_on_two_nodes_are_counted_together(nodes: tuple[ApiClient, ApiClient]) -> None:
    a, b = nodes
    owner = await a.register()
    stream = (await a.post("/live/streams", json={"title": "Two nodes"}, user=owner)).data
    on_a = [await watcher(a, stream["id"]) for _ in range(2)]
    on_b = [await watcher(b, stream["id"]) for _ in range(3)]
    await on_a[0][0].viewers(5)
    await on_b[0][0].viewers(5)
    await on_b[1][0].ws.close()
    await on_a[0][0].viewers(4)
    listed = await b.get(f"/live/streams/{stream['id']}")
    async with asyncio.timeout(5):
        while listed.data["viewer_count"] != 4:
            await asyncio.sleep(0.1)
            listed = await b.get(f"/live/streams/{stream['id']}")
    for w, _ in on_a + on_b:
        await w.ws.close()


async def test_hooks_may_reach_any_node(nodes: tuple[ApiClient, ApiClient]) -> None:
    a, b = nodes
    owner = await a.register()
    stream = (await a.post("/live/streams", json={"title": "Hooks"}, user=owner)).data
    key, sid = stream["stream_key"], stream["id"]
    watching_a, _ = await watcher(a, sid)  # node A runs an actor for the stream too
    assert (await publish_rtmp(a, key, clientid="7")).status == 302
    await watching_a.next("stream_live")
    assert (await publish_rtmp(b, key, clientid="8")).status == 403  # live, whichever node asks
    for _ in range(8):  # heartbeats through B keep it alive past A's timeout
        await asyncio.sleep(0.4)
        assert (await rtmp_hook(b, "update", key, "update_publish", clientid="7")).status == 200
    assert (await a.get(f"/live/streams/{sid}")).data["is_live"] is True
    assert (await publish_done(b, key, clientid="7")).status == 200
    assert (await b.get(f"/live/streams/{sid}")).data["is_live"] is False
    assert (await publish_rtmp(a, key, clientid="9")).status == 302  # A does not hold it "live"
    # No heartbeat any more: one of the nodes ends it (each would announce it on the shared
    # broker; these two test nodes have none, so look at the database).
    async with asyncio.timeout(10):
        while (await b.get(f"/live/streams/{sid}")).data["is_live"]:
            await asyncio.sleep(0.2)
    await watching_a.ws.close()

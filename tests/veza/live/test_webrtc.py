"""WHIP publish and WHEP watch with aiortc on both ends: frames travel publisher -> server -> viewer.

aiortc never offers loopback candidates, so ICE runs over this machine's non-loopback
interface (CI machines have one).
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

from tests.support import ApiClient
from tests.veza.ws.test_live import watcher
from veza.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_viewers_interval=0.2)


async def new_stream(client: ApiClient) -> dict:
    owner = await client.register()
    return (await client.post("/live/streams", json={"title": "Browser set"}, user=owner)).data


def sdp_headers(key: str | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/sdp"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return headers


async def offer(pc: RTCPeerConnection) -> str:
    await pc.setLocalDescription(await pc.createOffer())
    return pc.localDescription.sdp


async def test_whip_publisher_reaches_a_whep_viewer(client: ApiClient) -> None:
    stream = await new_stream(client)
    sid, key = stream["id"], stream["stream_key"]
    w, _ = await watcher(client, sid)
    publisher, viewer = RTCPeerConnection(), RTCPeerConnection()
    try:
        publisher.addTrack(VideoStreamTrack())
        whip = await client.post("/api/v1/live/whip", data=await offer(publisher), headers=sdp_headers(key))
        assert whip.status == 201, whip.body
        assert whip.headers["Content-Type"].startswith("application/sdp")
        location = whip.headers["Location"]
        assert location.startswith("/api/v1/live/whip/") and key not in location
        await publisher.setRemoteDescription(RTCSessionDescription(sdp=whip.body.decode(), type="answer"))
        assert (await w.next("stream_live", timeout=10))["stream"] == sid

        tracks: asyncio.Queue = asyncio.Queue()
        viewer.on("track", tracks.put_nowait)
        viewer.addTransceiver("video", direction="recvonly")
        whep = await client.post(f"/api/v1/live/streams/{sid}/whep", data=await offer(viewer), headers=sdp_headers())
        assert whep.status == 201, whep.body
        await viewer.setRemoteDescription(RTCSessionDescription(sdp=whep.body.decode(), type="answer"))
        track = await asyncio.wait_for(tracks.get(), 20)
        frame = await asyncio.wait_for(track.recv(), 30)
        assert frame.width == 640 and frame.height == 480

        assert (await client.delete(whep.headers["Location"])).status == 200
        assert (await client.delete(location)).status == 401  # the key is required to end it
        assert (await client.delete(location, headers={"Authorization": f"Bearer {key}"})).status == 200
        offline = await w.next("stream_offline", timeout=10)
        assert offline["stream"] == sid
        assert all(key not in frame for frame in w.seen)
    finally:
        await publisher.close()
        await viewer.close()
        await w.ws.close()


async def test_whip_refusals(client: ApiClient) -> None:
    stream = await new_stream(client)
    pc = RTCPeerConnection()
    try:
        pc.addTrack(VideoStreamTrack())
        sdp = await offer(pc)
        assert (await client.post("/api/v1/live/whip", data=sdp, headers=sdp_headers())).status == 401
        bad_key = await client.post("/api/v1/live/whip", data=sdp, headers=sdp_headers("live_" + "z" * 43))
        assert bad_key.status == 401
        wrong_type = await client.post("/api/v1/live/whip", data=sdp, headers={
            "Authorization": f"Bearer {stream['stream_key']}", "Content-Type": "text/plain"})
        assert wrong_type.status == 415
        garbage = await client.post("/api/v1/live/whip", data="hello", headers=sdp_headers(stream["stream_key"]))
        assert garbage.status == 400
        assert (await client.get(f"/live/streams/{stream['id']}")).data["is_live"] is False
    finally:
        await pc.close()


async def test_whep_refusals(client: ApiClient) -> None:
    stream = await new_stream(client)
    pc = RTCPeerConnection()
    try:
        pc.addTransceiver("video", direction="recvonly")
        sdp = await offer(pc)
        not_live = await client.post(f"/api/v1/live/streams/{stream['id']}/whep", data=sdp, headers=sdp_headers())
        assert not_live.status == 409
        unknown = await client.post(f"/api/v1/live/streams/{uuid.uuid4()}/whep", data=sdp, headers=sdp_headers())
        assert unknown.status == 404
        assert (await client.delete(f"/api/v1/live/streams/{stream['id']}/whep/nope")).status == 404
    finally:
        await pc.close()

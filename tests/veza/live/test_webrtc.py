"""WHIP publish and WHEP watch with aiortc on both ends: frames travel publisher -> server -> viewer.

aiortc never offers loopback candidates, so ICE runs over this machine's non-loopback
interface (CI machines have one).
"""

from __future__ import annotations

import asyncio
import re
import uuid

import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription, VideoStreamTrack

from tests.support import ApiClient
from tests.veza.ws.test_live import watcher
from veza import keys
from veza.app import create_app
from veza.config import Settings
from veza.live.webrtc import sends_media

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(live_viewers_interval=0.2)


async def new_stream(client: ApiClient, owner=None) -> dict:  # type: ignore[no-untyped-def]
    owner = owner or await client.register()
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


async def test_whip_offer_without_media_to_receive_is_400(client: ApiClient) -> None:
    stream = await new_stream(client)
    viewer_like, data_only = RTCPeerConnection(), RTCPeerConnection()
    try:
        viewer_like.addTransceiver("video", direction="recvonly")
        data_only.createDataChannel("chat")
        sender = RTCPeerConnection()
        sender.addTrack(VideoStreamTrack())
        disabled = re.sub(r"^m=video \d+ ", "m=video 0 ", await offer(sender), flags=re.M)  # port 0: rejected
        await sender.close()
        for sdp in ("v=0\r\n", await offer(viewer_like), await offer(data_only), disabled):
            reply = await client.post("/api/v1/live/whip", data=sdp, headers=sdp_headers(stream["stream_key"]))
            assert reply.status == 400, (sdp, reply.body)
            assert reply.body["success"] is False and "Unusable SDP offer" in reply.body["error"]
        assert (await client.get(f"/live/streams/{stream['id']}")).data["is_live"] is False
    finally:
        await viewer_like.close()
        await data_only.close()


async def test_concurrent_offers_one_session_and_the_key_change_ends_it(client: ApiClient) -> None:
    owner = await client.register()
    stream = await new_stream(client, owner)
    sid, key = stream["id"], stream["stream_key"]
    pcs = [RTCPeerConnection() for _ in range(4)]
    try:
        for pc in pcs:
            pc.addTrack(VideoStreamTrack())
        offers = [await offer(pc) for pc in pcs]
        replies = await asyncio.gather(*(client.post("/api/v1/live/whip", data=sdp, headers=sdp_headers(key))
                                         for sdp in offers))
        assert sorted(r.status for r in replies) == [201, 409, 409, 409], [r.body for r in replies]
        winner = next(r for r in replies if r.status == 201)
        sessions = client.app[keys.webrtc]
        assert list(sessions.publishers) == [winner.headers["Location"].rsplit("/", 1)[1]]
        assert sessions.by_stream[uuid.UUID(sid)] is next(iter(sessions.publishers.values()))

        regenerated = await client.post("/live/streams/me/key/regenerate", params={"stream_id": sid}, user=owner)
        assert regenerated.status == 200, regenerated.body
        new_key = regenerated.data["stream_key"]
        # Changing the key closed the winner's session: nothing is left to end.
        gone = await client.delete(winner.headers["Location"], headers={"Authorization": f"Bearer {new_key}"})
        assert gone.status == 404, gone.body
        assert not sessions.publishers and not sessions.by_stream
        assert (await client.get(f"/live/streams/{sid}")).data["is_live"] is False
    finally:
        for pc in pcs:
            await pc.close()


async def test_publisher_that_never_connects_ends_the_stream(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = ApiClient(await aiohttp_client(create_app(settings.replace(live_ingest_timeout=1.0))))
    stream = await new_stream(client)
    w, _ = await watcher(client, stream["id"])
    pc = RTCPeerConnection()
    try:
        pc.addTrack(VideoStreamTrack())
        # No candidates: the server's ICE waits for them forever, so the connection never gets past "connecting".
        sdp = "\r\n".join(line for line in (await offer(pc)).split("\r\n")
                           if not line.startswith(("a=candidate", "a=end-of-candidates")))
        whip = await client.post("/api/v1/live/whip", data=sdp, headers=sdp_headers(stream["stream_key"]))
        assert whip.status == 201, whip.body
        assert (await w.next("stream_live", timeout=10))["stream"] == stream["id"]
        assert (await w.next("stream_offline", timeout=30))["stream"] == stream["id"]
        assert not client.app[keys.webrtc].publishers
    finally:
        await pc.close()
        await w.ws.close()


@pytest.mark.parametrize("sdp, expected", [
    ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n", True),  # no direction attribute: sendrecv
    ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendonly\r\n", True),
    ("v=0\r\na=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n", False),  # session-level direction
    ("v=0\r\na=recvonly\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=sendrecv\r\n", True),  # the section's wins
    ("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=inactive\r\n", False),
    ("v=0\r\nm=video 0 UDP/TLS/RTP/SAVPF 96\r\n", False),
    ("v=0\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", False),
    ("v=0\r\nm=\r\n", False),
])
def test_sends_media(sdp: str, expected: bool) -> None:
    assert sends_media(sdp) is expected

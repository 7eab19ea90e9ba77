"""WHIP publishers and WHEP viewers with aiortc: browser live streaming with no media server.

A WHIP publisher's tracks are fanned out to WHEP viewers through one aiortc `MediaRelay`
(each viewer gets its own proxy track; the publisher's track is read once). Sessions
live on this node: a WHEP viewer must reach the node holding the publisher (sticky
routing by stream id in a cluster). When the publisher goes away (DELETE, its ICE
connection fails/closes, or never connects within `connect_timeout`) its viewers are
closed and the stream goes offline. A stream has at most one publisher per node: an offer
for a stream already published, or being negotiated, here is refused before negotiation.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

log = logging.getLogger("veza.live.webrtc")

OnEnded = Callable[[UUID, str], Awaitable[None]]


@dataclasses.dataclass(eq=False)
class Publisher:
    session: str
    stream_id: UUID
    pc: RTCPeerConnection
    tracks: list[MediaStreamTrack] = dataclasses.field(default_factory=list)
    viewers: set[str] = dataclasses.field(default_factory=set)


@dataclasses.dataclass(eq=False)
class Viewer:
    session: str
    stream_id: UUID
    pc: RTCPeerConnection


class WebRtcSessions:
    """`on_alive` is called every `beat_every` seconds for each connected publisher: the
    ingest heartbeat, so a WHIP stream whose node died times out like an RTMP one. A
    publisher not connected `connect_timeout` seconds after its offer is ended."""

    def __init__(self, on_publisher_ended: OnEnded, on_alive: OnEnded, beat_every: float = 20.0,
                 connect_timeout: float = 60.0) -> None:
        self.relay = MediaRelay()
        self.publishers: dict[str, Publisher] = {}
        self.by_stream: dict[UUID, Publisher] = {}
        self.viewers: dict[str, Viewer] = {}
        self._negotiating: set[UUID] = set()  # streams with a WHIP offer being answered
        self._on_publisher_ended = on_publisher_ended
        self._on_alive = on_alive
        self._beat_every = beat_every
        self._connect_timeout = connect_timeout
        self._tasks: set[asyncio.Task[Any]] = set()
        self._beats: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while self.publishers:
            await asyncio.sleep(self._beat_every)
            for publisher in list(self.publishers.values()):
                # Only media flowing counts: a connection still "new" or "connecting" is
                # ended by `_end_unless_connected` if it never gets there.
                if publisher.pc.connectionState == "connected":
                    try:
                        await self._on_alive(publisher.stream_id, publisher.session)
                    except Exception:
                        log.exception("WHIP heartbeat of %s failed", publisher.stream_id)

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(16)

    async def _end_unless_connected(self, publisher: Publisher) -> None:
        await asyncio.sleep(self._connect_timeout)
        # Once connected, a later failure is `on_state`'s to handle.
        if publisher.pc.connectionState != "connected" and self.publishers.get(publisher.session) is publisher:
            await self.end_publisher(publisher.session, reason="ice never connected")

    async def publish(self, session: str, stream_id: UUID, offer_sdp: str) -> str | None:
        """Answer a WHIP offer; the publisher's tracks become available to viewers. None,
        without negotiating, if the stream already has a publisher (or an offer in progress)
        here; ValueError for an offer with no audio or video to receive."""
        if not sends_media(offer_sdp):
            raise ValueError("no audio or video m-line we can receive (sendonly or sendrecv)")
        if stream_id in self.by_stream or stream_id in self._negotiating:
            return None
        pc = RTCPeerConnection()
        publisher = Publisher(session, stream_id, pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            publisher.tracks.append(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self.publishers.get(session) is publisher:
                self._spawn(self.end_publisher(session, reason=f"ice {pc.connectionState}"))

        # Reserved from the check above (no await in between) until registered or failed,
        # so concurrent offers cannot both negotiate and overwrite each other in by_stream.
        self._negotiating.add(stream_id)
        try:
            answer = await _answer(pc, offer_sdp)
        except Exception:
            await pc.close()
            raise
        finally:
            self._negotiating.discard(stream_id)
        self.publishers[session] = publisher
        self.by_stream[stream_id] = publisher
        self._spawn(self._end_unless_connected(publisher))
        if self._beats is None or self._beats.done():
            self._beats = asyncio.get_running_loop().create_task(self._beat())
        return answer

    async def end_publisher(self, session: str, reason: str = "ended") -> bool:
        publisher = self.publishers.pop(session, None)
        if publisher is None:
            return False
        if self.by_stream.get(publisher.stream_id) is publisher:
            del self.by_stream[publisher.stream_id]
        for viewer_session in list(publisher.viewers):
            await self.end_viewer(viewer_session)
        await publisher.pc.close()
        log.info("WHIP publisher of %s ended (%s)", publisher.stream_id, reason)
        await self._on_publisher_ended(publisher.stream_id, session)
        return True

    async def watch(self, session: str, stream_id: UUID, offer_sdp: str) -> str | None:
        """Answer a WHEP offer with the publisher's relayed tracks; None if nobody publishes."""
        publisher = self.by_stream.get(stream_id)
        if publisher is None or not publisher.tracks:
            return None
        pc = RTCPeerConnection()
        for track in publisher.tracks:
            pc.addTrack(self.relay.subscribe(track))

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and session in self.viewers:
                self._spawn(self.end_viewer(session))

        try:
            answer = await _answer(pc, offer_sdp)
        except Exception:
            await pc.close()
            raise
        self.viewers[session] = Viewer(session, stream_id, pc)
        publisher.viewers.add(session)
        return answer

    async def end_viewer(self, session: str) -> bool:
        viewer = self.viewers.pop(session, None)
        if viewer is None:
            return False
        publisher = self.by_stream.get(viewer.stream_id)
        if publisher is not None:
            publisher.viewers.discard(session)
        await viewer.pc.close()
        return True

    async def close(self) -> None:
        for session in list(self.publishers):
            await self.end_publisher(session, reason="shutdown")
        for session in list(self.viewers):
            await self.end_viewer(session)
        for task in list(self._tasks) + ([self._beats] if self._beats else []):
            task.cancel()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_DIRECTIONS = frozenset({"sendrecv", "sendonly", "recvonly", "inactive"})


def sends_media(offer_sdp: str) -> bool:
    """Whether the offer has an enabled (port not 0) audio or video section the offerer sends:
    direction sendonly or sendrecv, from the section, else the session level, else sendrecv."""
    session_direction = "sendrecv"
    sections: list[dict[str, str]] = []
    for line in (raw.strip() for raw in offer_sdp.splitlines()):
        if line.startswith("m="):
            kind, port, *_ = line[2:].split() + ["", ""]
            sections.append({"kind": kind, "port": port.split("/")[0], "direction": ""})
        elif line.startswith("a=") and line[2:] in _DIRECTIONS:
            if sections:
                sections[-1]["direction"] = line[2:]
            else:
                session_direction = line[2:]
    return any(s["kind"] in ("audio", "video") and s["port"] != "0"
               and (s["direction"] or session_direction) in ("sendrecv", "sendonly") for s in sections)


async def _answer(pc: RTCPeerConnection, offer_sdp: str) -> str:
    # aiortc gathers every candidate in setLocalDescription: the answer is complete (no trickle).
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp

"""WHIP publishers and WHEP viewers with aiortc: browser live streaming with no media server.

A WHIP publisher's tracks are fanned out to WHEP viewers through one aiortc `MediaRelay`
(each viewer gets its own proxy track; the publisher's track is read once). Sessions
live on this node: a WHEP viewer must reach the node holding the publisher (sticky
routing by stream id in a cluster). When the publisher goes away (DELETE, or its ICE
connection fails/closes) its viewers are closed and the stream goes offline.
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
    ingest heartbeat, so a WHIP stream whose node died times out like an RTMP one."""

    def __init__(self, on_publisher_ended: OnEnded, on_alive: OnEnded, beat_every: float = 20.0) -> None:
        self.relay = MediaRelay()
        self.publishers: dict[str, Publisher] = {}
        self.by_stream: dict[UUID, Publisher] = {}
        self.viewers: dict[str, Viewer] = {}
        self._on_publisher_ended = on_publisher_ended
        self._on_alive = on_alive
        self._beat_every = beat_every
        self._tasks: set[asyncio.Task[Any]] = set()
        self._beats: asyncio.Task[None] | None = None

    async def _beat(self) -> None:
        while self.publishers:
            await asyncio.sleep(self._beat_every)
            for publisher in list(self.publishers.values()):
                if publisher.pc.connectionState not in ("failed", "closed"):
                    try:
                        await self._on_alive(publisher.stream_id, publisher.session)
                    except Exception:
                        log.exception("WHIP heartbeat of %s failed", publisher.stream_id)

    @staticmethod
    def new_session_id() -> str:
        return secrets.token_urlsafe(16)

    async def publish(self, session: str, stream_id: UUID, offer_sdp: str) -> str:
        """Answer a WHIP offer; the publisher's tracks become available to viewers."""
        pc = RTCPeerConnection()
        publisher = Publisher(session, stream_id, pc)

        @pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            publisher.tracks.append(track)

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self.publishers.get(session) is publisher:
                self._spawn(self.end_publisher(session, reason=f"ice {pc.connectionState}"))

        try:
            answer = await _answer(pc, offer_sdp)
        except Exception:
            await pc.close()
            raise
        self.publishers[session] = publisher
        self.by_stream[stream_id] = publisher
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


async def _answer(pc: RTCPeerConnection, offer_sdp: str) -> str:
    # aiortc gathers every candidate in setLocalDescription: the answer is complete (no trickle).
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
    await pc.setLocalDescription(await pc.createAnswer())
    return pc.localDescription.sdp

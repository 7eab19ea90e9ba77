"""WHIP (publish) and WHEP (watch) over aiortc: `application/sdp` in, `application/sdp` out.

WHIP authenticates with the stream key as a Bearer token (what OBS and browsers send);
the stream then goes live exactly as with RTMP, through the LiveStream actor. WHEP is
public for a live stream; the answer carries the publisher's tracks, relayed.
"""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from actors.live_stream import GoLive
from veza import keys
from veza.domain import live
from veza.http.auth import bearer_token
from veza.http.envelope import ok
from veza.http.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized, UnsupportedMediaType
from veza.http.routing import ApiRouter, path_uuid
from veza.live.service import stream_ref
from veza.store import live as store

router = ApiRouter("live-webrtc")

_SDP = "application/sdp"
MAX_SDP_BYTES = 64 * 1024
NO_KEY = (401, "No stream key as Bearer token, or an unknown one")
OFFER = {"type": "string", "pattern": "^v=0", "description": "An SDP offer (RFC 8866)"}


async def _offer(request: web.Request) -> str:
    if request.content_type != _SDP:
        raise UnsupportedMediaType("Content-Type must be application/sdp")
    raw = await request.content.read(MAX_SDP_BYTES + 1)
    if len(raw) > MAX_SDP_BYTES:
        raise BadRequest("SDP offer too large", details={"body": f"at most {MAX_SDP_BYTES} bytes"})
    text = raw.decode("utf-8", errors="replace")
    if not text.startswith("v=0"):
        raise BadRequest("Body is not an SDP offer", details={"body": "must start with v=0"})
    return text


async def _stream_of_key(request: web.Request) -> dict:
    key = bearer_token(request)
    if not key:
        raise Unauthorized("Stream key required as Authorization: Bearer <key>")
    async with request.app[keys.db].connection() as conn:
        found = await live.stream_of_key(conn, key)
    if found is None:
        raise Unauthorized("Unknown stream key")
    return {**found, "key": key}


def _answer(sdp: str, location: str) -> web.Response:
    return web.Response(status=201, text=sdp, content_type=_SDP, headers={"Location": location})


async def _negotiate(coro) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return await coro
    except ValueError as exc:  # aiortc's verdict on a malformed or unusable offer
        raise BadRequest(f"Unusable SDP offer: {exc}", details={"body": "invalid SDP"}) from None


@router.post("/live/whip", content_type=_SDP, content_schema=OFFER, produces=_SDP, status=201,
             errors=(NO_KEY, 409),
             summary="WHIP: publish with the stream key as Bearer token; 201 with the SDP answer")
async def whip_publish(request: web.Request) -> web.Response:
    stream = await _stream_of_key(request)
    offer = await _offer(request)
    if stream["status"] == "live":
        raise Conflict("This stream is already live")
    sessions = request.app[keys.webrtc]
    session = sessions.new_session_id()
    answer = await _negotiate(sessions.publish(session, stream["id"], offer))
    if answer is None:  # another offer for this stream won the race (and is live or about to be)
        raise Conflict("This stream is already live")
    went_live = await stream_ref(request.app, stream["id"]).ask(GoLive(key=stream["key"], ingest="whip",
                                                                      session=session))
    if not went_live:
        await sessions.end_publisher(session, reason="refused")
        raise Conflict("This stream is already live")
    return _answer(answer, f"/api/v1/live/whip/{session}")


@router.delete("/live/whip/{session}", errors=(NO_KEY, 403),
               summary="WHIP: end the publishing session (Bearer stream key)")
async def whip_end(request: web.Request) -> web.Response:
    stream = await _stream_of_key(request)
    sessions = request.app[keys.webrtc]
    publisher = sessions.publishers.get(request.match_info["session"])
    if publisher is None:
        raise NotFound("No such WHIP session")
    if publisher.stream_id != stream["id"]:
        raise Forbidden("This session belongs to another stream")
    await sessions.end_publisher(publisher.session)
    return ok({"ended": True})


@router.post("/live/streams/{id}/whep", content_type=_SDP, content_schema=OFFER, produces=_SDP, status=201,
             errors=(409,),
             summary="WHEP: watch a stream published over WHIP; 201 with the SDP answer")
async def whep_watch(request: web.Request) -> web.Response:
    stream_id = path_uuid(request, "id")
    async with request.app[keys.db].connection() as conn:
        await store.get_stream(conn, stream_id)
    offer = await _offer(request)
    sessions = request.app[keys.webrtc]
    session = sessions.new_session_id()
    answer = await _negotiate(sessions.watch(session, stream_id, offer))
    if answer is None:
        raise Conflict("This stream is not being published over WebRTC on this server")
    return _answer(answer, f"/api/v1/live/streams/{stream_id}/whep/{session}")


@router.delete("/live/streams/{id}/whep/{session}", summary="WHEP: stop watching")
async def whep_end(request: web.Request) -> web.Response:
    stream_id: UUID = path_uuid(request, "id")
    viewer = request.app[keys.webrtc].viewers.get(request.match_info["session"])
    if viewer is None or viewer.stream_id != stream_id:
        raise NotFound("No such WHEP session")
    await request.app[keys.webrtc].end_viewer(viewer.session)
    return ok({"ended": True})

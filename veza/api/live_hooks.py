"""Media-server hooks: nginx-rtmp, SRS and MediaMTX call these when a publisher comes and goes.

Every hook first checks the shared secret (`LIVE_HOOK_SECRET`, sent as `?secret=` in the
hook URL or an `X-Hook-Secret` header): without it, 403. Then the stream key, through
`veza.live.service`, which messages the stream's LiveStream actor.

nginx-rtmp `on_publish` answers a good key with a 302 whose Location is the stream id:
nginx-rtmp renames the stream to it, so HLS playlists and segments are named by the
public id and the key never appears in a URL a viewer sees. A bad key, or a stream
already live, is a 403, which makes nginx drop the publisher.

These routes read their bodies themselves, so the router's NUL check does not see them:
a stream name or session holding a NUL (PostgreSQL text cannot store one) is a malformed
call, 400, like any other, which every media server takes as a refusal.
"""

from __future__ import annotations

import hmac
from typing import Any

import msgspec
from aiohttp import web

from protocols.live import IngestCall, mediamtx_call, nginx_call, srs_call
from veza import keys
from veza.http.envelope import ok
from veza.http.errors import BadRequest, Forbidden, Unauthorized
from veza.http.routing import ApiRouter, reject_nul
from veza.live.service import ingest_heartbeat, start_ingest, stop_ingest

router = ApiRouter("live-hooks")

_FORM = "application/x-www-form-urlencoded"
HOOK_REFUSED = (403, "Hook secret missing or wrong, or the publisher refused")


def _checked(call: IngestCall) -> IngestCall:
    reject_nul(call.name, "name")
    reject_nul(call.session, "session")
    return call


def _check_secret(request: web.Request) -> None:
    expected = request.app[keys.settings].live_hook_secret
    given = request.headers.get("X-Hook-Secret") or request.query.get("secret") or ""
    if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
        raise Forbidden("Hook secret missing or wrong")


async def _nginx(request: web.Request, expected: str) -> IngestCall:
    _check_secret(request)
    form = await request.post()
    try:
        call = nginx_call({k: str(v) for k, v in form.items()}, expected)  # type: ignore[arg-type]
    except ValueError as exc:
        raise BadRequest(str(exc), details={"call": "unexpected"}) from None
    return _checked(call)


@router.post("/live/hooks/rtmp/publish", content_type=_FORM, status=302, errors=(HOOK_REFUSED,),
             summary="nginx-rtmp on_publish: 302 to the stream id for a good key, 403 otherwise")
async def rtmp_publish(request: web.Request) -> web.Response:
    call = await _nginx(request, "publish")
    stream_id = await start_ingest(request.app, call.name, "rtmp", call.session)
    if stream_id is None:
        raise Forbidden("Unknown stream key, or the stream is already live")
    return web.Response(status=302, headers={"Location": str(stream_id)})


@router.post("/live/hooks/rtmp/publish_done", content_type=_FORM, errors=(HOOK_REFUSED,),
             summary="nginx-rtmp on_publish_done")
async def rtmp_publish_done(request: web.Request) -> web.Response:
    call = await _nginx(request, "unpublish")
    await stop_ingest(request.app, call.name, call.session)
    return ok({"ended": True})


@router.post("/live/hooks/rtmp/update", content_type=_FORM, errors=(HOOK_REFUSED,),
             summary="nginx-rtmp on_update: the ingest heartbeat; 403 ends an unknown publisher")
async def rtmp_update(request: web.Request) -> web.Response:
    call = await _nginx(request, "update")
    if not await ingest_heartbeat(request.app, call.name, call.session):
        raise Forbidden("No live stream for this publisher")
    return ok({"alive": True})


def _decode(parse: Any, raw: bytes) -> IngestCall:
    try:
        call = parse(raw)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise BadRequest(f"Malformed hook body: {exc}", details={"body": "invalid"}) from None
    return _checked(call)


@router.post("/live/hooks/srs", content_type="application/json", errors=(HOOK_REFUSED,),
             summary="SRS on_publish / on_unpublish: {\"code\":0} accepts, anything else refuses")
async def srs_hook(request: web.Request) -> web.Response:
    _check_secret(request)
    call = _decode(srs_call, await request.read())
    if call.action == "publish":
        if await start_ingest(request.app, call.name, "srs", call.session) is None:
            return web.json_response({"code": 403, "error": "stream key refused"}, status=403)
    elif call.action == "unpublish":
        await stop_ingest(request.app, call.name, call.session)
    return web.json_response({"code": 0})


@router.post("/live/hooks/mediamtx/auth", content_type="application/json",
             errors=(HOOK_REFUSED, (401, "Stream key refused, or the action is not allowed")),
             summary="MediaMTX external authentication: 200 allows, 401 refuses")
async def mediamtx_auth(request: web.Request) -> web.Response:
    _check_secret(request)
    call = _decode(mediamtx_call, await request.read())
    if call.action == "publish":
        if await start_ingest(request.app, call.name, "mediamtx", call.session) is None:
            raise Unauthorized("Stream key refused")
    elif call.action != "read":  # reading a public stream is open; the API/metrics are not
        raise Unauthorized("Action not allowed")
    return ok({"allowed": True})


@router.post("/live/hooks/mediamtx/unpublish", content_type="application/json", errors=(HOOK_REFUSED,),
             summary="MediaMTX runOnNotReady: the publisher left (same JSON as auth, with its id)")
async def mediamtx_unpublish(request: web.Request) -> web.Response:
    _check_secret(request)
    call = _decode(mediamtx_call, await request.read())
    # Only the publisher that went live (same `id`) ends it: a late call of an older one ends nothing.
    await stop_ingest(request.app, call.name, call.session)
    return ok({"ended": True})

"""Live streaming wire formats: WebSocket events and media-server hook payloads. No I/O.

Events (`protocols.frames.Event`s, so they carry `ref` like every reply) are encoded once
(`encode_event`) and the same bytes go to every watcher. No event carries a stream key:
they are built from public fields only.

Hook payloads from the three media servers are normalised into one `IngestCall`:
- nginx-rtmp `on_publish`/`on_publish_done`/`on_update`: form fields `call`, `name` (the
  stream name the publisher used: its key; after our redirect, the stream id), `app`,
  `addr`, `clientid`, plus the publish URL's query parameters.
- SRS `on_publish`/`on_unpublish`: JSON with `action`, `stream`, `client_id`, `ip`, `app`, `param`.
- MediaMTX external authentication: JSON with `action`, `path`, `id`, `ip`, `query`,
  `user`, `password`, `protocol`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs

import msgspec

from protocols.frames import Event, encode

Action = Literal["publish", "unpublish", "update", "read", "other"]


class PinnedProduct(msgspec.Struct):
    """A product a streamer pinned for live shopping, as watchers see it."""
    id: str
    title: str
    kind: str
    price_cents: int
    currency: str
    stock_remaining: int | None


class StreamState(Event, tag="stream_state"):
    stream: str
    live: bool
    viewers: int
    title: str
    products: list[PinnedProduct] = []


class StreamLive(Event, tag="stream_live"):
    stream: str
    title: str
    started_at: dt.datetime | None


class StreamOffline(Event, tag="stream_offline"):
    stream: str
    ended_at: dt.datetime | None
    duration: int
    peak_viewers: int


class StreamUpdated(Event, tag="stream_updated"):
    stream: str
    title: str
    description: str
    category: str
    tags: list[str]


class StreamViewers(Event, tag="stream_viewers"):
    stream: str
    viewers: int


class StreamProducts(Event, tag="stream_products"):
    """The pinned products changed (sent to every watcher, on every node)."""
    stream: str
    products: list[PinnedProduct]


class StreamSale(Event, tag="stream_sale"):
    """A pinned product sold during the stream; at most one per second per stream, the
    latest sale, with `sales` counting those it stands for."""
    stream: str
    product_id: str
    buyer: str  # a username, or "anonymous" (Sec-GPC or the buyer opted out)
    sold: int
    remaining: int | None
    sales: int


LiveEvent = StreamState | StreamLive | StreamOffline | StreamUpdated | StreamViewers | StreamProducts | StreamSale


def encode_event(event: LiveEvent) -> bytes:
    return encode(event)


def topic(stream_id: object) -> str:
    return f"stream:{stream_id}"


class IngestCall(msgspec.Struct, frozen=True):
    """One media-server callback, whatever server sent it."""

    action: Action
    name: str  # the stream name as published: the key (or, after our redirect, the stream id)
    session: str  # the media server's id for this publisher connection
    addr: str = ""
    params: dict[str, str] = {}


_NGINX_CALLS: dict[str, Action] = {"publish": "publish", "publish_done": "unpublish", "update_publish": "update",
                                   "update": "update", "play": "read", "play_done": "other", "done": "unpublish"}


def nginx_call(form: Mapping[str, str], expected: Action) -> IngestCall:
    """An nginx-rtmp notify body. `call` is checked against the hook it arrived on."""
    call = form.get("call", "")
    action = _NGINX_CALLS.get(call, "other")
    if action != expected:
        raise ValueError(f"unexpected nginx-rtmp call {call!r}")
    known = {"call", "name", "app", "addr", "clientid", "flashver", "swfurl", "tcurl", "pageurl", "type",
             "time", "timestamp", "epoch"}
    params = {k: v for k, v in form.items() if k.lower() not in known}
    return IngestCall(action=action, name=form.get("name", ""), session=form.get("clientid", ""),
                      addr=form.get("addr", ""), params=params)


class SrsHook(msgspec.Struct):
    action: str
    stream: str = ""
    client_id: str = ""
    ip: str = ""
    app: str = ""
    param: str = ""


_SRS_ACTIONS: dict[str, Action] = {"on_publish": "publish", "on_unpublish": "unpublish"}


def srs_call(body: bytes) -> IngestCall:
    hook = msgspec.json.decode(body, type=SrsHook)
    params = {k: v[0] for k, v in parse_qs(hook.param.lstrip("?")).items()}
    return IngestCall(action=_SRS_ACTIONS.get(hook.action, "other"), name=hook.stream, session=hook.client_id,
                      addr=hook.ip, params=params)


class MediaMtxAuth(msgspec.Struct):
    action: str
    path: str = ""
    id: str | None = None
    ip: str = ""
    query: str = ""
    user: str = ""
    password: str = ""
    protocol: str = ""


def mediamtx_call(body: bytes) -> IngestCall:
    """The key is the path's last segment (`live/<key>`), or `?key=`, or the password."""
    auth = msgspec.json.decode(body, type=MediaMtxAuth)
    params = {k: v[0] for k, v in parse_qs(auth.query).items()}
    name = auth.path.rsplit("/", 1)[-1]
    action: Action = "publish" if auth.action == "publish" else ("read" if auth.action in ("read", "playback") else "other")
    if action != "read":  # readers name the stream id; publishers carry the key
        name = params.get("key") or auth.password or name
    return IngestCall(action=action, name=name, session=auth.id or auth.path, addr=auth.ip, params=params)

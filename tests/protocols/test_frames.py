"""Protocol v1 frames: every client frame decodes to its Struct, every bad one is `invalid`."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import msgspec
import pytest

from protocols import frames as f

ROOM = str(uuid.uuid4())
MSG = str(uuid.uuid4())

VALID = [
    ({"type": "join", "room": ROOM}, f.JoinFrame, {"since": None}),
    ({"type": "join", "room": ROOM, "since": 12, "ref": "a1"}, f.JoinFrame, {"since": 12, "ref": "a1"}),
    ({"type": "leave", "room": ROOM, "ref": 7}, f.LeaveFrame, {"ref": 7}),
    ({"type": "message", "room": ROOM, "content": "hi", "client_id": "c-1"}, f.MessageFrame, {"content": "hi"}),
    ({"type": "edit", "room": ROOM, "message_id": MSG, "content": "fixed"}, f.EditFrame, {"content": "fixed"}),
    ({"type": "delete", "room": ROOM, "message_id": MSG}, f.DeleteFrame, {}),
    ({"type": "react", "room": ROOM, "message_id": MSG, "emoji": "🔥"}, f.ReactFrame, {"emoji": "🔥"}),
    ({"type": "unreact", "room": ROOM, "message_id": MSG, "emoji": "🔥"}, f.UnreactFrame, {}),
    ({"type": "read", "room": ROOM, "seq": 0}, f.ReadFrame, {"seq": 0}),
    ({"type": "typing", "room": ROOM}, f.TypingFrame, {}),
    ({"type": "history", "room": ROOM}, f.HistoryFrame, {"limit": f.HISTORY_DEFAULT_LIMIT, "before": None}),
    ({"type": "history", "room": ROOM, "before": 40, "limit": 100}, f.HistoryFrame, {"before": 40, "limit": 100}),
    ({"type": "watch", "stream": ROOM}, f.WatchFrame, {}),
    ({"type": "unwatch", "stream": ROOM}, f.UnwatchFrame, {}),
    ({"type": "subscribe", "feed": "global"}, f.SubscribeFrame, {"feed": "global"}),
    ({"type": "unsubscribe", "feed": "user:abc"}, f.UnsubscribeFrame, {}),
    ({"type": "ping"}, f.PingFrame, {}),
]


@pytest.mark.parametrize(("raw", "cls", "fields"), VALID, ids=[v[0]["type"] + str(i) for i, v in enumerate(VALID)])
def test_valid_frames_decode_to_their_struct(raw: dict, cls: type, fields: dict) -> None:
    frame = f.decode_frame(json.dumps(raw))
    assert type(frame) is cls
    for name, value in fields.items():
        assert getattr(frame, name) == value


def test_every_v1_type_is_in_the_table() -> None:
    assert set(f.CLIENT_FRAMES) == {v[0]["type"] for v in VALID}
    assert all(cls.summary for cls in f.CLIENT_FRAMES.values())


INVALID = [
    ("not json", None, "not a JSON object"),
    ("[1, 2]", None, "Expected `object`"),
    ('{"ref": "r1"}', "r1", "missing field `type`"),
    ('{"type": 5, "ref": "r2"}', "r2", "field `type`"),
    ('{"type": "nope", "ref": 3}', 3, "unknown frame type 'nope'"),
    (json.dumps({"type": "join", "ref": "r4"}), "r4", "missing field `room`"),
    (json.dumps({"type": "join", "room": "not-a-uuid"}), None, "Invalid UUID (field `room`)"),
    (json.dumps({"type": "join", "room": ROOM, "since": -1}), None, "field `since`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "", "client_id": "c"}), None, "field `content`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "   ", "client_id": "c"}), None, "must not be blank"),
    (json.dumps({"type": "message", "room": ROOM, "content": "x" * (f.MAX_CONTENT_CHARS + 1), "client_id": "c"}),
     None, "field `content`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "hi"}), None, "missing field `client_id`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "hi", "client_id": "c" * 65}), None, "client_id"),
    (json.dumps({"type": "message", "room": ROOM, "content": "hi", "client_id": "c", "extra": 1}), None,
     "unknown field `extra`"),
    (json.dumps({"type": "history", "room": ROOM, "limit": f.HISTORY_MAX_LIMIT + 1}), None, "field `limit`"),
    (json.dumps({"type": "history", "room": ROOM, "limit": 0}), None, "field `limit`"),
    (json.dumps({"type": "react", "room": ROOM, "message_id": MSG, "emoji": "x" * 33}), None, "field `emoji`"),
    (json.dumps({"type": "subscribe", "feed": "bad feed!"}), None, "field `feed`"),
    (json.dumps({"type": "subscribe", "feed": "global\n"}), None, "field `feed`"),
    (json.dumps({"type": "ping", "ref": "r" * 65}), None, "field `ref`"),
    (json.dumps({"type": "ping", "ref": [1]}), None, "field `ref`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "a\u0000b", "client_id": "c"}), None, "field `content`"),
    (json.dumps({"type": "message", "room": ROOM, "content": "ab", "client_id": "\u0000"}), None, "field `client_id`"),
    (json.dumps({"type": "ping", "ref": 2**60}), None, "field `ref`"),
    (json.dumps({"type": "ping", "ref": True}), None, "field `ref`"),
    (json.dumps({"type": "join", "room": ROOM, "since": 2**63}), None, "field `since`"),
    (json.dumps({"type": "join", "room": ROOM, "since": 1.5}), None, "field `since`"),
    (json.dumps({"type": "history", "room": ROOM, "before": 2**70}), None, "field `before`"),
]


@pytest.mark.parametrize(("raw", "ref", "needle"), INVALID, ids=[str(i) for i in range(len(INVALID))])
def test_invalid_frames_raise_a_clear_error_with_their_ref(raw: str, ref: object, needle: str) -> None:
    with pytest.raises(f.InvalidFrame) as info:
        f.decode_frame(raw)
    assert needle in info.value.message
    assert info.value.ref == ref
    assert info.value.code == "invalid"


def test_events_encode_once_with_their_type_and_ref() -> None:
    author = f.Author(id=uuid.UUID(MSG), username="ann")
    now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    message = f.ChatMessage(id=uuid.UUID(MSG), seq=1, room=uuid.UUID(ROOM), author=author, content="hi",
                            client_id="c1", created_at=now)
    data = f.encode(f.Ack(ref="r9", message=message))
    assert isinstance(data, bytes)
    decoded = msgspec.json.decode(data)
    assert decoded["type"] == "ack" and decoded["ref"] == "r9"
    assert decoded["message"]["created_at"] == "2026-01-02T03:04:05Z"
    assert decoded["message"]["author"] == {"id": MSG, "username": "ann"}
    assert "ref" not in msgspec.json.decode(f.encode(f.Pong()))
    assert msgspec.json.decode(f.error("invalid", "bad", "x")) == {"type": "error", "ref": "x", "code": "invalid",
                                                                   "error": "bad"}
    assert msgspec.json.decode(f.encode_event("stream_live", stream=ROOM, ref=None)) == {"type": "stream_live",
                                                                                        "stream": ROOM}


# The Feed and Inbox actors built these two with json.dumps before they had Structs: the
# same bytes for ASCII content; non-ASCII text is now raw UTF-8 like every other frame.
@pytest.mark.parametrize("post", [
    {"id": "3f2c", "content": "hi \"there\"", "likes": 3, "tags": ["a", "b"], "edited_at": None, "ok": True},
    {"id": "x", "nested": {"deep": [1, {"k": "v"}]}, "score": 0.25},
])
def test_feed_post_and_notification_frames_keep_their_bytes(post: dict) -> None:
    def dumps(value: dict) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    assert f.encode(f.FeedPost(feed="global", post=post)) == dumps(
        {"type": "feed_post", "feed": "global", "post": post})
    for count in (None, 0, 7):
        assert f.encode(f.NotificationEvent(notification=post, unread_count=count)) == dumps(
            {"type": "notification", "notification": post, "unread_count": count})


def test_non_ascii_feed_content_is_the_same_json() -> None:
    post = {"content": "café ✓ 🎵"}
    data = f.encode(f.FeedPost(feed="global", post=post))
    assert json.loads(data) == {"type": "feed_post", "feed": "global", "post": post}
    assert "🎵".encode() in data

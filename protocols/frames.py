"""WebSocket protocol v1: the client frames, the server events, and their limits.

Pure wire format, no I/O. A frame is a JSON text object with a `type`; any frame may carry
a `ref` (string or integer) that every reply to it repeats. The gateway decodes in two
steps: `decode_header` (type + ref, so even a broken frame's error can carry its ref),
then the registered schema's decoder (`decoder_for`). Server events are Structs tagged
with their `type`; `encode` turns one into bytes once, and those bytes go to every socket.

`docs/websocket.md` lists the same frames; `CLIENT_FRAMES` is the table both read.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, ClassVar, Union
from uuid import UUID

import msgspec

# ---- limits -------------------------------------------------------------------------
MAX_FRAME_BYTES = 64 * 1024  # larger frames close the socket with 1009
MAX_CONTENT_CHARS = 4000  # one chat message
MAX_CLIENT_ID_CHARS = 64
MAX_REF_CHARS = 64
MAX_EMOJI_CHARS = 32  # one emoji, possibly a long ZWJ sequence
MAX_FEED_CHARS = 100
HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 100
JOIN_RECENT = 50  # messages sent on a join without `since`
REPLAY_LIMIT = 500  # most messages a join with `since` replays before giving up on recovery
# The messages of one `joined` or `history` frame, encoded, stay within this (at least one
# message is always sent): a reply is far below a socket's outbound cap and a client's
# default maximum message size, whatever the messages hold.
MESSAGES_BUDGET_BYTES = 256 * 1024
# Lists whose length is the crowd's, not the client's: a reaction names at most this many
# of its users (the first to react) and `joined` at most this many present users; both
# then say `truncated` (a reaction's `count` and `joined.presence_count` are the totals).
REACTION_USERS_CAP = 20
PRESENCE_CAP = 200

# ---- close codes ----------------------------------------------------------------------
CLOSE_GOING_AWAY = 1001
CLOSE_TOO_LARGE = 1009
CLOSE_UNAUTHORIZED = 4001
CLOSE_POLICY = 4008
CLOSE_TOO_SLOW = 4009

MAX_SAFE_INT = 2**53 - 1  # what a JavaScript client can hold exactly

Ref = Union[Annotated[str, msgspec.Meta(max_length=MAX_REF_CHARS)],
            Annotated[int, msgspec.Meta(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)]]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold U+0000
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CONTENT_CHARS, pattern=NO_NUL)]
ClientId = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CLIENT_ID_CHARS, pattern=NO_NUL)]
Emoji = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_EMOJI_CHARS, pattern=NO_NUL)]
Seq = Annotated[int, msgspec.Meta(ge=0, le=MAX_SAFE_INT)]
HistoryLimit = Annotated[int, msgspec.Meta(ge=1, le=HISTORY_MAX_LIMIT)]
# `(?!\n)`: Python's `$` also matches before a final newline (msgspec searches with `re`).
FeedName = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_FEED_CHARS,
                                        pattern=r"^[A-Za-z0-9_:.\-]+$(?!\n)")]


TOO_DEEP = "frame is nested too deeply"


class InvalidFrame(ValueError):
    """A frame that cannot be decoded; `ref` is the frame's ref when it could be read."""

    def __init__(self, message: str, ref: Any = None, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref
        self.code = code


# ---- client frames --------------------------------------------------------------------
class ClientFrame(msgspec.Struct, tag_field="type", forbid_unknown_fields=True, frozen=True, kw_only=True):
    ref: Ref | None = None
    summary: ClassVar[str] = ""


def _check_content(content: str) -> None:
    if not content.strip():
        raise ValueError("content must not be blank")


class JoinFrame(ClientFrame, tag="join"):
    room: UUID
    since: Seq | None = None
    summary: ClassVar[str] = "Join a room; with `since`, replay what was missed after that seq"


class LeaveFrame(ClientFrame, tag="leave"):
    room: UUID
    summary: ClassVar[str] = "Leave a room"


class MessageFrame(ClientFrame, tag="message"):
    room: UUID
    content: Content
    client_id: ClientId
    summary: ClassVar[str] = "Send a message; `client_id` makes a resend idempotent"

    def __post_init__(self) -> None:
        _check_content(self.content)


class EditFrame(ClientFrame, tag="edit"):
    room: UUID
    message_id: UUID
    content: Content
    summary: ClassVar[str] = "Edit one of your messages"

    def __post_init__(self) -> None:
        _check_content(self.content)


class DeleteFrame(ClientFrame, tag="delete"):
    room: UUID
    message_id: UUID
    summary: ClassVar[str] = "Delete a message (its author, or the room owner/admin)"


class ReactFrame(ClientFrame, tag="react"):
    room: UUID
    message_id: UUID
    emoji: Emoji
    summary: ClassVar[str] = "Add your reaction (one per user per emoji)"


class UnreactFrame(ClientFrame, tag="unreact"):
    room: UUID
    message_id: UUID
    emoji: Emoji
    summary: ClassVar[str] = "Remove your reaction"


class ReadFrame(ClientFrame, tag="read"):
    room: UUID
    seq: Seq
    summary: ClassVar[str] = "Mark the room read up to `seq`"


class TypingFrame(ClientFrame, tag="typing"):
    room: UUID
    summary: ClassVar[str] = "Tell the room you are typing (volatile)"


class HistoryFrame(ClientFrame, tag="history"):
    room: UUID
    before: Seq | None = None
    limit: HistoryLimit = HISTORY_DEFAULT_LIMIT
    summary: ClassVar[str] = "Older messages, before seq `before` (newest page when absent)"


class WatchFrame(ClientFrame, tag="watch"):
    stream: UUID
    summary: ClassVar[str] = "Follow a live stream's state and viewer count"


class UnwatchFrame(ClientFrame, tag="unwatch"):
    stream: UUID
    summary: ClassVar[str] = "Stop following a live stream"


class SubscribeFrame(ClientFrame, tag="subscribe"):
    feed: FeedName
    summary: ClassVar[str] = "Receive a feed's events (feed_post, notification, announcement)"


class UnsubscribeFrame(ClientFrame, tag="unsubscribe"):
    feed: FeedName
    summary: ClassVar[str] = "Stop receiving a feed's events"


class PingFrame(ClientFrame, tag="ping"):
    summary: ClassVar[str] = "Application-level ping; answered with `pong`"


CLIENT_FRAMES: dict[str, type[ClientFrame]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in (JoinFrame, LeaveFrame, MessageFrame, EditFrame, DeleteFrame, ReactFrame, UnreactFrame,
                ReadFrame, TypingFrame, HistoryFrame, WatchFrame, UnwatchFrame, SubscribeFrame,
                UnsubscribeFrame, PingFrame)
}


class FrameHeader(msgspec.Struct):
    """Just enough of a frame to route it and to answer it (unknown fields ignored)."""

    type: str
    ref: Ref | None = None


_header_decoder = msgspec.json.Decoder(FrameHeader)
_decoders: dict[type, msgspec.json.Decoder[Any]] = {}


def decode_header(raw: str | bytes) -> FrameHeader:
    try:
        return _header_decoder.decode(raw)
    except msgspec.ValidationError as exc:
        # A usable ref is worth echoing even when `type` is missing or wrong.
        ref = _salvage_ref(raw)
        raise InvalidFrame(_describe(exc), ref) from None
    except msgspec.DecodeError:
        raise InvalidFrame("frame is not a JSON object") from None
    except RecursionError:  # msgspec's answer to absurdly nested JSON
        raise InvalidFrame(TOO_DEEP) from None


def _salvage_ref(raw: str | bytes) -> Any:
    try:
        value = msgspec.json.decode(raw)
    except (msgspec.DecodeError, RecursionError):
        return None
    ref = value.get("ref") if isinstance(value, dict) else None
    if isinstance(ref, str) and len(ref) <= MAX_REF_CHARS:
        return ref
    if isinstance(ref, int) and not isinstance(ref, bool) and abs(ref) <= MAX_SAFE_INT:
        return ref
    return None


def decoder_for(schema: type) -> msgspec.json.Decoder[Any]:
    decoder = _decoders.get(schema)
    if decoder is None:
        decoder = _decoders[schema] = msgspec.json.Decoder(schema)
    return decoder


def decode_body(raw: str | bytes, schema: type, ref: Any = None) -> Any:
    """Decode a whole frame with its schema; InvalidFrame names the offending field."""
    try:
        return decoder_for(schema).decode(raw)
    except msgspec.ValidationError as exc:
        raise InvalidFrame(_describe(exc), ref) from None
    except msgspec.DecodeError:
        raise InvalidFrame("frame is not a JSON object", ref) from None
    except RecursionError:
        raise InvalidFrame(TOO_DEEP, ref) from None


def decode_frame(raw: str | bytes, frames: dict[str, type] | None = None) -> Any:
    """Header then body, against `frames` (the v1 table by default)."""
    header = decode_header(raw)
    schema = (CLIENT_FRAMES if frames is None else frames).get(header.type)
    if schema is None:
        raise InvalidFrame(f"unknown frame type {header.type!r}", header.ref)
    return decode_body(raw, schema, header.ref)


_AT = re.compile(r"^(.*) - at `\$\.?([^`]*)`$")


def _describe(exc: msgspec.ValidationError) -> str:
    """msgspec's "Expected `int` - at `$.seq`" as "Expected `int` (field `seq`)"."""
    text = str(exc).replace("Object missing required field", "missing field")
    match = _AT.match(text)
    if match is None:
        return text
    reason, field = match.groups()
    return f"{reason} (field `{field}`)" if field else reason


# ---- server events ---------------------------------------------------------------------
class Event(msgspec.Struct, tag_field="type", omit_defaults=True, kw_only=True):
    ref: Ref | None = None


class Author(msgspec.Struct):
    id: UUID
    username: str


class Reaction(msgspec.Struct, omit_defaults=True):
    emoji: str
    count: int
    users: list[UUID]  # the first REACTION_USERS_CAP to react
    truncated: bool = False  # present (true) only when `users` is cut

    def __post_init__(self) -> None:
        if len(self.users) > REACTION_USERS_CAP:
            self.users, self.truncated = self.users[:REACTION_USERS_CAP], True
        elif self.count > len(self.users):
            self.truncated = True


class ChatMessage(msgspec.Struct):
    id: UUID
    seq: int
    room: UUID
    author: Author
    content: str
    client_id: str | None
    created_at: dt.datetime
    edited_at: dt.datetime | None = None
    deleted: bool = False
    reactions: list[Reaction] = []


class PresenceUser(msgspec.Struct):
    id: UUID
    username: str


def newest_that_fit(messages: list[ChatMessage], budget: int = MESSAGES_BUDGET_BYTES) -> list[ChatMessage]:
    """The newest messages of an oldest-first list whose encoding fits `budget` bytes.

    The newest one is always kept, so a client paging back with `history` always moves.
    Encodes from the newest back only until the budget is spent.
    """
    total = 0
    for i in range(len(messages) - 1, -1, -1):
        total += len(_encoder.encode(messages[i])) + 1  # + the comma
        if total > budget and i < len(messages) - 1:
            return messages[i + 1:]
    return messages


class Joined(Event, tag="joined"):
    """Cut to `MESSAGES_BUDGET_BYTES` when built (oldest dropped first): a cut replay says
    `recovered: false`, and the client pages back with `history` from its oldest message."""

    room: UUID
    seq: int
    recovered: bool
    messages: list[ChatMessage]
    presence: list[PresenceUser]  # at most PRESENCE_CAP of them
    last_read_seq: int  # always sent, 0 included
    presence_count: int = -1  # how many are present (set from `presence` when built)
    presence_truncated: bool = False  # present (true) only when `presence` is cut

    def __post_init__(self) -> None:
        kept = newest_that_fit(self.messages)
        if len(kept) < len(self.messages):
            self.messages, self.recovered = kept, False
        if self.presence_count < 0:
            self.presence_count = len(self.presence)
        if len(self.presence) > PRESENCE_CAP:
            self.presence, self.presence_truncated = self.presence[:PRESENCE_CAP], True


class Left(Event, tag="left"):
    room: UUID
    reason: str | None = None  # "removed" when a moderator took the user out


class Presence(Event, tag="presence"):
    room: UUID
    user: PresenceUser
    status: str  # "online" | "offline"


class Ack(Event, tag="ack"):
    message: ChatMessage


class MessageEvent(Event, tag="message"):
    room: UUID
    message: ChatMessage


class MessageEdited(Event, tag="message_edited"):
    room: UUID
    message: ChatMessage


class MessageDeleted(Event, tag="message_deleted"):
    room: UUID
    message_id: UUID
    seq: int


class ReactionEvent(Event, tag="reaction"):
    room: UUID
    message_id: UUID
    emoji: str
    user: UUID
    added: bool
    count: int


class ReadEvent(Event, tag="read"):
    room: UUID
    user: UUID
    seq: int


class TypingEvent(Event, tag="typing"):
    room: UUID
    user: PresenceUser


class History(Event, tag="history"):
    """Cut to `MESSAGES_BUDGET_BYTES` when built (oldest dropped first): a cut page says
    `has_more: true`, and the client asks again before its oldest message."""

    room: UUID
    messages: list[ChatMessage]
    has_more: bool

    def __post_init__(self) -> None:
        kept = newest_that_fit(self.messages)
        if len(kept) < len(self.messages):
            self.messages, self.has_more = kept, True


class RoomClosed(Event, tag="room_closed"):
    room: UUID


class RoomUpdated(Event, tag="room_updated"):
    room: UUID
    name: str


class FeedPost(Event, tag="feed_post"):
    """A new post on a feed the socket subscribed to."""

    feed: str
    post: dict[str, Any]  # JSON-ready: the REST post object


class NotificationEvent(Event, tag="notification"):
    """A notification for the socket's user, with their unread count at that moment."""

    notification: dict[str, Any]  # JSON-ready: the REST notification object
    unread_count: int | None


class Pong(Event, tag="pong"):
    pass


class Done(Event, tag="ok"):
    """The generic answer to a frame with nothing else to say (leave, unwatch, ...)."""


class Error(msgspec.Struct, tag="error", tag_field="type"):
    ref: Ref | None
    code: str
    error: str


_encoder = msgspec.json.Encoder()


def encode(event: msgspec.Struct) -> bytes:
    """Encode an event once; the same bytes are queued on every socket."""
    return _encoder.encode(event)


def encode_event(type_: str, **fields: Any) -> bytes:
    """Encode an ad-hoc event (domains without a Struct yet): `{"type": type_, **fields}`."""
    if fields.get("ref", 0) is None:
        del fields["ref"]
    return _encoder.encode({"type": type_, **fields})


def error(code: str, message: str, ref: Any = None) -> bytes:
    return _encoder.encode(Error(ref=ref, code=code, error=message))


class OrderUpdated(Event, tag="order_updated"):
    """A marketplace order of this user changed state (after its commit): the order as
    `GET /marketplace/orders/:id` answers it."""

    order: dict[str, Any]

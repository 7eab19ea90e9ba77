"""`ChatRoom`: one actor per conversation. It owns the room's live state — who is online
(per user, counting tabs), the last sequence number, a cache of recent messages — and is
the one writer of the room's topic `room:<id>` on this node.

Sends are batched: everything queued is persisted in ONE statement, each sender is acked
only after that commit, then each event is encoded once and published to the room.
What it needs from outside is its `RoomServices` (the store facade, the hub, the broker
and, in a cluster, shared presence), handed over by `ActorSystem.provide`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import deque
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

import msgspec

from actors.broker import Broker
from actors.hub import Hub
from actors.runtime import Actor, Envelope
from protocols import frames as f
from protocols.errors import ErrorCode

log = logging.getLogger("actors.chat_room")

CACHE_SIZE = 200


class RoomStore(Protocol):
    """The room's persistence: messages come back as wire `ChatMessage`s (veza.rooms.RoomStoreAdapter)."""

    async def load_room(self, room_id: UUID) -> dict[str, Any] | None: ...
    async def insert_batch(self, room_id: UUID,
                           items: Sequence[tuple[UUID, str, str | None]]) -> list[tuple[bool, f.ChatMessage]]: ...
    async def after(self, room_id: UUID, since: int, limit: int) -> list[f.ChatMessage]: ...
    async def newest(self, room_id: UUID, limit: int) -> list[f.ChatMessage]: ...
    async def edit(self, room_id: UUID, message_id: UUID, user_id: UUID, content: str) -> f.ChatMessage: ...
    async def delete(self, room_id: UUID, message_id: UUID, user_id: UUID, platform_admin: bool) -> int: ...
    async def react(self, room_id: UUID, message_id: UUID, user_id: UUID, emoji: str,
                    add: bool) -> tuple[bool, int]: ...
    async def mark_read(self, room_id: UUID, user_id: UUID, seq: int) -> int | None: ...


class SharedPresence(Protocol):
    """Who is online in a room on every node (veza.cluster.presence), with expiry."""

    async def add(self, topic: str, member: str, conn_id: str) -> None: ...
    async def remove(self, topic: str, member: str, conn_id: str) -> None: ...
    async def members(self, topic: str) -> list[str]: ...


@dataclasses.dataclass(frozen=True, slots=True)
class RoomServices:
    """Everything a ChatRoom needs from outside."""

    store: RoomStore
    hub: Hub
    broker: Broker  # the control channel (`announce`)
    presence: SharedPresence | None = None  # a cluster's; None counts this node's sockets only


class RoomGone(LookupError):
    """The conversation does not exist (any more)."""


class NotJoined(PermissionError):
    """The socket has not joined the room (or was removed from it)."""


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Join:
    conn: Any
    since: int | None = None
    ref: Any = None
    last_read_seq: int = 0


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Leave:
    conn: Any


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Send:
    author_id: UUID
    author_name: str
    content: str
    client_id: str | None = None
    conn: Any = None  # a socket sender: must have joined, gets the ack frame
    ref: Any = None


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Edit:
    conn: Any
    user_id: UUID
    message_id: UUID
    content: str


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Delete:
    conn: Any
    user_id: UUID
    message_id: UUID
    platform_admin: bool = False


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class React:
    conn: Any
    user_id: UUID
    message_id: UUID
    emoji: str
    add: bool = True


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class MarkRead:
    conn: Any
    user_id: UUID
    seq: int


@dataclasses.dataclass(frozen=True, slots=True, eq=False)
class Typing:
    conn: Any
    user_id: UUID
    username: str


@dataclasses.dataclass(frozen=True, slots=True)
class Kick:
    user_id: UUID


@dataclasses.dataclass(frozen=True, slots=True)
class Rename:
    name: str


@dataclasses.dataclass(frozen=True, slots=True)
class Close:
    pass


@dataclasses.dataclass(frozen=True, slots=True)
class Forget:
    """Stored messages changed under the recent-message cache (an erased account's): drop
    the cache, so the next join reads them from PostgreSQL."""


# ---- the control channel: REST changes reach this room's actor on every node -----------
Control = Kick | Rename | Close | Forget


def control_channel(room_id: UUID) -> str:
    return f"ctl:room:{room_id}"


def encode_control(message: Control) -> bytes:
    if isinstance(message, Kick):
        return msgspec.json.encode({"op": "kick", "user": message.user_id})
    if isinstance(message, Rename):
        return msgspec.json.encode({"op": "rename", "name": message.name})
    if isinstance(message, Forget):
        return msgspec.json.encode({"op": "forget"})
    return msgspec.json.encode({"op": "close"})


def decode_control(payload: bytes) -> Control:
    data = msgspec.json.decode(payload)
    if data["op"] == "kick":
        return Kick(UUID(data["user"]))
    if data["op"] == "rename":
        return Rename(data["name"])
    if data["op"] == "forget":
        return Forget()
    return Close()


async def announce(broker: Any, room_id: UUID, message: Control) -> None:
    """Tell every node's live actor of the room (the broker reaches this node too)."""
    await broker.publish(control_channel(room_id), encode_control(message))


def _caller_error(exc: BaseException) -> bool:
    """The caller's mistake (not found, forbidden, ...), not the room's: no restart for it.

    Domain errors carry a stable `code` from protocols.errors.
    """
    return isinstance(exc, (RoomGone, NotJoined)) or isinstance(getattr(exc, "code", None), ErrorCode)


def _dedupe(envelopes: list[Envelope]) -> tuple[list[tuple[UUID, str, str | None]], list[int]]:
    """The distinct items to store, and each envelope's item: a resend inside one batch
    (same author and client_id) is the same item."""
    items: list[tuple[UUID, str, str | None]] = []
    index: dict[tuple[UUID, str], int] = {}
    slots: list[int] = []
    for envelope in envelopes:
        send: Send = envelope.message
        key = (send.author_id, send.client_id) if send.client_id else None
        if key is not None and key in index:
            slots.append(index[key])
            continue
        slots.append(len(items))
        if key is not None:
            index[key] = len(items)
        items.append((send.author_id, send.content, send.client_id))
    return items, slots


class ChatRoom(Actor):
    mailbox_size = 4096
    max_batch = 512
    context: RoomServices

    async def on_start(self) -> None:
        self.room_id: UUID = self.key
        self.topic = f"room:{self.room_id}"
        self.chat = self.context.store
        self.hub = self.context.hub
        # Cluster: who is online in the room on every node (None on a single node).
        self.shared_presence = self.context.presence
        room = await self.chat.load_room(self.room_id)
        self.closed = room is None
        self.last_seq: int = room["last_seq"] if room else 0
        # A contiguous run of the newest messages (filled on the first join, then by sends).
        self.recent: deque[f.ChatMessage] = deque(maxlen=CACHE_SIZE)
        self.conns: dict[Any, UUID | None] = {}  # joined sockets -> user (None: anonymous)
        self.tabs: dict[UUID, int] = {}
        self.names: dict[UUID, str] = {}
        self.flushes = 0  # batches persisted (each one statement); sends / flushes = batching
        self.control = await self.context.broker.subscribe(control_channel(self.room_id), self._on_control)

    def _on_control(self, payload: bytes, origin: str) -> None:
        try:
            self.tell_self(decode_control(payload))
        except Exception:  # a full mailbox or a stopping room: the database already has the change
            log.warning("ChatRoom[%s]: control message dropped", self.room_id)

    def can_passivate(self) -> bool:
        return not self.conns

    async def on_stop(self) -> None:
        await self.context.broker.unsubscribe(self.control)
        # Only reached with sockets still joined when the room restarts after repeated
        # failures: they are told, so they join again (with `since`) into the new incarnation.
        for conn in list(self.conns):
            conn.deliver(f.encode(f.Left(room=self.room_id, reason="reset")))
            await self.hub.unsubscribe(self.topic, conn)

    # ---- batching ------------------------------------------------------------------------
    async def receive_many(self, batch: list[Envelope]) -> None:
        sends: list[Envelope] = []
        for envelope in batch:
            if isinstance(envelope.message, Send):
                sends.append(envelope)
                continue
            if sends:
                await self._flush(sends)
                sends = []
            try:
                envelope.reply(await self.receive(envelope.message))
            except Exception as exc:
                envelope.fail(exc)
                if not _caller_error(exc):
                    await self._failed(exc, envelope.message)
        if sends:
            await self._flush(sends)

    async def _flush(self, envelopes: list[Envelope]) -> None:
        accepted: list[Envelope] = []
        for envelope in envelopes:
            try:
                self._check(envelope.message.conn, required=False)
                accepted.append(envelope)
            except Exception as exc:
                envelope.fail(exc)
        if not accepted:
            return
        items, slots = _dedupe(accepted)
        results = await self._persist(items)
        waiting: dict[int, list[Envelope]] = {}
        for envelope, slot in zip(accepted, slots, strict=True):
            waiting.setdefault(slot, []).append(envelope)
        for slot, result in enumerate(results):
            if isinstance(result, BaseException):
                for envelope in waiting.get(slot, ()):
                    envelope.fail(result)
                continue
            fresh, message = result
            for envelope in waiting.get(slot, ()):  # ack after commit, before the room hears it
                send = envelope.message
                if send.conn is not None:
                    send.conn.deliver(f.encode(f.Ack(ref=send.ref, message=message)))
                envelope.reply(message)
            if fresh:
                self._remember(message)
                await self.hub.publish(self.topic, f.encode(f.MessageEvent(room=self.room_id, message=message)))

    async def _persist(self, items: list[tuple[UUID, str, str | None]]) -> list[Any]:
        """The whole batch in one statement; if that fails, item by item, so one poisoned
        message fails only its own sender. Returns (fresh, message) or the exception per item."""
        self.flushes += 1
        try:
            return list(await self.chat.insert_batch(self.room_id, items))
        except Exception as exc:
            if len(items) == 1 or _caller_error(exc):
                if not _caller_error(exc):
                    await self._failed(exc, items[0])
                return [exc] * len(items)
        results: list[Any] = []
        for item in items:
            try:
                results.extend(await self.chat.insert_batch(self.room_id, [item]))
            except Exception as exc:
                log.warning("ChatRoom[%s]: one send failed: %r", self.room_id, exc)
                results.append(exc)
        return results

    # ---- one message at a time ----------------------------------------------------------------
    async def receive(self, message: Any) -> Any:
        if self.closed and not isinstance(message, (Leave, Close)):
            raise RoomGone(str(self.room_id))
        if isinstance(message, Join):
            return await self._join(message)
        if isinstance(message, Leave):
            return await self._leave(message.conn)
        if isinstance(message, Typing):
            self._check(message.conn)
            event = f.TypingEvent(room=self.room_id, user=f.PresenceUser(id=message.user_id, username=message.username))
            return await self.hub.publish(self.topic, f.encode(event), volatile=True, exclude=message.conn)
        if isinstance(message, Edit):
            self._check(message.conn)
            edited = await self.chat.edit(self.room_id, message.message_id, message.user_id, message.content)
            self._replace(edited)
            return await self.hub.publish(self.topic, f.encode(f.MessageEdited(room=self.room_id, message=edited)))
        if isinstance(message, Delete):
            return await self._delete(message)
        if isinstance(message, React):
            return await self._react(message)
        if isinstance(message, MarkRead):
            self._check(message.conn, required=False)
            seq = await self.chat.mark_read(self.room_id, message.user_id, message.seq)
            if seq is not None:
                await self.hub.publish(self.topic, f.encode(f.ReadEvent(room=self.room_id, user=message.user_id, seq=seq)))
            return seq
        if isinstance(message, Kick):
            return await self._kick(message.user_id)
        if isinstance(message, Rename):  # every node's actor heard it: local sockets only
            return self.hub.deliver_local(self.topic, f.encode(f.RoomUpdated(room=self.room_id, name=message.name)))
        if isinstance(message, Close):
            return await self._close()
        if isinstance(message, Forget):
            return self.recent.clear()
        raise TypeError(f"ChatRoom cannot handle {type(message).__name__}")

    def _check(self, conn: Any, required: bool = True) -> None:
        if conn is None:
            if required:
                raise NotJoined("join the room first")
            return
        if conn not in self.conns:
            raise NotJoined("join the room first")

    # ---- membership and presence ----------------------------------------------------------------
    async def _join(self, join: Join) -> None:
        conn, user = join.conn, join.conn.user_id
        if getattr(conn, "closing", False):
            return
        if conn not in self.conns:
            self.conns[conn] = user
            if user is not None:
                self.tabs[user] = self.tabs.get(user, 0) + 1
                self.names[user] = getattr(conn, "username", None) or ""
        # Subscribed before reading, so nothing published meanwhile can fall in a gap. In a
        # cluster the socket is held until it has its replay (every message once).
        try:
            await self.hub.subscribe(self.topic, conn, hold=True)
            if self.hub.sequencer(self.topic) is not None:
                messages, recovered, seq = await self._replay_shared(join.since)
            else:
                (messages, recovered), seq = await self._replay(join.since), self.last_seq
            if self.shared_presence is not None:
                presence, first_tab = await self._shared_join(conn, user)
            else:
                presence = [f.PresenceUser(id=u, username=self.names.get(u, "")) for u in self.tabs]
                first_tab = user is not None and self.tabs[user] == 1
        except BaseException:
            await self._leave(conn, quiet=True)  # not half-joined: never held forever, never counted
            raise
        conn.deliver(f.encode(f.Joined(ref=join.ref, room=self.room_id, seq=seq, recovered=recovered,
                                       messages=messages, presence=presence, last_read_seq=join.last_read_seq)))
        self.hub.release(self.topic, conn, seq)
        if user is not None and first_tab:
            await self._presence(user, "online", exclude=conn)

    async def _sync(self) -> None:
        """Catch up with writes made elsewhere (another node's actor for this room): a
        primary-key read per join keeps `seq`, the cache and so the replay exact."""
        room = await self.chat.load_room(self.room_id)
        if room is None:
            self.closed = True
            raise RoomGone(str(self.room_id))
        if room["last_seq"] != self.last_seq:
            self.recent.clear()
            self.last_seq = room["last_seq"]

    async def _shared_join(self, conn: Any, user: UUID | None) -> tuple[list[f.PresenceUser], bool]:
        """Presence across nodes: (everyone online in the room, is this the user's first tab)."""
        before = await self.shared_presence.members(self.topic)
        if user is not None:
            await self.shared_presence.add(self.topic, _member(user, self.names.get(user, "")), _conn_id(conn))
        members = set(before) | ({_member(user, self.names.get(user, ""))} if user is not None else set())
        online = [_presence_user(m) for m in sorted(members)]
        return online, user is not None and all(p.id != user for p in map(_presence_user, before))

    async def _replay(self, since: int | None) -> tuple[list[f.ChatMessage], bool]:
        """What a joiner missed after `since` (all of it, or the newest page and False)."""
        await self._sync()
        if since is not None and 0 <= self.last_seq - since <= f.REPLAY_LIMIT:
            if since == self.last_seq:
                return [], True
            if self.recent and self.recent[0].seq <= since + 1:
                return [m for m in self.recent if m.seq > since], True
            return await self.chat.after(self.room_id, since, self.last_seq - since), True
        # No since, too much missed, or a client ahead of the room: the newest page.
        return await self._newest(), since is None

    async def _newest(self) -> list[f.ChatMessage]:
        if len(self.recent) < min(f.JOIN_RECENT, self.last_seq):
            self.recent.clear()
            self.recent.extend(await self.chat.newest(self.room_id, f.JOIN_RECENT))
        return list(self.recent)[-f.JOIN_RECENT:]

    async def _replay_shared(self, since: int | None) -> tuple[list[f.ChatMessage], bool, int]:
        """Replay from PostgreSQL: other nodes write to this room too, so this node's cache
        and `last_seq` are not the whole story. Returns (messages, recovered, up to seq)."""
        room = await self.chat.load_room(self.room_id)
        head = room["last_seq"] if room else 0
        recovered = True
        messages: list[f.ChatMessage] = []
        if since is not None and 0 <= since <= head:
            messages = await self.chat.after(self.room_id, since, f.REPLAY_LIMIT + 1)
            if len(messages) <= f.REPLAY_LIMIT:
                return messages, True, messages[-1].seq if messages else since
        recovered = since is None
        messages = await self.chat.newest(self.room_id, f.JOIN_RECENT)
        return messages, recovered, messages[-1].seq if messages else head

    async def _leave(self, conn: Any, quiet: bool = False) -> None:
        user = self.conns.pop(conn, None) if conn in self.conns else None
        await self.hub.unsubscribe(self.topic, conn)
        if user is not None:
            self.tabs[user] -= 1
            last_here = self.tabs[user] <= 0
            if self.shared_presence is not None:
                member = _member(user, self.names.get(user, ""))
                await self.shared_presence.remove(self.topic, member, _conn_id(conn))
                if last_here and member in await self.shared_presence.members(self.topic):
                    last_here = False  # still online in this room on another node
                    del self.tabs[user]
                    self.names.pop(user, None)
            if last_here:
                del self.tabs[user]
                if not quiet:
                    await self._presence(user, "offline")
                self.names.pop(user, None)

    async def _presence(self, user: UUID, status: str, exclude: Any = None) -> None:
        who = f.PresenceUser(id=user, username=self.names.get(user, ""))
        await self.hub.publish(self.topic, f.encode(f.Presence(room=self.room_id, user=who, status=status)),
                               exclude=exclude)

    async def _kick(self, user_id: UUID) -> int:
        removed = [conn for conn, user in self.conns.items() if user == user_id]
        for conn in removed:
            conn.deliver(f.encode(f.Left(room=self.room_id, reason="removed")))
            await self._leave(conn)
        return len(removed)

    async def _close(self) -> None:
        self.closed = True
        self.hub.deliver_local(self.topic, f.encode(f.RoomClosed(room=self.room_id)))  # each node does its own
        for conn in list(self.conns):
            await self.hub.unsubscribe(self.topic, conn)
        self.conns.clear()
        self.tabs.clear()
        self.recent.clear()

    # ---- edits, deletes, reactions --------------------------------------------------------------
    async def _delete(self, delete: Delete) -> int:
        self._check(delete.conn, required=False)
        seq = await self.chat.delete(self.room_id, delete.message_id, delete.user_id, delete.platform_admin)
        cached = self._cached(delete.message_id)
        if cached is not None:
            self._replace(msgspec.structs.replace(cached, content="", deleted=True, reactions=[]))
        await self.hub.publish(self.topic, f.encode(f.MessageDeleted(room=self.room_id, message_id=delete.message_id,
                                                                    seq=seq)))
        return seq

    async def _react(self, react: React) -> bool:
        self._check(react.conn)
        changed, count = await self.chat.react(self.room_id, react.message_id, react.user_id, react.emoji, react.add)
        if changed:
            self._update_reactions(react, count)
            event = f.ReactionEvent(room=self.room_id, message_id=react.message_id, emoji=react.emoji,
                                    user=react.user_id, added=react.add, count=count)
            await self.hub.publish(self.topic, f.encode(event))
        return changed

    # ---- the recent-message cache (a contiguous run of the newest messages) ------------------------
    def _remember(self, message: f.ChatMessage) -> None:
        if message.seq == self.last_seq + 1 or not self.recent:
            self.recent.append(message)
        else:  # written elsewhere meanwhile: the run is broken, start a new one
            self.recent.clear()
            self.recent.append(message)
        self.last_seq = max(self.last_seq, message.seq)

    def _cached(self, message_id: UUID) -> f.ChatMessage | None:
        return next((m for m in self.recent if m.id == message_id), None)

    def _replace(self, message: f.ChatMessage) -> None:
        for i, cached in enumerate(self.recent):
            if cached.id == message.id:
                self.recent[i] = message
                return

    def _update_reactions(self, react: React, count: int) -> None:
        cached = self._cached(react.message_id)
        if cached is None:
            return
        reactions = [r for r in cached.reactions if r.emoji != react.emoji]
        old = next((r for r in cached.reactions if r.emoji == react.emoji), None)
        users = [u for u in (old.users if old else []) if u != react.user_id]
        if react.add:
            users.append(react.user_id)
        if count > 0:
            reactions.append(f.Reaction(emoji=react.emoji, count=count, users=users))
        self._replace(msgspec.structs.replace(cached, reactions=reactions))


def _member(user: UUID, username: str) -> str:
    return f"{user}:{username}"


def _presence_user(member: str) -> f.PresenceUser:
    user, _, username = member.partition(":")
    return f.PresenceUser(id=UUID(user), username=username)


def _conn_id(conn: Any) -> str:
    return str(getattr(conn, "id", None) or id(conn))

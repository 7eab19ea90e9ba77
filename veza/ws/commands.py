"""The WebSocket command registry: frame type -> (schema, handler, auth), declared by decorator.

Each domain keeps its commands in its own module with its own `CommandSet` (like an
`ApiRouter`), and lists it in `veza/ws/__init__.py` `COMMAND_SETS`:

    commands = CommandSet("live")

    @commands.command("watch", WatchFrame, auth=False)
    async def watch(conn: Connection, frame: WatchFrame) -> None:
        conn.send(StreamState(ref=frame.ref, ...))

    @commands.on_close
    async def forget(conn: Connection) -> None: ...

A handler receives the connection and the decoded, validated frame; it never re-validates.
It answers with `conn.send(event)` (echo `frame.ref`) and raises `veza.http.errors` errors
(NotFound, Forbidden, ...) for error frames. `auth=True` (the default) refuses anonymous
sockets with `unauthorized` before the handler runs.

`Dispatcher.dispatch` is the one place that decodes, checks auth, runs, and maps failures
to error frames; the socket always stays open.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from actors import ActorDead, MailboxFull
from protocols import frames
from protocols.errors import ErrorCode
from veza.http.errors import ApiError
from veza.ws.connection import Connection

log = logging.getLogger("veza.ws")

Handler = Callable[[Connection, Any], Awaitable[None]]
CloseHook = Callable[[Connection], Awaitable[None]]


@dataclasses.dataclass(frozen=True, slots=True)
class Command:
    type: str
    schema: type
    handler: Handler
    auth: bool


class CommandSet:
    def __init__(self, name: str) -> None:
        self.name = name
        self.commands: dict[str, Command] = {}
        self.close_hooks: list[CloseHook] = []

    def command(self, type_: str, schema: type, *, auth: bool = True) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            if type_ in self.commands:
                raise ValueError(f"{self.name}: frame type {type_!r} registered twice")
            tag = getattr(getattr(schema, "__struct_config__", None), "tag", None)
            if tag is not None and tag != type_:
                raise ValueError(f"{self.name}: schema {schema.__name__} is tagged {tag!r}, not {type_!r}")
            self.commands[type_] = Command(type_, schema, handler, auth)
            return handler

        return decorate

    def on_close(self, hook: CloseHook) -> CloseHook:
        """Run when a socket closes (after it left every topic): forget per-socket state."""
        self.close_hooks.append(hook)
        return hook


def send_ok(conn: Connection, ref: Any) -> None:
    """The protocol's `ok` for a frame with nothing else to say, sent only when it has a `ref`."""
    if ref is not None:
        conn.send(frames.Done(ref=ref))


def send_error_for(conn: Connection, exc: BaseException, ref: Any) -> None:
    """The error frame for what a command (or the actor it handed work to) raised."""
    if isinstance(exc, ApiError):
        conn.send_error(exc.code, exc.message, ref)
    elif isinstance(exc, (ActorDead, MailboxFull, TimeoutError)):
        conn.send_error(ErrorCode.UNAVAILABLE, "busy, try again", ref)
    else:
        log.error("ws command failed on %r", conn, exc_info=exc)
        conn.send_error(ErrorCode.INTERNAL, "internal error", ref)


class Dispatcher:
    """The commands of every domain, merged once at start-up."""

    def __init__(self, sets: Iterable[CommandSet]) -> None:
        self.commands: dict[str, Command] = {}
        self.close_hooks: list[CloseHook] = []
        for command_set in sets:
            for type_, command in command_set.commands.items():
                if type_ in self.commands:
                    raise ValueError(f"frame type {type_!r} registered by two command sets")
                self.commands[type_] = command
            self.close_hooks.extend(command_set.close_hooks)

    def types(self) -> list[str]:
        return sorted(self.commands)

    async def dispatch(self, conn: Connection, raw: str | bytes) -> None:
        ref: Any = None
        try:
            header = frames.decode_header(raw)
            ref = header.ref
            command = self.commands.get(header.type)
            if command is None:
                raise frames.InvalidFrame(f"unknown frame type {header.type!r}", ref)
            frame = frames.decode_body(raw, command.schema, ref)
            if command.auth and not conn.authenticated:
                conn.send_error(ErrorCode.UNAUTHORIZED, "sign in to do this (anonymous sockets are read-only)", ref)
                return
            await command.handler(conn, frame)
        except frames.InvalidFrame as exc:
            conn.send_error(exc.code, exc.message, exc.ref)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            send_error_for(conn, exc, ref)

    async def closed(self, conn: Connection) -> None:
        for hook in self.close_hooks:
            try:
                await hook(conn)
            except Exception:
                log.exception("ws close hook failed on %r", conn)

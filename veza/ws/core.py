"""Commands every socket has, whatever the domain: `ping`."""

from __future__ import annotations

from protocols.frames import PingFrame, Pong
from veza.ws.commands import CommandSet
from veza.ws.connection import Connection

commands = CommandSet("core")


@commands.command("ping", PingFrame, auth=False)
async def ping(conn: Connection, frame: PingFrame) -> None:
    conn.send(Pong(ref=frame.ref))

"""Feeds over the socket: `subscribe {feed}` / `unsubscribe {feed}`.

A subscribed socket is on the hub topic `feed:<name>` and receives what the feed's actor
publishes there (`feed_post` for "global"); which feeds it may follow:
`veza.domain.feeds`. Notifications need no subscription: every
signed-in socket is on its user's topic, where the `Inbox` actor sends them.
"""

from __future__ import annotations

from protocols import frames as f
from veza import keys
from veza.domain import feeds
from veza.ws.commands import CommandSet, send_ok
from veza.ws.connection import Connection

commands = CommandSet("feeds")


@commands.command("subscribe", f.SubscribeFrame, auth=False)
async def subscribe(conn: Connection, frame: f.SubscribeFrame) -> None:
    feeds.check_followable(frame.feed, conn.authenticated)
    await conn.app[keys.hub].subscribe(f"feed:{frame.feed}", conn)
    send_ok(conn, frame.ref)


@commands.command("unsubscribe", f.UnsubscribeFrame, auth=False)
async def unsubscribe(conn: Connection, frame: f.UnsubscribeFrame) -> None:
    await conn.app[keys.hub].unsubscribe(f"feed:{frame.feed}", conn)
    send_ok(conn, frame.ref)

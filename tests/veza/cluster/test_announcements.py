"""Scheduled announcements across nodes: each node pushes one to its own sockets at its start,
once, whether it heard of it through the broker or loaded it from PostgreSQL at start-up."""

from __future__ import annotations

import datetime as dt

from tests.veza.api.test_announcements import announce, next_announcement
from tests.veza.cluster.test_nodes import Nodes, node  # noqa: F401 (the two-node fixture)


async def test_a_scheduled_announcement_reaches_every_node_at_its_start_once(node: Nodes) -> None:  # noqa: F811
    a = await node("node-a")
    admin = await a.register(role="admin")
    loaded = await announce(a, admin, "made before node-b started", dt.timedelta(seconds=2))
    b = await node("node-b")
    on_a, on_b = await a.ws(), await b.ws()
    heard = await announce(a, admin, "made on node-a", dt.timedelta(seconds=3))
    for ws in (on_a, on_b):
        assert await next_announcement(ws) == loaded
        assert await next_announcement(ws) == heard
    marker = await announce(a, admin, "active now")  # next on each socket: no second copy came
    for ws in (on_a, on_b):
        assert await next_announcement(ws) == marker
        await ws.close()

"""Likes, comments and posts that name a track while the track is being deleted: a 404, never a 500.

The handlers check that the track exists, then insert a row referencing it. A DELETE that
commits in between makes the insert's foreign key fail. These tests open that window on
purpose: the track is deleted in a transaction left open until the requests are waiting on
its row lock, then committed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable

from tests.support import ApiClient, Reply
from tests.veza.api.track_helpers import make_track
from veza import keys


async def _while_deleting(client: ApiClient, track_id: str, *requests: Awaitable[Reply]) -> list[Reply]:
    """Run `requests` while the track's DELETE is uncommitted; commit once all of them wait on it."""
    tasks: list[asyncio.Task[Reply]] = []
    async with client.app[keys.db].connection() as deleter, client.app[keys.db].connection() as watcher:
        async with deleter.transaction():
            await deleter.execute("DELETE FROM tracks WHERE id = $1", uuid.UUID(track_id))
            tasks = [asyncio.ensure_future(r) for r in requests]
            for _ in range(500):  # until every request's insert waits on the deleted row's lock
                waiting = await watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'")
                if waiting >= len(tasks) or any(t.done() for t in tasks):
                    break
                await asyncio.sleep(0.01)
    return list(await asyncio.gather(*tasks))


async def test_like_comment_and_post_racing_a_delete_are_404(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    track = await make_track(client, owner)
    tid = track["id"]
    replies = await _while_deleting(
        client, tid,
        client.post(f"/tracks/{tid}/like", user=fan),
        client.post(f"/tracks/{tid}/comments", user=fan, json={"content": "too late"}),
        client.post("/social/posts", user=fan, json={"content": "listen", "track_id": tid}),
    )
    assert [r.status for r in replies] == [404, 404, 404], [r.body for r in replies]
    assert all(r.body["code"] == "not_found" for r in replies)
    assert replies[2].body["details"] == {"track_id": "unknown"}


async def test_unlike_of_a_track_being_deleted_is_404(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    track = await make_track(client, owner)
    tid = track["id"]
    assert (await client.post(f"/tracks/{tid}/like", user=fan)).status == 200
    # Liking again (already liked) or unliking: the track is gone by the time the count is read.
    replies = await _while_deleting(client, tid, client.delete(f"/tracks/{tid}/like", user=fan))
    assert [r.status for r in replies] == [404], [r.body for r in replies]

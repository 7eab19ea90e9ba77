"""Tag use counts under concurrent edits: no deadlock (no 5xx) and counts equal to real use."""

from __future__ import annotations

import asyncio
import random
import uuid

from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track
from veza import keys


async def _counts(client: ApiClient, names: list[str]) -> tuple[dict[str, int], dict[str, int]]:
    """(the tags table, a COUNT over the tags of every track and post) for `names`."""
    async with client.app[keys.db].connection() as conn:
        stored = await conn.fetch("SELECT name, use_count FROM tags WHERE name = ANY($1::text[])", names)
        real = await conn.fetch(
            """SELECT tag, count(*) AS n FROM (
                   SELECT unnest(tags) AS tag FROM tracks UNION ALL SELECT unnest(tags) FROM posts) t
               WHERE tag = ANY($1::text[]) GROUP BY tag""", names)
    return {r["name"]: r["use_count"] for r in stored}, {r["tag"]: r["n"] for r in real}


async def test_crossing_tag_edits_never_deadlock_and_counts_stay_exact(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    stem = "dl" + uuid.uuid4().hex[:6]
    pool = [f"{stem}-{i:02d}" for i in range(12)]
    tracks = [await make_track(client, creator, tags=",".join(pool[:3])) for _ in range(4)]
    rng = random.Random(7)

    def edit(i: int):  # type: ignore[no-untyped-def]
        tags = rng.sample(pool, 8)
        if i % 3 == 0:  # posts lock the same tag rows as track edits
            return client.post("/social/posts", user=creator, json={"content": f"post {i}", "tags": tags})
        track = tracks[i % len(tracks)]
        return client.put(f"/tracks/{track['id']}", user=creator, json={"tags": tags})

    replies = await asyncio.gather(*(edit(i) for i in range(90)))
    assert [r.status for r in replies if r.status >= 500] == []
    assert all(r.status in (200, 201) for r in replies), [r.body for r in replies if r.status not in (200, 201)]
    stored, real = await _counts(client, pool)
    assert stored == real

    # Removing every tag brings unused ones to zero rows, never below.
    for track in tracks:
        assert (await client.put(f"/tracks/{track['id']}", user=creator, json={"tags": []})).status == 200
    stored, real = await _counts(client, pool)
    assert stored == real and all(n > 0 for n in stored.values())


async def test_deleting_tracks_concurrently_counts_tags_out(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    stem = "dd" + uuid.uuid4().hex[:6]
    pool = [f"{stem}-{i}" for i in range(6)]
    tracks = [await make_track(client, creator, tags=",".join(pool[i % 3:i % 3 + 4])) for i in range(6)]
    replies = await asyncio.gather(*(client.delete(f"/tracks/{t['id']}", user=creator) for t in tracks))
    assert [r.status for r in replies if r.status >= 500] == []
    stored, real = await _counts(client, pool)
    assert stored == real == {}

"""GET /tags/suggest: prefix first, then similar; fed by track and post tags."""

from __future__ import annotations

import uuid

from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track


async def test_suggest_prefix_then_similar(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    stem = "zq" + uuid.uuid4().hex[:4]
    await make_track(client, creator, tags=f"{stem}-hop,{stem}hop")
    await make_track(client, creator, tags=f"{stem}-hop")
    await client.post("/social/posts", user=creator, json={"content": "x", "tags": [f"{stem}ster", f"x{stem}-hop"]})
    reply = await client.get("/tags/suggest", user=creator, params={"q": stem.upper(), "limit": "10"})
    assert reply.status == 200
    suggestions = reply.data["suggestions"]
    assert suggestions[0] == f"{stem}-hop"  # used twice: first among prefixes
    assert set(suggestions[:3]) == {f"{stem}-hop", f"{stem}hop", f"{stem}ster"}
    assert f"x{stem}-hop" in suggestions[3:]  # similar, not a prefix: after them
    assert list(reply.data) == ["suggestions"]
    limited = await client.get("/tags/suggest", user=creator, params={"q": stem, "limit": "1"})
    assert limited.data["suggestions"] == [f"{stem}-hop"]


async def test_suggest_needs_auth_and_sane_input(client: ApiClient) -> None:
    me = await client.register()
    assert (await client.get("/tags/suggest", params={"q": "hip"})).status == 401
    for params in ({}, {"q": ""}, {"q": "  "}, {"q": "x" * 51}, {"q": "hip", "limit": "0"}, {"q": "hip", "limit": "51"}):
        assert (await client.get("/tags/suggest", user=me, params=params)).status == 400, params
    for q in ("%", "_", "\\", "'; DROP TABLE tags; --"):
        reply = await client.get("/tags/suggest", user=me, params={"q": q})
        assert reply.status == 200 and isinstance(reply.data["suggestions"], list)
    pct = await client.get("/tags/suggest", user=me, params={"q": "%"})
    assert all(s.startswith("%") for s in pct.data["suggestions"])

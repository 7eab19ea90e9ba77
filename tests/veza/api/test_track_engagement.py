"""Track likes (idempotent, exact under concurrency) and comments; owners get notified."""

from __future__ import annotations

import asyncio
import uuid

from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track


async def test_like_is_idempotent_and_counted_once(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    track = await make_track(client, owner)
    path = f"/tracks/{track['id']}/like"
    first = await client.post(path, user=fan)
    again = await client.post(path, user=fan)
    assert first.status == again.status == 200
    assert first.data == {"track_id": track["id"], "liked": True, "like_count": 1}
    assert again.data["like_count"] == 1
    assert (await client.get(f"/tracks/{track['id']}")).data["like_count"] == 1
    gone = await client.delete(path, user=fan)
    assert gone.data == {"track_id": track["id"], "liked": False, "like_count": 0}
    assert (await client.delete(path, user=fan)).data["like_count"] == 0


async def test_concurrent_likes_stay_exact(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    track = await make_track(client, owner)
    fans = [await client.register() for _ in range(8)]
    path = f"/tracks/{track['id']}/like"
    # Every fan likes three times at once; the same fan races with itself too.
    replies = await asyncio.gather(*(client.post(path, user=f) for f in fans for _ in range(3)))
    assert all(r.status == 200 for r in replies)
    assert (await client.get(f"/tracks/{track['id']}")).data["like_count"] == 8
    await asyncio.gather(*(client.delete(path, user=f) for f in fans[:5] for _ in range(2)))
    assert (await client.get(f"/tracks/{track['id']}")).data["like_count"] == 3
    # One notification per fan, not per request.
    listed = await client.get("/notifications", user=owner, params={"limit": "100"})
    assert len([n for n in listed.data["notifications"] if n["kind"] == "track_like"]) == 8


async def test_like_needs_auth_and_a_real_track(client: ApiClient) -> None:
    fan = await client.register()
    assert (await client.post(f"/tracks/{uuid.uuid4()}/like")).status == 401
    assert (await client.post(f"/tracks/{uuid.uuid4()}/like", user=fan)).status == 404
    assert (await client.delete(f"/tracks/{uuid.uuid4()}/like", user=fan)).status == 404
    assert (await client.post("/tracks/nope/like", user=fan)).status == 404


async def test_comments_list_newest_first_and_bad_input(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    track = await make_track(client, owner)
    path = f"/tracks/{track['id']}/comments"
    for text in ("first", "second", "  third  "):
        reply = await client.post(path, user=fan, json={"content": text})
        assert reply.status == 201, reply.body
        assert reply.data["author_username"] == fan.username
    listed = await client.get(path, params={"limit": "2"})
    assert listed.status == 200 and listed.data["total"] == 3
    assert [c["content"] for c in listed.data["comments"]] == ["third", "second"]
    rest = await client.get(path, params={"limit": "2", "offset": "2"})
    assert [c["content"] for c in rest.data["comments"]] == ["first"]
    assert (await client.get(f"/tracks/{track['id']}")).data["comment_count"] == 3
    for body in ({"content": ""}, {"content": "   "}, {"content": "x" * 2001}, {}, {"content": 5}):
        assert (await client.post(path, user=fan, json=body)).status == 400, body
    assert (await client.post(path, json={"content": "hi"})).status == 401
    assert (await client.post(f"/tracks/{uuid.uuid4()}/comments", user=fan, json={"content": "hi"})).status == 404
    assert (await client.get(f"/tracks/{uuid.uuid4()}/comments")).status == 404
    assert (await client.get(path, params={"limit": "0"})).status == 400


async def test_owner_is_notified_but_not_for_own_actions(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    track = await make_track(client, owner)
    await client.post(f"/tracks/{track['id']}/like", user=owner)
    await client.post(f"/tracks/{track['id']}/comments", user=owner, json={"content": "my own"})
    assert (await client.get("/notifications", user=owner)).data["total"] == 0
    await client.post(f"/tracks/{track['id']}/like", user=fan)
    await client.post(f"/tracks/{track['id']}/comments", user=fan, json={"content": "love it"})
    listed = (await client.get("/notifications", user=owner)).data
    assert listed["unread_count"] == 2
    kinds = [(n["kind"], n["actor_username"], n["subject_id"]) for n in listed["notifications"]]
    assert kinds == [("track_comment", fan.username, track["id"]), ("track_like", fan.username, track["id"])]
    assert listed["notifications"][0]["data"]["excerpt"] == "love it"


async def test_likes_and_comments_racing_the_delete_are_2xx_or_404(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fans = [await client.register() for _ in range(6)]
    for _ in range(3):
        track = await make_track(client, owner)
        path = f"/tracks/{track['id']}"
        requests = [client.post(f"{path}/like", user=f) for f in fans]
        requests += [client.post(f"{path}/comments", user=f, json={"content": "hi"}) for f in fans]
        requests.insert(len(requests) // 2, client.delete(path, user=owner))
        replies = await asyncio.gather(*requests)
        assert {r.status for r in replies} <= {200, 201, 404}, [r.body for r in replies if r.status >= 500]
        assert (await client.get(path)).status == 404

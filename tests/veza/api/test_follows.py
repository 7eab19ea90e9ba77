"""Public profiles and follows."""

from __future__ import annotations

import uuid

from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track


async def test_profile_counts_and_no_email(client: ApiClient) -> None:
    star = await client.register(role="creator")
    fans = [await client.register() for _ in range(2)]
    await make_track(client, star)
    await client.post("/social/posts", user=star, json={"content": "hi"})
    for fan in fans:
        assert (await client.post(f"/users/{star.id}/follow", user=fan)).data["following"] is True
    again = await client.post(f"/users/{star.id}/follow", user=fans[0])
    assert again.status == 200 and again.data["follower_count"] == 2
    profile = await client.get(f"/users/{star.id}")
    assert profile.status == 200
    data = profile.data
    assert "email" not in data and "password_hash" not in data
    assert (data["follower_count"], data["following_count"], data["track_count"], data["post_count"]) == (2, 0, 1, 1)
    assert data["is_following"] is None
    assert (await client.get(f"/users/{star.id}", user=fans[0])).data["is_following"] is True
    assert (await client.get(f"/users/{fans[0].id}")).data["following_count"] == 1
    gone = await client.delete(f"/users/{star.id}/follow", user=fans[0])
    assert gone.data == {"user_id": star.id, "following": False, "follower_count": 1}
    assert (await client.delete(f"/users/{star.id}/follow", user=fans[0])).status == 200
    # Only the first follow notifies.
    follows = [n for n in (await client.get("/notifications", user=star)).data["notifications"] if n["kind"] == "follow"]
    assert len(follows) == 2


async def test_follow_bad_input(client: ApiClient) -> None:
    me = await client.register()
    assert (await client.post(f"/users/{me.id}/follow", user=me)).status == 400
    assert (await client.post(f"/users/{uuid.uuid4()}/follow", user=me)).status == 404
    assert (await client.delete(f"/users/{uuid.uuid4()}/follow", user=me)).status == 404
    assert (await client.post(f"/users/{me.id}/follow")).status == 401
    assert (await client.get(f"/users/{uuid.uuid4()}")).status == 404
    assert (await client.get("/users/not-a-uuid")).status == 404
    # /users/me still answers the caller's own (private) profile.
    assert (await client.get("/users/me", user=me)).data["email"] == me.email

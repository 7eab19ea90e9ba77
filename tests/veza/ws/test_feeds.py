"""Live feeds: `subscribe {feed:"global"}` gets `feed_post`; every socket of a user gets
`notification` events from their Inbox actor. REST creates, actors push."""

from __future__ import annotations

from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track
from tests.veza.ws.chat_support import quiet, recv, until


async def test_global_feed_pushes_new_posts_to_subscribers_only(client: ApiClient) -> None:
    author = await client.register()
    listener = await client.ws()  # anonymous sockets may follow the public feed
    bystander = await client.ws()
    await listener.send_json({"type": "subscribe", "feed": "global", "ref": "s"})
    assert await recv(listener) == {"type": "ok", "ref": "s"}
    reply = await client.post("/social/posts", user=author, json={"content": "live!", "tags": ["news"]})
    event = await until(listener, "feed_post")
    assert event["feed"] == "global"
    assert event["post"]["id"] == reply.data["id"] and event["post"]["content"] == "live!"
    assert event["post"]["author_username"] == author.username
    assert await quiet(bystander) == []
    await listener.send_json({"type": "unsubscribe", "feed": "global", "ref": "u"})
    assert (await until(listener, "ok"))["ref"] == "u"
    await client.post("/social/posts", user=author, json={"content": "after"})
    assert [f for f in await quiet(listener) if f["type"] == "feed_post"] == []
    await listener.close()
    await bystander.close()


async def test_unknown_feed_is_an_error_frame_and_socket_stays_open(client: ApiClient) -> None:
    ws = await client.ws()
    await ws.send_json({"type": "subscribe", "feed": "nope", "ref": 1})
    frame = await recv(ws)
    assert frame["type"] == "error" and frame["code"] == "not_found" and frame["ref"] == 1
    await ws.send_json({"type": "subscribe", "feed": "bad feed!", "ref": 2})
    assert (await recv(ws))["code"] == "invalid"
    await ws.send_json({"type": "ping", "ref": 3})
    assert (await recv(ws))["type"] == "pong"
    await ws.close()


async def test_notifications_reach_every_socket_of_the_user(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    fan = await client.register()
    phone, laptop = await client.ws(owner), await client.ws(owner)
    fan_socket = await client.ws(fan)
    track = await make_track(client, owner)
    await client.post(f"/tracks/{track['id']}/like", user=fan)
    for ws in (phone, laptop):
        event = await until(ws, "notification")
        assert event["notification"]["kind"] == "track_like"
        assert event["notification"]["actor_username"] == fan.username
        assert event["notification"]["subject_id"] == track["id"]
        assert event["unread_count"] == 1
    await client.post(f"/users/{owner.id}/follow", user=fan)
    follow = await until(phone, "notification")
    assert follow["notification"]["kind"] == "follow" and follow["unread_count"] == 2
    # Own actions notify nobody; the fan hears nothing about the owner's actions on their own track.
    await client.post(f"/tracks/{track['id']}/comments", user=owner, json={"content": "thanks all"})
    assert [f for f in await quiet(laptop, 0.3) if f["type"] == "notification"] == [follow]
    assert [f for f in await quiet(fan_socket) if f["type"] == "notification"] == []
    for ws in (phone, laptop, fan_socket):
        await ws.close()


async def test_post_like_and_comment_notify_the_author_live(client: ApiClient) -> None:
    author, fan = await client.register(), await client.register()
    ws = await client.ws(author)
    post = (await client.post("/social/posts", user=author, json={"content": "hello"})).data
    await client.post("/social/like", user=fan, json={"post_id": post["id"]})
    assert (await until(ws, "notification"))["notification"]["kind"] == "post_like"
    await client.post("/social/comments", user=fan, json={"post_id": post["id"], "content": "hey"})
    comment = await until(ws, "notification")
    assert comment["notification"]["kind"] == "post_comment" and comment["notification"]["data"]["excerpt"] == "hey"
    await ws.close()

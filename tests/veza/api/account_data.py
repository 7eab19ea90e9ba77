"""An account with data in every domain, for the export and erasure tests."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient, User
from tests.veza.api.cloud_helpers import make_file
from tests.veza.api.market_helpers import checkout, sandbox_pay
from tests.veza.api.track_helpers import make_track
from veza import keys


async def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.data


async def fill_every_domain(client: ApiClient, me: User, other: User) -> dict[str, Any]:
    """Data of `me` in every domain (and some of `other` next to it); what the test checks."""
    made: dict[str, Any] = {}
    made["track"] = await make_track(client, me, title="My own song", data=wav_bytes(0.3))
    theirs = made["their_track"] = await make_track(client, other, title="Their song")
    await ok(await client.post(f"/tracks/{theirs['id']}/like", user=me))
    await ok(await client.post(f"/tracks/{theirs['id']}/comments", user=me, json={"content": "my track comment"}), 201)
    made["post"] = await ok(await client.post("/social/posts", user=me, json={"content": "my post", "tags": ["synth"]}),
                             201)
    their_post = made["their_post"] = await ok(
        await client.post("/social/posts", user=other, json={"content": "their post"}), 201)
    await ok(await client.post("/social/like", user=me, json={"post_id": their_post["id"]}))
    await ok(await client.post("/social/comments", user=me, json={"post_id": their_post["id"],
                                                                    "content": "my post comment"}), 201)
    await ok(await client.post(f"/users/{other.id}/follow", user=me))
    await ok(await client.post(f"/users/{me.id}/follow", user=other))  # a notification for me
    room = await ok(await client.post("/conversations", user=me, json={"type": "group", "name": "Band room",
                                                                        "members": [other.id]}), 201)
    made["room"] = room
    await ok(await client.post(f"/conversations/{room['id']}/messages", user=me, json={"content": "my message"}), 201)
    made["their_message"] = f"their private words {uuid.uuid4().hex}"
    await ok(await client.post(f"/conversations/{room['id']}/messages", user=other,
                                json={"content": made["their_message"]}), 201)
    # Theirs about mine: a comment on my track, a like of my post (gone with them).
    await ok(await client.post(f"/tracks/{made['track']['id']}/comments", user=other, json={"content": "nice"}), 201)
    await ok(await client.post("/social/like", user=other, json={"post_id": made["post"]["id"]}))
    made["direct"] = await ok(await client.post("/conversations", user=other, json={"type": "direct",
                                                                                  "user_id": me.id}), 201)
    await ok(await client.post(f"/conversations/{made['direct']['id']}/messages", user=me,
                               json={"content": "my direct words"}), 201)
    made["stream"] = await ok(await client.post("/live/streams", user=me, json={"title": "Night set"}), 201)
    # Marketplace: I sell to them (a sale and a transfer for me), and buy from them, and review it.
    my_product = made["my_product"] = await ok(await client.post("/marketplace/products", user=me, json={
        "title": "My stems", "price_cents": 1500, "kind": "sample_pack"}), 201)
    order = made["sold_order"] = await ok(await checkout(client, other, my_product["id"]), 201)
    await ok(await sandbox_pay(client, order))
    their_product = await ok(await client.post("/marketplace/products", user=other, json={
        "title": "Their stems", "price_cents": 999, "kind": "sample_pack"}), 201)
    made["order"] = await ok(await checkout(client, me, their_product["id"]), 201)
    await ok(await sandbox_pay(client, made["order"]))
    await ok(await client.post(f"/marketplace/products/{their_product['id']}/reviews", user=me,
                                json={"rating": 4, "comment": "my review"}), 201)
    made["cloud"] = await make_file(client, me, b"my cloud bytes\n", "notes/../../etc passwd.txt")
    made["share"] = await ok(await client.post(f"/cloud/files/{made['cloud']['id']}/share", user=me, json={}))
    gear = await ok(await client.post("/inventory/gear", user=me, json={"name": "Strat", "serial_number": "SN-1"}),
                     201)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("type", "invoice")
    form.add_field("file", b"invoice text\n", filename="invoice.txt", content_type="text/plain")
    made["document"] = await ok(await client.post(f"/inventory/gear/{gear['id']}/documents", user=me, data=form), 201)
    await ok(await client.post(f"/inventory/gear/{gear['id']}/repairs", user=me,
                                json={"description": "new frets", "cost_cents": 8500, "currency": "EUR"}), 201)
    made["api_key"] = await ok(await client.post("/developer/api-keys", user=me, json={"name": "ci"}), 201)
    await ok(await client.post("/users/me/privacy/opt-out", user=me, json={"do_not_sell": True}))
    await ok(await client.post("/reports", user=me, json={"content_type": "track", "content_id": theirs["id"],
                                                          "reason": "my report"}), 201)
    await ok(await client.post("/reports", user=other, json={"content_type": "user", "content_id": me.id,
                                                            "reason": "about me"}), 201)
    async with client.app[keys.db].connection() as conn:  # the payouts routes are another issue's; their table is here
        await conn.execute("INSERT INTO seller_accounts (user_id, provider, account_id) VALUES ($1, 'sandbox', $2)",
                           uuid.UUID(me.id), f"acct_{uuid.uuid4().hex[:12]}")
    return made

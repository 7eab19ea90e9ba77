"""An account with data in every domain exports an archive holding each of them, and none
of the secrets the database keeps about it (the test greps for the hashes it knows), nor
another user's private data."""

from __future__ import annotations

import asyncio
import json
import uuid
import zipfile
from typing import Any

import aiohttp

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient, User
from tests.veza.api.cloud_helpers import make_file
from tests.veza.api.export_helpers import exported, jsonl
from tests.veza.api.market_helpers import checkout, sandbox_pay, seller_with_product
from tests.veza.api.track_helpers import make_track
from veza import keys


async def _ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, reply.body
    return reply.data


async def _everything(client: ApiClient, me: User, other: User) -> dict[str, Any]:
    """Data of `me` in every domain (and some of `other` next to it); what the test checks."""
    made: dict[str, Any] = {}
    made["track"] = await make_track(client, me, title="My own song", data=wav_bytes(0.3))
    theirs = await make_track(client, other, title="Their song")
    await _ok(await client.post(f"/tracks/{theirs['id']}/like", user=me))
    await _ok(await client.post(f"/tracks/{theirs['id']}/comments", user=me, json={"content": "my track comment"}), 201)
    made["post"] = await _ok(await client.post("/social/posts", user=me, json={"content": "my post", "tags": ["synth"]}),
                             201)
    their_post = await _ok(await client.post("/social/posts", user=other, json={"content": "their post"}), 201)
    await _ok(await client.post("/social/like", user=me, json={"post_id": their_post["id"]}))
    await _ok(await client.post("/social/comments", user=me, json={"post_id": their_post["id"],
                                                                    "content": "my post comment"}), 201)
    await _ok(await client.post(f"/users/{other.id}/follow", user=me))
    await _ok(await client.post(f"/users/{me.id}/follow", user=other))  # a notification for me
    room = await _ok(await client.post("/conversations", user=me, json={"type": "group", "name": "Band room",
                                                                        "members": [other.id]}), 201)
    made["room"] = room
    await _ok(await client.post(f"/conversations/{room['id']}/messages", user=me, json={"content": "my message"}), 201)
    made["their_message"] = f"their private words {uuid.uuid4().hex}"
    await _ok(await client.post(f"/conversations/{room['id']}/messages", user=other,
                                json={"content": made["their_message"]}), 201)
    made["stream"] = await _ok(await client.post("/live/streams", user=me, json={"title": "Night set"}), 201)
    # Marketplace: I sell to them (a sale and a transfer for me), and buy from them, and review it.
    my_product = await _ok(await client.post("/marketplace/products", user=me, json={
        "title": "My stems", "price_cents": 1500, "kind": "sample_pack"}), 201)
    order = await _ok(await checkout(client, other, my_product["id"]), 201)
    await _ok(await sandbox_pay(client, order))
    _, their_product = await seller_with_product(client, title="Their stems")
    made["order"] = await _ok(await checkout(client, me, their_product["id"]), 201)
    await _ok(await sandbox_pay(client, made["order"]))
    await _ok(await client.post(f"/marketplace/products/{their_product['id']}/reviews", user=me,
                                json={"rating": 4, "comment": "my review"}), 201)
    made["cloud"] = await make_file(client, me, b"my cloud bytes\n", "notes/../../etc passwd.txt")
    made["share"] = await _ok(await client.post(f"/cloud/files/{made['cloud']['id']}/share", user=me, json={}))
    gear = await _ok(await client.post("/inventory/gear", user=me, json={"name": "Strat", "serial_number": "SN-1"}),
                     201)
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("type", "invoice")
    form.add_field("file", b"invoice text\n", filename="invoice.txt", content_type="text/plain")
    made["document"] = await _ok(await client.post(f"/inventory/gear/{gear['id']}/documents", user=me, data=form), 201)
    await _ok(await client.post(f"/inventory/gear/{gear['id']}/repairs", user=me,
                                json={"description": "new frets", "cost_cents": 8500, "currency": "EUR"}), 201)
    made["api_key"] = await _ok(await client.post("/developer/api-keys", user=me, json={"name": "ci"}), 201)
    await _ok(await client.post("/users/me/privacy/opt-out", user=me, json={"do_not_sell": True}))
    await _ok(await client.post("/reports", user=me, json={"content_type": "track", "content_id": theirs["id"],
                                                          "reason": "my report"}), 201)
    async with client.app[keys.db].connection() as conn:  # the payouts routes are another issue's; their table is here
        await conn.execute("INSERT INTO seller_accounts (user_id, provider, account_id) VALUES ($1, 'sandbox', $2)",
                           uuid.UUID(me.id), f"acct_{uuid.uuid4().hex[:12]}")
    return made


async def _secrets(client: ApiClient, me: User, other: User, made: dict[str, Any]) -> dict[str, str]:
    me_id = uuid.UUID(me.id)
    async with client.app[keys.db].connection() as conn:
        found = {
            "password hash": await conn.fetchval("SELECT password_hash FROM users WHERE id = $1", me_id),
            "stream key": await conn.fetchval("SELECT stream_key FROM live_streams WHERE owner_id = $1", me_id),
            "api key hash": await conn.fetchval("SELECT key_hash FROM api_keys WHERE user_id = $1", me_id),
            "share token hash": (await conn.fetchval("SELECT token_hash FROM cloud_shares WHERE owner_id = $1",
                                                     me_id)).hex(),
            "client secret": await conn.fetchval("SELECT client_secret FROM payments WHERE order_id = $1",
                                                 uuid.UUID(made["order"]["id"])),
        }
        for i, row in enumerate(await conn.fetch(
                "SELECT refresh_token_hash, previous_refresh_hash FROM sessions WHERE user_id = $1", me_id)):
            found[f"refresh hash {i}"] = row["refresh_token_hash"]
            if row["previous_refresh_hash"]:
                found[f"previous refresh hash {i}"] = row["previous_refresh_hash"]
    found |= {"raw api key": made["api_key"]["key"], "share token": made["share"]["token"],
              "refresh token": me.refresh_token, "other's email": other.email,
              "other's private message": made["their_message"]}
    assert all(found.values()), found
    return found


async def _audited(client: ApiClient, me: User) -> None:
    """The audit trail is written behind the requests: wait until mine are in."""
    for _ in range(200):
        async with client.app[keys.db].connection() as conn:
            if await conn.fetchval("SELECT count(*) FROM audit_log WHERE user_id = $1", uuid.UUID(me.id)) >= 10:
                return
        await asyncio.sleep(0.05)
    raise AssertionError("audit entries never arrived")


def _all_bytes(archive: zipfile.ZipFile) -> bytes:
    return b"\n".join(archive.read(name) for name in archive.namelist())


async def test_an_account_with_data_everywhere_exports_each_domain_and_no_secret(client: ApiClient) -> None:
    me, other = await client.register(role="creator"), await client.register(role="creator")
    made = await _everything(client, me, other)
    await _audited(client, me)
    secrets = await _secrets(client, me, other, made)
    archive = await exported(client, me)
    names = set(archive.namelist())
    manifest = json.loads(archive.read("manifest.json"))
    counts = {f["path"]: f.get("count") for f in manifest["files"]}
    assert manifest["missing_files"] == []

    def rows(name: str, expected: int | None = None) -> list[dict[str, Any]]:
        found = jsonl(archive, name)
        assert counts[name] == len(found), (name, counts[name], len(found))
        if expected is not None:
            assert len(found) == expected, (name, found)
        return found

    assert json.loads(archive.read("profile.json"))["id"] == me.id
    assert rows("privacy.jsonl", 1)[0]["do_not_sell"] is True
    assert rows("sessions.jsonl", 1)[0]["ip_address"]
    assert [(k["name"], k["prefix"]) for k in rows("api_keys.jsonl", 1)] == [("ci", made["api_key"]["prefix"])]
    assert {a["action"] for a in rows("audit.jsonl")} >= {"POST"}
    track = rows("tracks.jsonl", 1)[0]
    assert track["title"] == "My own song" and archive.read(track["file"]) == wav_bytes(0.3)
    assert {c["content"] for c in rows("comments.jsonl", 2)} == {"my track comment", "my post comment"}
    assert {lk["on_type"] for lk in rows("likes.jsonl", 2)} == {"track", "post"}
    assert {(f["direction"], f["username"]) for f in rows("follows.jsonl", 2)} == {
        ("following", other.username), ("follower", other.username)}
    assert rows("posts.jsonl", 1)[0]["content"] == "my post"
    assert [(m["content"], m["room_name"]) for m in rows("messages.jsonl", 1)] == [("my message", "Band room")]
    assert {c["name"] for c in rows("conversations.jsonl", 2)} == {"Band room", "Night set"}  # the stream's chat
    assert {n["kind"] for n in rows("notifications.jsonl")} >= {"follow", "sale"}
    assert rows("live_streams.jsonl", 1)[0]["title"] == "Night set"
    assert rows("products.jsonl", 1)[0]["title"] == "My stems"
    assert rows("orders.jsonl", 1)[0]["items"][0]["title"] == "Their stems"
    assert rows("sales.jsonl", 1)[0]["title"] == "My stems"
    assert rows("purchases.jsonl", 1)[0]["title"] == "Their stems"
    assert rows("reviews.jsonl", 1)[0]["comment"] == "my review"
    assert rows("transfers.jsonl", 1)[0]["amount_cents"] > 0
    assert rows("seller_accounts.jsonl", 1)[0]["provider"] == "sandbox"
    cloud = rows("cloud_files.jsonl", 1)[0]
    assert archive.read(cloud["file"]) == b"my cloud bytes\n"
    assert cloud["file"].startswith(f"files/cloud/{made['cloud']['id']}/") and ".." not in cloud["file"].split("/")
    assert rows("cloud_shares.jsonl", 1)[0]["id"] == made["share"]["id"]
    assert rows("gear.jsonl", 1)[0]["serial_number"] == "SN-1"
    document = rows("gear_documents.jsonl", 1)[0]
    assert archive.read(document["file"]) == b"invoice text\n"
    assert rows("gear_repairs.jsonl", 1)[0]["description"] == "new frets"
    assert rows("reports.jsonl", 1)[0]["reason"] == "my report"
    assert {"warnings.jsonl", "reactions.jsonl", "refunds.jsonl", "cloud_folders.jsonl"} <= names

    everything = _all_bytes(archive)
    leaked = [what for what, value in secrets.items() if value.encode() in everything]
    assert not leaked, f"the archive holds {leaked}"
    for column in ("password_hash", "refresh_token_hash", "key_hash", "stream_key", "token_hash", "client_secret"):
        assert column.encode() not in everything, column

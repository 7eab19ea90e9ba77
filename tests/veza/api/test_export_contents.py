"""An account with data in every domain exports an archive holding each of them, and none
of the secrets the database keeps about it (the test greps for the hashes it knows), nor
another user's private data."""

from __future__ import annotations

import asyncio
import json
import uuid
import zipfile
from typing import Any

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient, User
from tests.veza.api.account_data import fill_every_domain
from tests.veza.api.export_helpers import exported, jsonl
from veza import keys


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
    made = await fill_every_domain(client, me, other)
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
    assert {(m["content"], m["room_name"], m["room_type"]) for m in rows("messages.jsonl", 2)} == {
        ("my message", "Band room", "group"), ("my direct words", "", "direct")}
    rooms = {(c["type"], c["name"], c["direct_with"]) for c in rows("conversations.jsonl", 3)}
    assert rooms == {("group", "Band room", None), ("public", "Night set", None),  # the stream's chat
                     ("direct", "", other.username)}
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

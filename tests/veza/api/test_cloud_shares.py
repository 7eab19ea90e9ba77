"""Share links: create, public metadata and download, page for browsers, expiry, revoke,
one 404 for every dead link, per-IP rate limit, tokens stored only as hashes."""

from __future__ import annotations

import hashlib

import pytest

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import make_file
from veza import keys
from veza.config import Settings

DATA = bytes(range(200)) * 3


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(app_domain="https://veza.example", cloud_share_rate_limit=40)


def _path(share: dict) -> str:  # type: ignore[type-arg]
    return share["share_url"].removeprefix("https://veza.example")


async def _share(client: ApiClient, user, file_id: str, **body) -> dict:  # type: ignore[no-untyped-def,type-arg]
    reply = await client.post(f"/cloud/files/{file_id}/share", user=user, json=body)
    assert reply.status == 200, reply.body
    return reply.data


async def test_a_share_link_opens_the_file_publicly(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, DATA, "mix.bin")
    share = await _share(client, me, f["id"], permissions="read", expires_in_hours=24)
    assert set(share) == {"id", "share_url", "token", "expires_at"} and len(share["token"]) >= 43
    assert share["share_url"] == f"https://veza.example/api/v1/cloud/shared/{share['token']}"
    meta = await client.get(_path(share))
    assert meta.status == 200, meta.body
    assert meta.data == {"name": "mix.bin", "size_bytes": len(DATA), "mime_type": "application/octet-stream",
                         "expires_at": share["expires_at"], "permissions": "read",
                         "download_url": share["share_url"] + "/download"}
    down = await client.get(_path(share) + "/download")
    assert down.status == 200 and down.body == DATA and down.headers["X-Content-Type-Options"] == "nosniff"
    assert down.headers["Content-Disposition"].startswith('attachment; filename="mix.bin"')
    part = await client.get(_path(share) + "/download", headers={"Range": "bytes=5-9"})
    assert part.status == 206 and part.body == DATA[5:10]
    async with client.app[keys.db].connection() as conn:
        stored = await conn.fetchval("SELECT token_hash FROM cloud_shares WHERE id = $1::uuid", share["id"])
        text = await conn.fetchval("SELECT row_to_json(s)::text FROM cloud_shares s WHERE id = $1::uuid", share["id"])
    assert stored == hashlib.sha256(share["token"].encode()).digest() and share["token"] not in text
    listed = await client.get(f"/cloud/files/{f['id']}/shares", user=me)
    assert [s["id"] for s in listed.data["shares"]] == [share["id"]] and listed.data["shares"][0]["active"] is True
    assert "token" not in listed.data["shares"][0]


async def test_a_browser_gets_a_page(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"<script>alert(1)</script>", "x.txt", name="<img src=x onerror=alert(1)>.txt")
    share = await _share(client, me, f["id"])
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    page = await client.get(_path(share), headers={"Accept": browser})
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;.txt" in html and "<img" not in html  # autoescaped
    assert f'href="{share["share_url"]}/download"' in html and "Download" in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]  # the page policy of /static
    dead = await client.get("/cloud/shared/" + "x" * 43, headers={"Accept": browser})
    assert dead.status == 404 and b"not available" in dead.body
    as_api = await client.get(_path(share), headers={"Accept": "application/json"})
    assert as_api.status == 200 and as_api.data["name"] == "<img src=x onerror=alert(1)>.txt"


async def test_unknown_expired_and_revoked_links_are_the_same_404(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me)
    expired, revoked = await _share(client, me, f["id"]), await _share(client, me, f["id"])
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE cloud_shares SET expires_at = now() - interval '1 second' WHERE id = $1::uuid",
                           expired["id"])
    gone = await client.delete(f"/cloud/shares/{revoked['id']}", user=me)
    assert gone.status == 200 and gone.data["active"] is False and gone.data["revoked_at"]
    answers = []
    for path in (_path(expired), _path(revoked), "/cloud/shared/" + "A" * 43, "/cloud/shared/short", "/cloud/shared/%00"):
        for suffix in ("", "/download"):
            reply = await client.get(path + suffix)
            assert reply.status == 404, (path, suffix, reply.status)
            answers.append((reply.body["code"], reply.body["error"]))
    assert len(set(answers)) == 1
    listed = (await client.get(f"/cloud/files/{f['id']}/shares", user=me)).data["shares"]
    assert [s["active"] for s in listed] == [False, False]


async def test_share_inputs_and_ownership(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    f = await make_file(client, me)
    for bad in ({"permissions": "write"}, {"expires_in_hours": 0}, {"expires_in_hours": 721},
                {"expires_in_hours": "24"}, {"extra": 1}):
        reply = await client.post(f"/cloud/files/{f['id']}/share", user=me, json=bad)
        assert reply.status == 400, (bad, reply.body)
    share = await _share(client, me, f["id"], expires_in_hours=720)
    assert (await client.delete(f"/cloud/shares/{share['id']}", user=other)).status == 404
    assert (await client.get(f"/cloud/files/{f['id']}/shares", user=other)).status == 404
    assert (await client.get(_path(share))).status == 200  # the other user revoked nothing
    assert (await client.delete(f"/cloud/files/{f['id']}", user=me)).status == 200
    assert (await client.get(_path(share))).status == 404  # share links go with their file
    assert (await client.delete(f"/cloud/shares/{share['id']}", user=me)).status == 404


async def test_lookups_are_rate_limited_per_ip(client: ApiClient) -> None:
    statuses = [(await client.get("/cloud/shared/" + "B" * 43)).status for _ in range(45)]
    assert statuses[:40] == [404] * 40 and statuses[40:] == [429] * 5

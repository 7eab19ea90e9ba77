"""Cloud files on local storage: upload, list, get, download, replace, rename, move, delete."""

from __future__ import annotations

import hashlib
import uuid

import aiohttp
import pytest

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import (
    form, garbage_rows, make_file, quota, replace, settled, stored_files, upload,
)
from veza.config import Settings

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 4


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(cloud_quota_bytes=64 * 1024, cloud_max_file_bytes=32 * 1024, cloud_max_versions=3)


async def test_upload_get_list_download(client: ApiClient) -> None:
    me = await client.register()
    made = await upload(client, me, PNG, filename="holiday.txt")  # the name lies; the bytes decide
    assert made.status == 201, made.body
    f = made.data
    assert f["name"] == "holiday.txt" and f["mime_type"] == "image/png" and f["size_bytes"] == len(PNG)
    assert f["version"] == 1 and f["folder_id"] is None and f["sha256"] == hashlib.sha256(PNG).hexdigest()
    assert set(f) >= {"id", "created_at", "updated_at"} and f["created_at"].endswith("Z")
    got = await client.get(f"/cloud/files/{f['id']}", user=me)
    assert got.status == 200 and got.data == f
    listed = await client.get("/cloud/files", user=me)
    assert [x["id"] for x in listed.data["files"]] == [f["id"]] and listed.data["has_more"] is False
    down = await client.get(f"/cloud/files/{f['id']}/download", user=me)
    assert down.status == 200 and down.body == PNG
    assert down.headers["Content-Type"] == "image/png"
    assert down.headers["X-Content-Type-Options"] == "nosniff"
    assert down.headers["Content-Disposition"] == "attachment; filename=\"holiday.txt\"; filename*=UTF-8''holiday.txt"
    assert await quota(client, me) == len(PNG)


async def test_range_downloads(client: ApiClient) -> None:
    me = await client.register()
    data = bytes(range(256)) * 8
    f = await make_file(client, me, data, "range.bin")
    path = f"/cloud/files/{f['id']}/download"
    part = await client.get(path, user=me, headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    tail = await client.get(path, user=me, headers={"Range": "bytes=-5"})
    assert tail.status == 206 and tail.body == data[-5:]
    assert (await client.get(path, user=me, headers={"Range": f"bytes={len(data)}-"})).status == 416


async def test_unicode_names_get_an_rfc_6266_disposition(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"x", "x.txt", name='r\u00e9sum\u00e9 "final";.txt')
    down = await client.get(f"/cloud/files/{f['id']}/download", user=me)
    assert down.headers["Content-Disposition"] == (
        "attachment; filename=\"resume _final_;.txt\"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22%3B.txt")
    assert down.headers["Content-Type"].startswith("text/plain")


async def test_names_from_the_form_and_bad_inputs(client: ApiClient) -> None:
    me = await client.register()
    named = await upload(client, me, b"a", filename="C:\\Users\\me\\Desktop\\plan.txt")
    assert named.status == 201 and named.data["name"] == "plan.txt"
    override = await upload(client, me, b"a", filename="x.txt", name="  chosen.md ")
    assert override.data["name"] == "chosen.md"
    assert (await upload(client, me, b"b", filename="plan.txt")).status == 409  # the name is taken here
    for fields in ({"name": "a/b"}, {"name": ".."}, {"name": "x" * 256}, {"folder_id": "nope"}):
        reply = await upload(client, me, b"a", filename="ok.txt", **fields)
        assert reply.status == 400, (fields, reply.body)
    missing = await upload(client, me, b"a", filename="ok.txt", folder_id=str(uuid.uuid4()))
    assert missing.status == 404
    no_file = await client.post("/cloud/files", user=me, data=aiohttp.FormData({"name": "x"}, default_to_multipart=True))
    assert no_file.status == 400 and no_file.body["details"] == {"file": "required"}
    as_json = await client.post("/cloud/files", user=me, json={"name": "x"})
    assert as_json.status == 415
    bad_cursor = await client.get("/cloud/files?cursor=%%%", user=me)
    assert bad_cursor.status == 400
    # Only the two accepted uploads are stored: refused ones (409, 404, 400) left nothing.
    assert len(stored_files(client)) == 2 and await quota(client, me) == 2


async def test_paging_by_cursor(client: ApiClient) -> None:
    me = await client.register()
    ids = [(await make_file(client, me, b"x", f"f{i}.txt"))["id"] for i in range(5)]
    seen, cursor = [], None
    while True:
        reply = await client.get("/cloud/files?limit=2" + (f"&cursor={cursor}" if cursor else ""), user=me)
        assert reply.status == 200, reply.body
        seen += [f["id"] for f in reply.data["files"]]
        cursor = reply.data["next_cursor"]
        if not reply.data["has_more"]:
            break
    assert seen == ids[::-1]


async def test_replace_keeps_the_old_content_as_a_version(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"first", "doc.txt")
    second = await replace(client, me, f["id"], b"second!")
    assert second.status == 200 and second.data["version"] == 2 and second.data["size_bytes"] == 7
    assert second.data["id"] == f["id"] and second.data["name"] == "doc.txt"
    assert (await client.get(f"/cloud/files/{f['id']}/download", user=me)).body == b"second!"
    versions = (await client.get(f"/cloud/files/{f['id']}/versions", user=me)).data["versions"]
    assert [(v["version"], v["size_bytes"]) for v in versions] == [(1, 5)]
    old = await client.get(f"/cloud/files/{f['id']}/versions/1/download", user=me)
    assert old.status == 200 and old.body == b"first"
    assert await quota(client, me) == 5 + 7


async def test_rename_and_move(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"x", "a.txt")
    folder = (await client.post("/cloud/folders", user=me, json={"name": "Docs"})).data
    moved = await client.call("PATCH", f"/cloud/files/{f['id']}", user=me,
                              json={"name": "b.txt", "folder_id": folder["id"]})
    assert moved.status == 200 and moved.data["name"] == "b.txt" and moved.data["folder_id"] == folder["id"]
    assert (await client.get("/cloud/files", user=me)).data["files"] == []
    inside = await client.get(f"/cloud/files?folder_id={folder['id']}", user=me)
    assert [x["id"] for x in inside.data["files"]] == [f["id"]]
    back = await client.call("PATCH", f"/cloud/files/{f['id']}", user=me, json={"folder_id": None})
    assert back.status == 200 and back.data["folder_id"] is None
    for bad in ({"name": ""}, {"name": "x/y"}, {"size_bytes": 3}, {"folder_id": "nope"}):
        assert (await client.call("PATCH", f"/cloud/files/{f['id']}", user=me, json=bad)).status == 400, bad
    gone = await client.call("PATCH", f"/cloud/files/{f['id']}", user=me, json={"folder_id": str(uuid.uuid4())})
    assert gone.status == 404


async def test_delete_frees_bytes_after_commit(client: ApiClient) -> None:
    me = await client.register()
    before = stored_files(client)
    f = await make_file(client, me, b"one", "d.txt")
    assert (await replace(client, me, f["id"], b"two")).status == 200
    assert len(stored_files(client)) == len(before) + 2 and await quota(client, me) == 6
    assert (await client.delete(f"/cloud/files/{f['id']}", user=me)).status == 200
    await settled(client)
    assert stored_files(client) == before and await garbage_rows(client) == []
    assert await quota(client, me) == 0
    assert (await client.get(f"/cloud/files/{f['id']}", user=me)).status == 404
    assert (await client.get(f"/cloud/files/{f['id']}/versions", user=me)).status == 404


async def test_another_users_files_are_404(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    f = await make_file(client, me)
    base = f"/cloud/files/{f['id']}"
    for method, path in (("GET", base), ("GET", base + "/download"), ("DELETE", base), ("GET", base + "/versions"),
                         ("POST", base + "/versions"), ("GET", base + "/versions/1/download"),
                         ("POST", base + "/restore/1"), ("GET", base + "/shares")):
        reply = await client.call(method, path, user=other)
        assert reply.status == 404, (method, path, reply.status)
    assert (await client.call("PATCH", base, user=other, json={"name": "mine.txt"})).status == 404
    assert (await client.post(base + "/share", user=other, json={})).status == 404
    assert (await client.put(base + "/content", user=other, data=form(b"evil"))).status == 404
    assert (await client.get("/cloud/files", user=other)).data["files"] == []
    assert (await client.get(f"/cloud/files/{f['id']}/download", user=me)).body == b"hello cloud\n"


async def test_broken_multipart_bodies_are_400_on_every_upload_route(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me)
    gear = (await client.post("/inventory/gear", user=me, json={"name": "Amp"})).data
    bodies = [b"", b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nabc",
              b"not multipart at all", b"--x\r\n\xff\xfe\r\n\r\n--x--\r\n"]
    for path, method in (("/cloud/files", "POST"), (f"/cloud/files/{f['id']}/content", "PUT"),
                         (f"/inventory/gear/{gear['id']}/documents", "POST")):
        for body in bodies:
            reply = await client.call(method, path, user=me, data=body,
                                      headers={"Content-Type": "multipart/form-data; boundary=x"})
            assert 400 <= reply.status < 500, (path, body, reply.status, reply.body)
        no_boundary = await client.call(method, path, user=me, data=b"x", headers={"Content-Type": "multipart/form-data"})
        assert 400 <= no_boundary.status < 500, (path, no_boundary.body)
    assert stored_files(client) and await quota(client, me) == len(b"hello cloud\n")

"""Cloud folders: create, list, rename, move (never into itself), delete with everything inside."""

from __future__ import annotations

import uuid

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import garbage_rows, make_file, quota, replace, settled, stored_files
from veza.domain.cloud_folders import MAX_DEPTH


async def _folder(client: ApiClient, user, name: str, parent: str | None = None) -> dict:  # type: ignore[no-untyped-def,type-arg]
    reply = await client.post("/cloud/folders", user=user, json={"name": name, "parent_id": parent})
    assert reply.status == 201, reply.body
    return reply.data


async def test_create_list_rename_and_move(client: ApiClient) -> None:
    me = await client.register()
    music = await _folder(client, me, "Music")
    assert set(music) == {"id", "name", "parent_id", "created_at", "updated_at"} and music["parent_id"] is None
    demos = await _folder(client, me, "demos", music["id"])
    await _folder(client, me, "Archive")
    root = await client.get("/cloud/folders", user=me)
    assert [f["name"] for f in root.data["folders"]] == ["Archive", "Music"] and root.data["total"] == 2
    inside = await client.get(f"/cloud/folders?parent_id={music['id']}", user=me)
    assert [f["id"] for f in inside.data["folders"]] == [demos["id"]]
    assert (await client.get(f"/cloud/folders/{demos['id']}", user=me)).data["parent_id"] == music["id"]
    assert (await client.post("/cloud/folders", user=me, json={"name": "Music"})).status == 409
    renamed = await client.call("PATCH", f"/cloud/folders/{demos['id']}", user=me, json={"name": "Demos"})
    assert renamed.status == 200 and renamed.data["name"] == "Demos"
    moved = await client.call("PATCH", f"/cloud/folders/{demos['id']}", user=me, json={"parent_id": None})
    assert moved.status == 200 and moved.data["parent_id"] is None


async def test_a_folder_cannot_move_into_itself_or_below(client: ApiClient) -> None:
    me = await client.register()
    a = await _folder(client, me, "a")
    b = await _folder(client, me, "b", a["id"])
    c = await _folder(client, me, "c", b["id"])
    for target in (a["id"], c["id"]):
        reply = await client.call("PATCH", f"/cloud/folders/{a['id']}", user=me, json={"parent_id": target})
        assert reply.status == 400 and reply.body["details"] == {"parent_id": "inside the folder"}


async def test_depth_is_bounded(client: ApiClient) -> None:
    me = await client.register()
    parent = None
    for depth in range(MAX_DEPTH):
        parent = (await _folder(client, me, f"d{depth}", parent))["id"]
    deeper = await client.post("/cloud/folders", user=me, json={"name": "too deep", "parent_id": parent})
    assert deeper.status == 400


async def test_bad_inputs_and_other_users(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    mine = await _folder(client, me, "mine")
    for bad in ({}, {"name": ""}, {"name": "  "}, {"name": "a/b"}, {"name": "x" * 256}, {"name": "x", "parent_id": "no"},
                {"name": "x", "color": "red"}):
        assert (await client.post("/cloud/folders", user=me, json=bad)).status == 400, bad
    assert (await client.post("/cloud/folders", user=me, json={"name": "x", "parent_id": str(uuid.uuid4())})).status == 404
    path = f"/cloud/folders/{mine['id']}"
    assert (await client.get(path, user=other)).status == 404
    assert (await client.call("PATCH", path, user=other, json={"name": "theirs"})).status == 404
    assert (await client.delete(path, user=other)).status == 404
    assert (await client.post("/cloud/folders", user=other, json={"name": "x", "parent_id": mine["id"]})).status == 404
    assert (await client.get(f"/cloud/folders?parent_id={mine['id']}", user=other)).status == 404
    assert (await client.get(f"/cloud/files?folder_id={mine['id']}", user=other)).status == 404
    theirs = await _folder(client, other, "theirs")
    into = await client.call("PATCH", path, user=me, json={"parent_id": theirs["id"]})
    assert into.status == 404
    f = await make_file(client, me)
    assert (await client.call("PATCH", f"/cloud/files/{f['id']}", user=me, json={"folder_id": theirs["id"]})).status == 404


async def test_deleting_a_folder_deletes_its_tree_and_frees_its_bytes(client: ApiClient) -> None:
    me = await client.register()
    top = await _folder(client, me, "top")
    sub = await _folder(client, me, "sub", top["id"])
    keep = await make_file(client, me, b"kept", "keep.txt")
    a = await make_file(client, me, b"aaaa", "a.txt", folder_id=top["id"])
    b = await make_file(client, me, b"bbbbbb", "b.txt", folder_id=sub["id"])
    await replace(client, me, b["id"], b"b2")
    assert await quota(client, me) == 4 + 4 + 6 + 2
    assert (await client.delete(f"/cloud/folders/{top['id']}", user=me)).status == 200
    await settled(client)
    assert await quota(client, me) == 4 and len(stored_files(client)) == 1 and await garbage_rows(client) == []
    for gone in (f"/cloud/folders/{sub['id']}", f"/cloud/files/{a['id']}", f"/cloud/files/{b['id']}"):
        assert (await client.get(gone, user=me)).status == 404
    assert (await client.get(f"/cloud/files/{keep['id']}/download", user=me)).body == b"kept"

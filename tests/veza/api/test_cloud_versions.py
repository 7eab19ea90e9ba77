"""Versions: list, snapshot, restore that never loses anything, download one, pruning."""

from __future__ import annotations

import pytest

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import garbage_rows, make_file, quota, replace, settled, stored_files
from veza.config import Settings

MAX_VERSIONS = 3
QUOTA = 1000


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(cloud_max_versions=MAX_VERSIONS, cloud_quota_bytes=QUOTA)


async def _versions(client: ApiClient, user, file_id: str) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    reply = await client.get(f"/cloud/files/{file_id}/versions", user=user)
    assert reply.status == 200, reply.body
    for v in reply.data["versions"]:
        assert set(v) == {"id", "file_id", "version", "storage_key", "size_bytes", "created_at"} and v["file_id"] == file_id
    return [(v["version"], v["size_bytes"]) for v in reply.data["versions"]]


async def _content(client: ApiClient, user, file_id: str) -> bytes:  # type: ignore[no-untyped-def]
    return (await client.get(f"/cloud/files/{file_id}/download", user=user)).body


async def test_snapshot_saves_the_current_content_once(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"draft", "essay.txt")
    assert await _versions(client, me, f["id"]) == []
    snap = await client.post(f"/cloud/files/{f['id']}/versions", user=me)
    assert snap.status == 201 and snap.data["version"] == 1 and snap.data["size_bytes"] == 5
    again = await client.post(f"/cloud/files/{f['id']}/versions", user=me)
    assert again.status == 200 and again.data["id"] == snap.data["id"]
    assert await quota(client, me) == 5  # a snapshot shares the stored bytes
    assert (await replace(client, me, f["id"], b"second")).status == 200
    assert await _versions(client, me, f["id"]) == [(1, 5)]  # the snapshot already held version 1


async def test_restore_keeps_the_content_it_replaces(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"one", "r.txt")
    await replace(client, me, f["id"], b"two!")
    restored = await client.post(f"/cloud/files/{f['id']}/restore/1", user=me)
    assert restored.status == 200 and restored.data["version"] == 3 and restored.data["size_bytes"] == 3
    assert await _content(client, me, f["id"]) == b"one"
    assert await _versions(client, me, f["id"]) == [(2, 4), (1, 3)]  # "two!" was kept as version 2
    back = await client.post(f"/cloud/files/{f['id']}/restore/2", user=me)
    assert back.status == 200 and back.data["version"] == 4 and await _content(client, me, f["id"]) == b"two!"
    assert await _versions(client, me, f["id"]) == [(2, 4), (1, 3)]  # both contents were already saved
    assert (await client.get(f"/cloud/files/{f['id']}/versions/1/download", user=me)).body == b"one"
    assert await quota(client, me) == 7 and len(stored_files(client)) == 2


async def test_unknown_versions_are_404(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me)
    for number in ("1", "0", "-1", "x", "99999999999999999999", "\u0661"):
        assert (await client.post(f"/cloud/files/{f['id']}/restore/{number}", user=me)).status == 404, number
        assert (await client.get(f"/cloud/files/{f['id']}/versions/{number}/download", user=me)).status == 404


async def test_versions_past_the_limit_are_pruned_and_freed(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"v1", "p.txt")
    for n in range(2, 7):
        assert (await replace(client, me, f["id"], f"v{n}".encode() * n)).status == 200
    await settled(client)
    versions = await _versions(client, me, f["id"])
    assert [v for v, _ in versions] == [5, 4, 3]  # the 3 newest of versions 1..5; 6 is current
    kept = 2 * 6 + sum(size for _, size in versions)
    assert await quota(client, me) == kept and len(stored_files(client)) == MAX_VERSIONS + 1
    assert await garbage_rows(client) == []
    pruned = await client.get(f"/cloud/files/{f['id']}/versions/1/download", user=me)
    assert pruned.status == 404


async def test_restoring_the_oldest_when_full_keeps_its_content_current(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"a", "o.txt")
    for data in (b"bb", b"ccc", b"dddd"):
        await replace(client, me, f["id"], data)
    assert [v for v, _ in await _versions(client, me, f["id"])] == [3, 2, 1]
    restored = await client.post(f"/cloud/files/{f['id']}/restore/1", user=me)
    assert restored.status == 200 and await _content(client, me, f["id"]) == b"a"
    # Version 4 ("dddd") was kept; version 1 was pruned as the oldest, but its bytes are current.
    assert [v for v, _ in await _versions(client, me, f["id"])] == [4, 3, 2]
    await settled(client)
    assert await quota(client, me) == 1 + 2 + 3 + 4 and len(stored_files(client)) == 4


async def test_a_replace_at_full_quota_fits_when_pruning_frees_room(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"0" * 200, "full.bin")
    for n in (1, 2, 3):
        assert (await replace(client, me, f["id"], str(n).encode() * 200)).status == 200
    await make_file(client, me, b"z" * 200, "filler.bin")
    assert await quota(client, me) == QUOTA
    # Keeping version 4 prunes version 1: its 200 bytes make room for the new content.
    fits = await replace(client, me, f["id"], b"4" * 200)
    assert fits.status == 200, fits.body
    await settled(client)
    assert await quota(client, me) == QUOTA and [v for v, _ in await _versions(client, me, f["id"])] == [4, 3, 2]
    over = await replace(client, me, f["id"], b"5" * 201)
    assert over.status == 507 and await quota(client, me) == QUOTA

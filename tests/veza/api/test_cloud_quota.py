"""CLOUD_QUOTA_BYTES and CLOUD_MAX_FILE_BYTES: exact boundaries, refusals that leave nothing
behind, concurrent uploads that cannot pass the quota together."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import make_file, quota, replace, stored_files, upload
from veza.config import Settings

QUOTA = 40 * 1024
MAX_FILE = 16 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(cloud_quota_bytes=QUOTA, cloud_max_file_bytes=MAX_FILE, cloud_max_versions=10)


async def test_quota_is_reported_and_exact_at_the_boundary(client: ApiClient) -> None:
    me = await client.register()
    assert (await client.get("/cloud/quota", user=me)).data == {"used_bytes": 0, "quota_bytes": QUOTA}
    for i in range(2):
        await make_file(client, me, b"a" * MAX_FILE, f"full{i}.bin")
    last = QUOTA - 2 * MAX_FILE
    await make_file(client, me, b"b" * last, "exact.bin")  # used == quota exactly: accepted
    assert await quota(client, me) == QUOTA
    files_before = stored_files(client)
    over = await upload(client, me, b"c", filename="one-more.bin")
    assert over.status == 507 and over.body["code"] == "quota_exceeded"
    assert await quota(client, me) == QUOTA and stored_files(client) == files_before
    assert len((await client.get("/cloud/files", user=me)).data["files"]) == 3
    empty = await upload(client, me, b"", filename="empty.txt")  # nothing to store: still fits
    assert empty.status == 201 and empty.data["size_bytes"] == 0


async def test_replacing_counts_the_kept_version(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"a" * MAX_FILE, "v.bin")
    assert (await replace(client, me, f["id"], b"b" * MAX_FILE)).status == 200
    assert await quota(client, me) == 2 * MAX_FILE  # the first content is kept as version 1
    before = stored_files(client)
    refused = await replace(client, me, f["id"], b"c" * (QUOTA - 2 * MAX_FILE + 1))
    assert refused.status == 507 and refused.body["code"] == "quota_exceeded"
    assert stored_files(client) == before and await quota(client, me) == 2 * MAX_FILE
    current = await client.get(f"/cloud/files/{f['id']}", user=me)
    assert current.data["version"] == 2  # unchanged by the refusal


async def test_over_the_file_limit_is_413_and_leaves_nothing(client: ApiClient) -> None:
    me = await client.register()
    before = stored_files(client)
    reply = await upload(client, me, b"x" * (MAX_FILE + 1), filename="big.bin")
    assert reply.status == 413 and reply.body["code"] == "too_large"

    async def chunks():  # type: ignore[no-untyped-def]  # no Content-Length: found while streaming
        for _ in range(MAX_FILE // 4096 + 2):
            yield b"y" * 4096

    form = aiohttp.FormData()
    form.add_field("file", chunks(), filename="streamed.bin", content_type="application/octet-stream")
    streamed = await client.post("/cloud/files", user=me, data=form)
    assert streamed.status == 413
    assert stored_files(client) == before and await quota(client, me) == 0


async def test_concurrent_uploads_cannot_pass_the_quota(client: ApiClient) -> None:
    me = await client.register()
    size = 7 * 1024  # 5 fit in 40 KiB, not 6
    replies = await asyncio.gather(*(upload(client, me, bytes([i]) * size, filename=f"c{i}.bin") for i in range(12)))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(201) == QUOTA // size and set(statuses) == {201, 507}, statuses
    assert await quota(client, me) == (QUOTA // size) * size
    assert len(stored_files(client)) == QUOTA // size


async def test_quotas_are_per_user(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    for i in range(2):
        await make_file(client, me, b"a" * MAX_FILE, f"{i}.bin")
    await make_file(client, other, b"a" * MAX_FILE, "theirs.bin")
    assert await quota(client, me) == 2 * MAX_FILE and await quota(client, other) == MAX_FILE


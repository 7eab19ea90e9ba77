"""Cloud files on S3 (moto's real server on loopback): upload, replace, versions, restore,
ranged downloads, share, revoke, delete, and a quota overflow that leaves nothing behind."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import form, make_file, quota, replace, settled, stored_files, upload
from tests.veza.services.test_storage_s3 import BUCKET, _objects, s3_endpoint  # noqa: F401 - the fixture
from veza import keys
from veza.config import Settings

pytestmark = pytest.mark.slow
QUOTA = 64 * 1024


@pytest.fixture
def settings(settings: Settings, s3_endpoint: str) -> Settings:  # noqa: F811
    return settings.replace(s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint, s3_access_key_id="test",
                            s3_secret_access_key="test", cloud_quota_bytes=QUOTA, cloud_max_versions=2)


def _cloud_objects(endpoint: str, user_id: str) -> set[str]:
    return {k for k in _objects(endpoint) if k.startswith(f"cloud/{user_id}/")}


async def test_the_whole_life_of_a_file_on_s3(client: ApiClient, s3_endpoint: str) -> None:  # noqa: F811
    assert client.app[keys.storage].name == "s3"
    me = await client.register()
    data = bytes(range(256)) * 40
    f = await make_file(client, me, data, "stems.bin")
    assert len(_cloud_objects(s3_endpoint, me.id)) == 1 and stored_files(client) == []
    path = f"/cloud/files/{f['id']}/download"
    part = await client.get(path, user=me, headers={"Range": "bytes=1000-1099"})
    assert part.status == 206 and part.body == data[1000:1100]
    assert part.headers["Content-Range"] == f"bytes 1000-1099/{len(data)}"
    assert (await replace(client, me, f["id"], b"second")).status == 200
    assert (await replace(client, me, f["id"], b"third!!")).status == 200
    restored = await client.post(f"/cloud/files/{f['id']}/restore/1", user=me)
    assert restored.status == 200 and (await client.get(path, user=me)).body == data
    versions = (await client.get(f"/cloud/files/{f['id']}/versions", user=me)).data["versions"]
    assert [v["version"] for v in versions] == [3, 2]  # 1 pruned; its object is the current content
    await settled(client)
    assert len(_cloud_objects(s3_endpoint, me.id)) == 3
    assert await quota(client, me) == len(data) + 6 + 7
    old = await client.get(f"/cloud/files/{f['id']}/versions/2/download", user=me, headers={"Range": "bytes=-3"})
    assert old.status == 206 and old.body == b"ond"
    share = (await client.post(f"/cloud/files/{f['id']}/share", user=me, json={"expires_in_hours": 1})).data
    public = "/cloud/shared/" + share["token"]
    assert (await client.get(public + "/download")).body == data
    assert (await client.delete(f"/cloud/shares/{share['id']}", user=me)).status == 200
    assert (await client.get(public + "/download")).status == 404
    assert (await client.delete(f"/cloud/files/{f['id']}", user=me)).status == 200
    await settled(client)
    assert _cloud_objects(s3_endpoint, me.id) == set() and await quota(client, me) == 0


async def test_a_quota_overflow_on_s3_leaves_nothing(client: ApiClient, s3_endpoint: str) -> None:  # noqa: F811
    me = await client.register()
    await make_file(client, me, b"a" * (QUOTA - 10), "big.bin")
    before = _cloud_objects(s3_endpoint, me.id)
    over = await upload(client, me, b"b" * 11, filename="over.bin")
    assert over.status == 507 and over.body["code"] == "quota_exceeded"
    f = (await client.get("/cloud/files", user=me)).data["files"][0]
    refused = await client.put(f"/cloud/files/{f['id']}/content", user=me, data=form(b"c" * 11))
    assert refused.status == 507
    assert _cloud_objects(s3_endpoint, me.id) == before and stored_files(client) == []
    assert await quota(client, me) == QUOTA - 10


async def test_uploads_refused_at_commit_delete_their_s3_objects(client: ApiClient, s3_endpoint: str) -> None:  # noqa: F811
    me = await client.register()
    size = QUOTA // 2 + 1  # each fits alone, no two together
    replies = await asyncio.gather(*(upload(client, me, bytes([i]) * size, filename=f"{i}.bin") for i in range(4)))
    assert sorted(r.status for r in replies) == [201, 507, 507, 507]
    assert len(_cloud_objects(s3_endpoint, me.id)) == 1 and await quota(client, me) == size


async def test_gear_documents_on_s3(client: ApiClient, s3_endpoint: str) -> None:  # noqa: F811
    me = await client.register()
    gear = (await client.post("/inventory/gear", user=me, json={"name": "Synth"})).data["id"]
    pdf = b"%PDF-1.7\n" + b"0" * 500
    body = aiohttp.FormData()
    body.add_field("type", "manual")
    body.add_field("file", pdf, filename="manual.pdf", content_type="application/pdf")
    doc = await client.post(f"/inventory/gear/{gear}/documents", user=me, data=body)
    assert doc.status == 201, doc.body
    gear_objects = {k for k in _objects(s3_endpoint) if k.startswith(f"gear/{me.id}/")}
    assert len(gear_objects) == 1 and stored_files(client) == []
    part = await client.get(doc.data["download_url"].removeprefix("/api/v1"), user=me, headers={"Range": "bytes=0-3"})
    assert part.status == 206 and part.body == b"%PDF"
    assert (await client.delete(f"/inventory/gear/{gear}", user=me)).status == 200
    await settled(client)
    assert not {k for k in _objects(s3_endpoint) if k.startswith(f"gear/{me.id}/")}

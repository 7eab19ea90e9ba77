"""Exports on S3 (moto's real server on loopback): the archive is uploaded, its links are
presigned for at most five minutes and work without a token, and erasure deletes it."""

from __future__ import annotations

import io
import time
import zipfile
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from tests.support import PASSWORD, ApiClient
from tests.veza.api.cloud_helpers import make_file, settled
from tests.veza.api.export_helpers import request_export, wait_for
from tests.veza.services.test_storage_s3 import BUCKET, _objects, s3_endpoint  # noqa: F401 - the fixture
from veza import keys
from veza.config import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def settings(settings: Settings, s3_endpoint: str) -> Settings:  # noqa: F811
    return settings.replace(s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint, s3_access_key_id="test",
                            s3_secret_access_key="test", download_link_ttl=3600)


async def test_an_export_on_s3_is_presigned_for_five_minutes_and_erased_with_the_account(
        client: ApiClient, s3_endpoint: str) -> None:  # noqa: F811
    assert client.app[keys.storage].name == "s3"
    me = await client.register()
    await make_file(client, me, b"on s3\n", "s3.txt")
    job = await request_export(client, me)
    ready = await wait_for(client, me, job["id"])
    assert f"exports/{job['id']}.zip" in _objects(s3_endpoint)
    reply = await client.get(f"/users/me/exports/{job['id']}/download", user=me, allow_redirects=False)
    assert reply.status == 302
    for url in (ready["download_url"], reply.headers["Location"]):
        query = parse_qs(urlsplit(url).query)
        # DOWNLOAD_LINK_TTL is an hour; export links stay at five minutes (SigV4 or SigV2 style).
        lifetime = int(query["X-Amz-Expires"][0]) if "X-Amz-Expires" in query else int(query["Expires"][0]) - time.time()
        assert 0 < lifetime <= 301, url
        async with aiohttp.ClientSession() as http, http.get(url) as resp:  # no Authorization header
            assert resp.status == 200
            archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
        cloud = [n for n in archive.namelist() if n.startswith("files/cloud/")]
        assert [archive.read(n) for n in cloud] == [b"on s3\n"]
    assert (await client.delete("/users/me", user=me, json={"password": PASSWORD})).status == 200
    await settled(client)
    assert not [k for k in _objects(s3_endpoint) if job["id"] in k or me.id in k]

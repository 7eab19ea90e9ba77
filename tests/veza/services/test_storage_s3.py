"""The S3 backend against moto's real S3 server (HTTP on loopback), through the API."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient
from tests.veza.api.track_helpers import make_track, upload
from veza import keys
from veza.config import Settings

pytestmark = pytest.mark.slow
BUCKET = "veza-test-tracks"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key="test").create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


@pytest.fixture
def settings(settings: Settings, s3_endpoint: str) -> Settings:
    return settings.replace(s3_bucket=BUCKET, s3_endpoint_url=s3_endpoint, s3_access_key_id="test",
                            s3_secret_access_key="test", upload_max_bytes=128 * 1024)


def _objects(endpoint: str) -> list[str]:
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    return [o["Key"] for o in client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def _local_files(client: ApiClient) -> list[Path]:
    root = client.app[keys.settings].data_dir
    return [p for p in root.rglob("*") if p.is_file() and p.name != "jwt_secret"]


async def test_upload_stream_and_delete_through_s3(client: ApiClient, s3_endpoint: str) -> None:
    assert client.app[keys.storage].name == "s3"
    creator = await client.register(role="creator")
    audio = wav_bytes(0.5)
    before = set(_objects(s3_endpoint))
    track = await make_track(client, creator, data=audio)
    added = set(_objects(s3_endpoint)) - before
    assert len(added) == 1 and next(iter(added)).startswith(f"tracks/{creator.id}/")
    assert _local_files(client) == []  # the temporary file went to S3, nothing left on disk
    path = f"/tracks/{track['id']}/stream"
    whole = await client.get(path)
    assert whole.status == 200 and whole.body == audio
    part = await client.get(path, headers={"Range": "bytes=100-199"})
    assert part.status == 206 and part.body == audio[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(audio)}"
    assert (await client.get(path, headers={"Range": f"bytes={len(audio) + 5}-"})).status == 416
    limits = await client.get("/upload/limits")
    assert limits.data["storage_backend"] == "s3" and limits.data["max_size_bytes"] == 128 * 1024
    assert (await client.delete(f"/tracks/{track['id']}", user=creator)).status == 200
    assert set(_objects(s3_endpoint)) == before


async def test_refused_uploads_leave_no_object(client: ApiClient, s3_endpoint: str) -> None:
    creator = await client.register(role="creator")
    before = set(_objects(s3_endpoint))
    assert (await upload(client, creator, data=b"plain text" * 50, filename="x.mp3")).status == 415
    assert (await upload(client, creator, data=b"\x00" * (300 * 1024))).status == 413
    assert set(_objects(s3_endpoint)) == before
    assert _local_files(client) == []


async def test_missing_object_is_404_not_500(client: ApiClient, s3_endpoint: str) -> None:
    creator = await client.register(role="creator")
    track = await make_track(client, creator)
    boto = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                        aws_secret_access_key="test")
    for key in _objects(s3_endpoint):
        boto.delete_object(Bucket=BUCKET, Key=key)
    reply = await client.get(f"/tracks/{track['id']}/stream")
    assert reply.status == 404 and reply.body["success"] is False
    deep = await client.get("/health/deep")
    assert deep.body["data"]["checks"]["storage"]["status"] == "ok"


async def test_a_purchase_on_s3_downloads_through_a_presigned_url(client: ApiClient) -> None:
    """S3 serves bought files itself, through a short-lived presigned URL."""
    import aiohttp

    from tests.veza.api.market_helpers import checkout, sandbox_pay

    seller = await client.register(role="creator")
    track = await make_track(client, seller, title="Single")
    product = (await client.post("/marketplace/products", user=seller, json={
        "title": "Single — deluxe", "price_cents": 129, "kind": "track", "track_id": track["id"]})).data
    buyer = await client.register()
    await sandbox_pay(client, (await checkout(client, buyer, product["id"])).data)
    purchase = (await client.get("/marketplace/purchases", user=buyer)).data["purchases"][0]
    link = (await client.get(f"/marketplace/purchases/{purchase['id']}/download", user=buyer)).data["download_url"]
    assert link.startswith(client.app[keys.settings].s3_endpoint_url) and "Signature" in link
    async with aiohttp.ClientSession() as http, http.get(link) as resp:
        assert resp.status == 200 and (await resp.read())[:4] == b"RIFF"
        disposition = resp.headers["Content-Disposition"]
        assert disposition.startswith('attachment; filename="Single') and "UTF-8''Single%20%E2%80%94%20deluxe" in disposition

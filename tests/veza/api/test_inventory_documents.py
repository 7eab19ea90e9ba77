"""Gear documents: uploads checked by their bytes, list, download, delete; they go with their gear."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from tests.support import ApiClient, Reply, User
from tests.veza.api.cloud_helpers import garbage_rows, settled, stored_files
from veza import keys
from veza.config import Settings

MAX = 4096
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
WEBP = b"RIFF\x40\x00\x00\x00WEBPVP8 " + b"\x00" * 64
TEXT = "Serial 1234 \u2014 bought in Lyon\n".encode()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.replace(gear_document_max_bytes=MAX)


async def _gear(client: ApiClient, user: User, name: str = "Strat") -> str:
    reply = await client.post("/inventory/gear", user=user, json={"name": name})
    assert reply.status == 201, reply.body
    return reply.data["id"]


async def _upload(client: ApiClient, user: User, gear_id: str, data: bytes, filename: str = "doc.bin",
                  kind: str | None = "invoice", content_type: str = "application/octet-stream") -> Reply:
    form = aiohttp.FormData(quote_fields=False)
    if kind is not None:
        form.add_field("type", kind)
    form.add_field("file", data, filename=filename, content_type=content_type)
    return await client.post(f"/inventory/gear/{gear_id}/documents", user=user, data=form)


async def test_each_accepted_type_by_its_bytes(client: ApiClient) -> None:
    me = await client.register()
    gear = await _gear(client, me)
    for data, filename, ctype, mime in ((PDF, "invoice.pdf", "application/pdf", "application/pdf"),
                                        (JPEG, "front.jpg", "image/jpeg", "image/jpeg"),
                                        (PNG, "back.png", "application/octet-stream", "image/png"),
                                        (WEBP, "side", "image/webp", "image/webp"),
                                        (TEXT, "serial.txt", "text/plain; charset=utf-8", "text/plain")):
        reply = await _upload(client, me, gear, data, filename, "photo", ctype)
        assert reply.status == 201, (filename, reply.body)
        doc = reply.data
        assert doc["mime_type"] == mime and doc["size_bytes"] == len(data) and doc["type"] == "photo"
        assert doc["gear_id"] == gear and doc["name"] == filename and len(doc["sha256"]) == 64
        down = await client.get(doc["download_url"].removeprefix("/api/v1"), user=me)
        assert down.status == 200 and down.body == data and down.headers["X-Content-Type-Options"] == "nosniff"
        assert down.headers["Content-Disposition"].startswith("attachment;")
    listed = await client.get(f"/inventory/gear/{gear}/documents", user=me)
    assert listed.status == 200 and listed.data["total"] == 5
    assert [d["name"] for d in listed.data["documents"]] == ["serial.txt", "side", "back.png", "front.jpg", "invoice.pdf"]
    part = await client.get(listed.data["documents"][-1]["download_url"].removeprefix("/api/v1"), user=me,
                            headers={"Range": "bytes=0-3"})
    assert part.status == 206 and part.body == b"%PDF"


async def test_markup_other_types_and_lies_are_415(client: ApiClient) -> None:
    me = await client.register()
    gear = await _gear(client, me)
    before = stored_files(client)
    cases = [
        (b"<!DOCTYPE html><html><body>hi</body></html>", "manual.txt", "text/plain"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "logo.png", "image/png"),
        (b"  <html><script>x</script></html>", "x", "application/octet-stream"),
        (TEXT, "page.html", "application/octet-stream"),
        (PDF, "photo.png", "application/octet-stream"),  # the name says PNG
        (PNG, "scan.pdf", "application/pdf"),  # the claimed type says PDF
        (JPEG, "x.jpg", "image/png"),
        (b"PK\x03\x04" + b"\x00" * 60, "manual.zip", "application/zip"),
        (b"\x00\x01\x02\x03binary", "blob", "application/octet-stream"),
        (b"MZ\x90\x00" + b"\x00" * 60, "setup.exe", "application/octet-stream"),
    ]
    for data, filename, ctype in cases:
        reply = await _upload(client, me, gear, data, filename, content_type=ctype)
        assert reply.status == 415 and reply.body["code"] == "unsupported_media_type", (filename, reply.body)
    assert stored_files(client) == before
    assert (await client.get(f"/inventory/gear/{gear}/documents", user=me)).data["total"] == 0


async def test_bad_inputs_and_limits(client: ApiClient) -> None:
    me = await client.register()
    gear = await _gear(client, me)
    before = stored_files(client)
    assert (await _upload(client, me, gear, b"a" * (MAX + 1), "big.txt")).status == 413
    for kind in (None, "", "selfie"):
        reply = await _upload(client, me, gear, PDF, "a.pdf", kind)
        assert reply.status == 400 and "type" in reply.body["details"], (kind, reply.body)
    no_file = aiohttp.FormData({"type": "invoice"}, default_to_multipart=True)
    assert (await client.post(f"/inventory/gear/{gear}/documents", user=me, data=no_file)).status == 400
    assert (await client.post(f"/inventory/gear/{gear}/documents", user=me, json={"type": "invoice"})).status == 415
    assert stored_files(client) == before


async def test_documents_are_the_owners_and_under_their_gear(client: ApiClient) -> None:
    me, other = await client.register(), await client.register()
    gear, second = await _gear(client, me), await _gear(client, me, "Bass")
    doc = (await _upload(client, me, gear, PDF, "a.pdf")).data
    theirs = await _gear(client, other)
    assert (await _upload(client, other, gear, PDF, "b.pdf")).status == 404
    assert (await _upload(client, me, str(uuid.uuid4()), PDF, "b.pdf")).status == 404
    for user, gear_id in ((other, gear), (me, second), (other, theirs)):
        base = f"/inventory/gear/{gear_id}/documents/{doc['id']}"
        assert (await client.get(base + "/download", user=user)).status == 404
        assert (await client.delete(base, user=user)).status == 404
    assert (await client.get(f"/inventory/gear/{gear}/documents", user=other)).status == 404
    assert (await client.get(f"/inventory/gear/{gear}/documents/{doc['id']}/download", user=me)).status == 200


async def test_deleting_documents_and_gear_frees_their_bytes(client: ApiClient) -> None:
    me = await client.register()
    gear = await _gear(client, me)
    before = stored_files(client)
    first = (await _upload(client, me, gear, PDF, "a.pdf")).data
    await _upload(client, me, gear, PNG, "b.png", "photo")
    await client.post(f"/inventory/gear/{gear}/repairs", user=me, json={"description": "New frets"})
    assert len(stored_files(client)) == len(before) + 2
    assert (await client.delete(f"/inventory/gear/{gear}/documents/{first['id']}", user=me)).status == 200
    await settled(client)
    assert len(stored_files(client)) == len(before) + 1
    assert (await client.delete(f"/inventory/gear/{gear}", user=me)).status == 200
    await settled(client)
    assert stored_files(client) == before and await garbage_rows(client) == []
    for path in (f"/inventory/gear/{gear}/documents", f"/inventory/gear/{gear}/repairs"):
        assert (await client.get(path, user=me)).status == 404
    async with client.app[keys.db].connection() as conn:
        left = await conn.fetchval("SELECT (SELECT count(*) FROM gear_documents WHERE gear_id = $1::uuid)"
                                   " + (SELECT count(*) FROM gear_repairs WHERE gear_id = $1::uuid)", gear)
    assert left == 0

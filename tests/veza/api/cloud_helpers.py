"""Cloud file uploads from tests through the real multipart routes, and storage inspection."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.support import ApiClient, Reply, User
from veza import keys
from veza.api.cloud_setup import collector


def form(data: bytes, filename: str | None = "notes.txt", content_type: str = "application/octet-stream",
         **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData(quote_fields=False)  # raw UTF-8 names, as browsers send them
    for name, value in fields.items():
        body.add_field(name, value)
    body.add_field("file", data, filename=filename, content_type=content_type)
    return body


async def upload(client: ApiClient, user: User, data: bytes = b"hello cloud\n", filename: str | None = "notes.txt",
                 **fields: str) -> Reply:
    return await client.post("/cloud/files", user=user, data=form(data, filename, **fields))


async def make_file(client: ApiClient, user: User, data: bytes = b"hello cloud\n", filename: str = "notes.txt",
                    **fields: str) -> dict[str, Any]:
    reply = await upload(client, user, data, filename, **fields)
    assert reply.status == 201, reply.body
    return reply.data


async def replace(client: ApiClient, user: User, file_id: str, data: bytes) -> Reply:
    return await client.put(f"/cloud/files/{file_id}/content", user=user, data=form(data))


async def quota(client: ApiClient, user: User) -> int:
    reply = await client.get("/cloud/quota", user=user)
    assert reply.status == 200, reply.body
    return reply.data["used_bytes"]


async def settled(client: ApiClient) -> None:
    """Wait for the background frees of committed deletes."""
    await asyncio.wait_for(client.app[collector].idle(), 30)


def stored_files(client: ApiClient) -> list[Path]:
    """Objects in local storage and temporary upload files (the JWT dev secret aside)."""
    root = client.app[keys.settings].data_dir
    return sorted(p for p in root.rglob("*") if p.is_file() and p.name != "jwt_secret")


async def garbage_rows(client: ApiClient) -> list[str]:
    async with client.app[keys.db].connection() as conn:
        return [r["storage_key"] for r in await conn.fetch("SELECT storage_key FROM storage_garbage")]

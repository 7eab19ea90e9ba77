"""Data export test helpers: ask for an export, wait for it, fetch and open its archive."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from typing import Any
from urllib.parse import urlsplit

from tests.support import ApiClient, User


async def request_export(client: ApiClient, user: User) -> dict[str, Any]:
    reply = await client.post("/users/me/export", user=user)
    assert reply.status == 202, reply.body
    return reply.data


async def wait_for(client: ApiClient, user: User, export_id: str, status: str = "ready",
                   timeout: float = 60.0) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        reply = await client.get("/users/me/exports", user=user)
        assert reply.status == 200, reply.body
        job = next(e for e in reply.data["exports"] if e["id"] == export_id)
        if job["status"] == status:
            return job
        assert loop.time() < deadline, f"export {export_id} stayed {job['status']}, wanted {status}"
        await asyncio.sleep(0.05)


def local_path(url: str) -> str:
    """The path and query of a signed local link (the test server is not on APP_DOMAIN)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def fetch_archive(client: ApiClient, url: str) -> zipfile.ZipFile:
    reply = await client.get(local_path(url))  # no Authorization header: the signature is the proof
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(reply.body))


def jsonl(archive: zipfile.ZipFile, name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in archive.read(name).decode().splitlines() if line]


async def exported(client: ApiClient, user: User) -> zipfile.ZipFile:
    """Ask for an export, wait until it is ready, and open it."""
    job = await request_export(client, user)
    ready = await wait_for(client, user, job["id"])
    return await fetch_archive(client, ready["download_url"])

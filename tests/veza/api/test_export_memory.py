"""The export of an account with 100,000 messages (about 100 MB of JSON) runs in a real
server whose resident memory, sampled throughout, grows by less than a fixed bound: rows
stream through cursors into a zip written by a thread, never the whole account in memory."""

from __future__ import annotations

import asyncio
import io
import json
import uuid
import zipfile
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.db import TestDatabase
from tests.server_process import ServerProcess
from tests.support import PASSWORD
from tests.veza.api.test_cloud_memory import Sampler, _rss

pytestmark = pytest.mark.slow
MESSAGES = 100_000
CONTENT_BYTES = 1024
# Holding the account in memory would take well over 100 MB; streaming holds a few batches.
RSS_GROWTH_BOUND = 40 * 1024 * 1024


@pytest.fixture
def server(test_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    proc = ServerProcess(test_database.dsn, tmp_path / "server.log", RATE_LIMIT_PER_IP="100000",
                         EXPORT_MIN_INTERVAL="0", EXPORT_POLL_INTERVAL="1")
    proc.start()
    yield proc
    proc.stop()


async def _register(http: aiohttp.ClientSession, base: str) -> tuple[str, dict[str, str]]:
    name = f"big_{uuid.uuid4().hex[:10]}"
    async with http.post(base + "/auth/register", json={"username": name, "email": f"{name}@example.com",
                                                        "password": PASSWORD}) as resp:
        data = (await resp.json())["data"]
    return data["user"]["id"], {"Authorization": f"Bearer {data['access_token']}"}


async def _export(http: aiohttp.ClientSession, base: str, auth: dict[str, str]) -> dict:  # type: ignore[type-arg]
    async with http.post(base + "/users/me/export", headers=auth) as resp:
        assert resp.status == 202, await resp.text()
        export_id = (await resp.json())["data"]["id"]
    for _ in range(6000):
        async with http.get(base + "/users/me/exports", headers=auth) as resp:
            job = next(e for e in (await resp.json())["data"]["exports"] if e["id"] == export_id)
        if job["status"] in ("ready", "failed"):
            return job
        await asyncio.sleep(0.05)
    raise AssertionError(f"export {export_id} never finished")


async def test_exporting_100k_messages_keeps_memory_flat(server: ServerProcess, test_database: TestDatabase) -> None:
    assert server.proc is not None
    pid, base = server.proc.pid, server.base_url + "/api/v1"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as http:
        user_id, auth = await _register(http, base)
        async with http.post(base + "/conversations", headers=auth, json={"type": "group", "name": "Diary"}) as resp:
            room_id = (await resp.json())["data"]["id"]
        conn = await asyncpg.connect(test_database.dsn)
        try:
            await conn.execute(
                "WITH made AS (INSERT INTO chat_messages (room_id, seq, author_id, content)"
                " SELECT $1, g, $2, repeat(md5(g::text), $4 / 32) FROM generate_series(1, $3) g RETURNING seq)"
                " UPDATE conversations SET last_seq = (SELECT max(seq) FROM made) WHERE id = $1",
                uuid.UUID(room_id), uuid.UUID(user_id), MESSAGES, CONTENT_BYTES)
        finally:
            await conn.close()
        _, warm_auth = await _register(http, base)
        assert (await _export(http, base, warm_auth))["status"] == "ready"  # every module of the path loaded
        baseline = _rss(pid)
        async with Sampler(pid) as sampled:
            job = await _export(http, base, auth)
        assert job["status"] == "ready", job
        async with http.get(job["download_url"]) as resp:
            assert resp.status == 200
            body = await resp.read()
    archive = zipfile.ZipFile(io.BytesIO(body))
    manifest = json.loads(archive.read("manifest.json"))
    assert {f["path"]: f.get("count") for f in manifest["files"]}["messages.jsonl"] == MESSAGES
    assert archive.getinfo("messages.jsonl").file_size > MESSAGES * CONTENT_BYTES
    assert sampled.peak - baseline < RSS_GROWTH_BOUND, (baseline, sampled.peak)

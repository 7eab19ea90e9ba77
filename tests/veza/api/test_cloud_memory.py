"""A 256 MiB cloud upload and its download stream through a real server with flat memory:
the server process's resident size, sampled throughout, never grows by more than a fixed
bound over what it was before."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.db import TestDatabase
from tests.server_process import ServerProcess
from tests.support import PASSWORD

pytestmark = pytest.mark.slow
SIZE = 256 * 1024 * 1024
CHUNK = 1024 * 1024
# The whole file is 256 MiB; streaming holds a few MiB of buffers at a time.
RSS_GROWTH_BOUND = 48 * 1024 * 1024


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Sampler:
    """The largest RSS of `pid` seen while running."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self._task = pid, 0, None  # type: ignore[var-annotated]

    async def _run(self) -> None:
        while True:
            self.peak = max(self.peak, _rss(self.pid))
            await asyncio.sleep(0.02)

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())  # type: ignore[assignment]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.peak = max(self.peak, _rss(self.pid))
        self._task.cancel()  # type: ignore[attr-defined]


@pytest.fixture
def server(test_database: TestDatabase, tmp_path: Path):  # type: ignore[no-untyped-def]
    proc = ServerProcess(test_database.dsn, tmp_path / "server.log", RATE_LIMIT_PER_IP="100000")
    proc.start()
    yield proc
    proc.stop()


async def test_a_256_mib_upload_and_download_keep_memory_flat(server: ServerProcess) -> None:
    assert server.proc is not None
    pid, base = server.proc.pid, server.base_url + "/api/v1"
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        name = f"mem_{uuid.uuid4().hex[:10]}"
        async with http.post(base + "/auth/register", json={"username": name, "email": f"{name}@example.com",
                                                            "password": PASSWORD}) as resp:
            token = (await resp.json())["data"]["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        async def send(data: bytes | object, filename: str) -> dict:  # type: ignore[type-arg]
            form = aiohttp.FormData()
            form.add_field("file", data, filename=filename, content_type="application/octet-stream")
            async with http.post(base + "/cloud/files", data=form, headers=auth) as resp:
                body = await resp.json()
                assert resp.status == 201, body
                return body["data"]

        await send(b"warm-up: every module the upload path imports is loaded", "warm.txt")
        baseline = _rss(pid)
        block = os.urandom(CHUNK)
        expected = hashlib.sha256()

        async def body():  # type: ignore[no-untyped-def]
            for i in range(SIZE // CHUNK):
                chunk = bytes([i % 256]) + block[1:]
                expected.update(chunk)
                yield chunk

        async with Sampler(pid) as upload:
            made = await send(body(), "big.bin")
        assert made["size_bytes"] == SIZE and made["sha256"] == expected.hexdigest()
        got = hashlib.sha256()
        async with Sampler(pid) as download:
            async with http.get(f"{base}/cloud/files/{made['id']}/download", headers=auth) as resp:
                assert resp.status == 200 and resp.content_length == SIZE
                async for chunk in resp.content.iter_chunked(CHUNK):
                    got.update(chunk)
        assert got.hexdigest() == expected.hexdigest()
    assert upload.peak - baseline < RSS_GROWTH_BOUND, (baseline, upload.peak)
    assert download.peak - baseline < RSS_GROWTH_BOUND, (baseline, download.peak)

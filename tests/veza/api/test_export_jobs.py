"""The export job's life: notified live when ready, retried then failed (notified), a stuck
job reaped and retried at most three times, archives deleted after their retention, queued
jobs resumed by a fresh start. Time passing is written into the rows; nothing is mocked."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from actors.exports import Drain, Tick, Wake
from tests.support import ApiClient, User
from tests.veza.api.cloud_helpers import settled
from tests.veza.api.export_helpers import local_path, request_export, wait_for
from tests.veza.ws.chat_support import until
from veza import keys
from veza.api.exports import worker
from veza.domain.exports import MAX_RETRIES


async def _sql(client: ApiClient, query: str, *args: Any) -> Any:
    async with client.app[keys.db].connection() as conn:
        return await conn.fetchrow(query, *args)


async def _notes(client: ApiClient, user: User, kind: str) -> list[dict[str, Any]]:
    reply = await client.get("/notifications", user=user)
    assert reply.status == 200, reply.body
    return [n for n in reply.data["notifications"] if n["kind"] == kind]


async def test_a_ready_export_is_pushed_live_and_listed_with_the_notifications(client: ApiClient) -> None:
    user = await client.register()
    ws = await client.ws(user)
    job = await request_export(client, user)
    event = await until(ws, "notification", timeout=30)
    note = event["notification"]
    assert note["kind"] == "data_export_ready" and note["subject_id"] == job["id"]
    data = note["data"]
    assert data["export_id"] == job["id"] and data["size_bytes"] > 0 and data["expires_at"]
    assert data["link_expires_at"] < data["expires_at"]
    fetched = await client.get(local_path(data["download_url"]))
    assert fetched.status == 200 and fetched.body[:2] == b"PK"
    listed = await _notes(client, user, "data_export_ready")
    assert [n["data"]["export_id"] for n in listed] == [job["id"]]
    await ws.close()


async def _settled_attempt(client: ApiClient, export_id: uuid.UUID, attempt: int) -> Any:
    """The job once its `attempt`-th attempt is over."""
    for _ in range(1000):
        row = await _sql(client, "SELECT status, attempts, error FROM data_exports WHERE id = $1", export_id)
        if row["attempts"] == attempt and row["status"] != "running":
            return row
        assert row["attempts"] <= attempt, row
        await asyncio.sleep(0.02)
    raise AssertionError(f"attempt {attempt} never ended: {row}")


def _break_scratch(app: web.Application) -> Path:
    """Where archives are written becomes a file: every attempt fails until it is back."""
    scratch = app[keys.settings].data_dir / "tmp" / "exports"
    shutil.rmtree(scratch)
    scratch.write_text("not a directory")
    return scratch


async def test_a_failing_export_is_retried_three_times_then_failed_and_notified(client: ApiClient) -> None:
    user = await client.register()
    _break_scratch(client.app)
    job = await request_export(client, user)
    export_id = uuid.UUID(job["id"])
    for attempt in range(1, MAX_RETRIES + 2):
        row = await _settled_attempt(client, export_id, attempt)
        assert row["status"] == ("queued" if attempt <= MAX_RETRIES else "failed"), row
        assert "Not a directory" in row["error"] or "exists" in row["error"], row
        if row["status"] == "queued":  # its retry is due later: let that time pass, and wake the worker
            await _sql(client, "UPDATE data_exports SET not_before = now() WHERE id = $1", export_id)
            await client.app[worker].ask(Wake())
    failed = await wait_for(client, user, job["id"], "failed")
    assert failed["download_url"] is None
    [note] = await _notes(client, user, "data_export_failed")
    assert note["data"]["export_id"] == job["id"] and "password" not in str(note["data"])
    reply = await client.get(f"/users/me/exports/{job['id']}/download", user=user, allow_redirects=False)
    assert reply.status == 404
    # A failure does not count against the interval: a new request is accepted.
    again = await client.post("/users/me/export", user=user)
    assert again.status == 202 and again.data["id"] != job["id"]


async def test_a_job_stuck_running_for_an_hour_is_retried_then_failed_for_good(client: ApiClient) -> None:
    user, other = await client.register(), await client.register()
    await client.app[worker].ask(Drain())  # nothing runs here: the rows tell the whole story
    job = await request_export(client, user)
    export_id = uuid.UUID(job["id"])
    # A worker claimed it and died: no heartbeat for 61 minutes.
    await _sql(client, "UPDATE data_exports SET status = 'running', attempts = 1,"
                       " heartbeat_at = now() - interval '61 minutes' WHERE id = $1", export_id)
    fresh = await request_export(client, other)
    await _sql(client, "UPDATE data_exports SET status = 'running', attempts = 1,"
                       " heartbeat_at = now() - interval '5 minutes' WHERE id = $1", uuid.UUID(fresh["id"]))
    from veza import feeds
    from veza.domain.exports import reap_stuck

    assert await reap_stuck(client.app[keys.db], feeds.notifier(client.app)) == 1
    row = await _sql(client, "SELECT status, attempts FROM data_exports WHERE id = $1", export_id)
    assert (row["status"], row["attempts"]) == ("queued", 1)
    alive = await _sql(client, "SELECT status FROM data_exports WHERE id = $1", uuid.UUID(fresh["id"]))
    assert alive["status"] == "running"  # five minutes of silence is not stuck
    # Its last attempt dies too: failed for good, and the user is told.
    await _sql(client, "UPDATE data_exports SET status = 'running', attempts = $2,"
                       " heartbeat_at = now() - interval '2 hours' WHERE id = $1", export_id, MAX_RETRIES + 1)
    assert await reap_stuck(client.app[keys.db], feeds.notifier(client.app)) == 1
    assert (await wait_for(client, user, job["id"], "failed"))["status"] == "failed"
    assert len(await _notes(client, user, "data_export_failed")) == 1


async def test_archives_are_deleted_after_their_retention(client: ApiClient) -> None:
    user = await client.register()
    job = await request_export(client, user)
    ready = await wait_for(client, user, job["id"])
    stored = client.app[keys.settings].data_dir / "files" / "exports" / f"{job['id']}.zip"
    assert stored.is_file()
    await _sql(client, "UPDATE data_exports SET expires_at = now() - interval '1 second' WHERE id = $1",
               uuid.UUID(job["id"]))
    await client.app[worker].ask(Tick())
    await settled(client)
    assert not stored.exists()
    expired = await wait_for(client, user, job["id"], "expired")
    assert expired["download_url"] is None
    assert (await client.get(local_path(ready["download_url"]))).status == 404
    reply = await client.get(f"/users/me/exports/{job['id']}/download", user=user, allow_redirects=False)
    assert reply.status == 404


async def test_queued_jobs_are_resumed_by_the_next_start(  # type: ignore[no-untyped-def]
        aiohttp_client, client: ApiClient) -> None:
    from veza.app import create_app

    user = await client.register()
    await client.app[worker].ask(Drain())  # this node stops before it runs the job
    job = await request_export(client, user)
    assert job["status"] == "queued"
    restarted = ApiClient(await aiohttp_client(create_app(client.app[keys.settings])))
    ready = await wait_for(restarted, user, job["id"])
    assert ready["size_bytes"] > 0


async def test_a_job_running_when_the_node_stops_is_put_back_and_finished_by_the_next(
        aiohttp_client, client: ApiClient) -> None:  # type: ignore[no-untyped-def]
    from veza.app import create_app

    user = await client.register()
    blocker = await client.app[keys.db].pool.acquire()
    try:
        async with blocker.transaction():  # the export blocks reading gear: it is mid-run, for sure
            await blocker.execute("LOCK TABLE gear IN ACCESS EXCLUSIVE MODE")
            job = await request_export(client, user)
            export_id = uuid.UUID(job["id"])
            for _ in range(500):
                row = await _sql(client, "SELECT status, attempts FROM data_exports WHERE id = $1", export_id)
                if row["status"] == "running":
                    break
                await asyncio.sleep(0.02)
            assert (row["status"], row["attempts"]) == ("running", 1)
            await client.app[worker].ask(Drain(), timeout=30)  # what the app does as it shuts down
            row = await _sql(client, "SELECT status, attempts FROM data_exports WHERE id = $1", export_id)
            assert (row["status"], row["attempts"]) == ("queued", 0)  # a shutdown is no failed attempt
    finally:
        await client.app[keys.db].pool.release(blocker)
    assert not list((client.app[keys.settings].data_dir / "tmp" / "exports").iterdir())  # no partial archive
    restarted = ApiClient(await aiohttp_client(create_app(client.app[keys.settings])))
    ready = await wait_for(restarted, user, job["id"])
    assert ready["size_bytes"] > 0

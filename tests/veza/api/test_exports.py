"""POST /users/me/export, GET /users/me/exports and the download links (issue 18)."""

from __future__ import annotations

import asyncio
import json
import uuid

from actors.exports import Drain
from tests.support import ApiClient
from tests.veza.api.export_helpers import fetch_archive, jsonl, local_path, request_export, wait_for
from veza.api.exports import worker


async def test_an_export_is_queued_then_ready_with_a_working_link(client: ApiClient) -> None:
    user = await client.register()
    job = await request_export(client, user)
    assert job["status"] in ("queued", "running") and job["download_url"] is None
    ready = await wait_for(client, user, job["id"])
    assert ready["size_bytes"] > 0 and ready["expires_at"] and ready["download_url"]
    archive = await fetch_archive(client, ready["download_url"])
    assert archive.testzip() is None
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["export_id"] == job["id"] and manifest["user_id"] == user.id
    profile = json.loads(archive.read("profile.json"))
    assert profile["username"] == user.username and profile["email"] == user.email
    assert "password_hash" not in profile
    listed = {f["path"]: f for f in manifest["files"]}
    assert listed["profile.json"]["count"] == 1
    for name in archive.namelist():
        assert not name.startswith("/") and ".." not in name.split("/") and "\\" not in name
        if name != "manifest.json":
            assert name in listed, name
    sessions = jsonl(archive, "sessions.jsonl")
    assert len(sessions) == listed["sessions.jsonl"]["count"] == 1
    assert set(sessions[0]) >= {"device", "ip_address", "created_at"}


async def test_a_second_request_answers_the_job_in_progress(client: ApiClient) -> None:
    await client.app[worker].ask(Drain())  # this node runs nothing: the jobs stay queued
    user = await client.register()
    first = await request_export(client, user)
    assert first["status"] == "queued"
    again = await asyncio.gather(*(client.post("/users/me/export", user=user) for _ in range(5)))
    assert {(r.status, r.data["id"], r.data["status"]) for r in again} == {(202, first["id"], "queued")}
    listed = await client.get("/users/me/exports", user=user)
    assert [e["id"] for e in listed.data["exports"]] == [first["id"]]


async def test_a_new_request_soon_after_a_ready_export_is_429_with_retry_after(client: ApiClient) -> None:
    user = await client.register()
    job = await request_export(client, user)
    await wait_for(client, user, job["id"])
    reply = await client.post("/users/me/export", user=user)
    assert reply.status == 429 and reply.body["code"] == "rate_limited", reply.body
    retry_after = int(reply.headers["Retry-After"])
    assert 0 < retry_after <= 24 * 3600


async def test_the_download_route_redirects_its_owner_to_a_fresh_link(client: ApiClient) -> None:
    user, other = await client.register(), await client.register()
    job = await request_export(client, user)
    await wait_for(client, user, job["id"])
    reply = await client.get(f"/users/me/exports/{job['id']}/download", user=user, allow_redirects=False)
    assert reply.status == 302, reply.body
    assert reply.headers["Location"] == reply.body["data"]["download_url"]
    archive = await fetch_archive(client, reply.headers["Location"])
    assert "manifest.json" in archive.namelist()
    for path in (f"/users/me/exports/{job['id']}/download", f"/users/me/exports/{uuid.uuid4()}/download",
                 "/users/me/exports/not-a-uuid/download"):
        reply = await client.get(path, user=other, allow_redirects=False)
        assert reply.status == 404, reply.body
    listed = await client.get("/users/me/exports", user=other)
    assert listed.data["exports"] == []


async def test_export_routes_need_a_token(client: ApiClient) -> None:
    user = await client.register()
    job = await request_export(client, user)
    for method, path in (("POST", "/users/me/export"), ("GET", "/users/me/exports"),
                         ("GET", f"/users/me/exports/{job['id']}/download")):
        reply = await client.call(method, path)
        assert reply.status == 401, (path, reply.body)


async def test_a_signed_link_that_was_tampered_with_or_names_another_export_is_404(client: ApiClient) -> None:
    user = await client.register()
    job = await request_export(client, user)
    ready = await wait_for(client, user, job["id"])
    good = local_path(ready["download_url"])
    assert (await client.get(good)).status == 200
    assert (await client.get(good.replace("signature=", "signature=0"))).status == 404
    assert (await client.get(good.replace(job["id"], str(uuid.uuid4())))).status == 404
    assert (await client.get(f"/api/v1/exports/{job['id']}/archive")).status == 404

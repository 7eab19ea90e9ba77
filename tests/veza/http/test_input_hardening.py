"""Hostile input is a 400 in the envelope, never a 500: NULs, huge offsets, trailing newlines."""

from __future__ import annotations

import uuid

import pytest

from tests.support import PASSWORD, ApiClient
from tests.veza.api.track_helpers import upload
from veza.http.edge.request_id import is_safe
from veza.validation import email_problems, url_problems, username_problems

NUL = "\x00"
BIG = "9223372036854775808"  # one past PostgreSQL's bigint


def _refused(reply, field: str) -> None:  # type: ignore[no-untyped-def]
    assert reply.status == 400, reply.body
    assert reply.body["success"] is False and field in reply.body["details"], reply.body


async def test_nul_in_any_json_string_is_400_naming_the_field(client: ApiClient) -> None:
    admin, user = await client.register(role="admin"), await client.register()
    _refused(await client.post("/developer/api-keys", user=user, json={"name": f"a{NUL}b"}), "name")
    _refused(await client.post("/reports", user=user, json={"content_type": "user", "content_id": admin.id,
                                                            "reason": f"bad{NUL}x"}), "reason")
    _refused(await client.put("/admin/maintenance", user=admin, json={"enabled": False, "message": f"m{NUL}"}),
             "message")
    _refused(await client.put("/admin/feature-flags/f1", user=admin, json={"enabled": True, "description": f"d{NUL}"}),
             "description")
    # Nested values and keys are walked too.
    _refused(await client.post("/social/posts", user=user, json={"content": "hi", "tags": ["ok", f"t{NUL}"]}),
             "tags[1]")
    key = await client.post("/social/posts", user=user, json={"content": "hi", f"x{NUL}": 1})
    assert key.status == 400 and "NUL" in key.body["error"]


async def test_escaped_backslash_before_u0000_is_ordinary_text(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    text = "see \\u0000"  # a backslash then "u0000": the JSON text holds `\\u0000`, no NUL
    name = f"lit-{uuid.uuid4().hex[:6]}"
    reply = await client.put(f"/admin/feature-flags/{name}", user=admin, json={"enabled": True, "description": text})
    assert reply.status == 200 and reply.data["description"] == text


async def test_nul_in_query_string_is_400(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    _refused(await client.get("/admin/audit?resource=%00", user=admin), "resource")
    _refused(await client.get("/social/explore?x%00=1"), "x\\u0000")
    _refused(await client.get("/upload/validate-type?filename=a%00.mp3"), "filename")


async def test_nul_in_upload_form_fields_is_400(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    _refused(await upload(client, creator, title=f"t{NUL}"), "title")
    _refused(await upload(client, creator, description=f"d{NUL}"), "description")
    _refused(await upload(client, creator, tags=f"a,b{NUL}"), "tags")


@pytest.mark.parametrize("path", ["/admin/reports", "/admin/audit", "/users/me/warnings", "/conversations",
                                  "/conversations/public", "/live/streams", "/notifications", "/social/explore"])
async def test_offset_past_the_bound_is_400(client: ApiClient, path: str) -> None:
    admin = await client.register(role="admin")
    _refused(await client.get(f"{path}?offset={BIG}", user=admin), "offset")
    _refused(await client.get(f"{path}?offset=100001", user=admin), "offset")
    assert (await client.get(f"{path}?offset=100000", user=admin)).status == 200


async def test_upload_size_query_is_bounded(client: ApiClient) -> None:
    _refused(await client.get(f"/upload/validate-type?filename=a.mp3&size={BIG}0"), "size")
    assert (await client.get(f"/upload/validate-type?filename=a.mp3&size={10**12}")).data["valid"] is False


async def test_register_refuses_trailing_newline(client: ApiClient) -> None:
    name = f"u_{uuid.uuid4().hex[:8]}"
    reply = await client.post("/auth/register", json={"username": name + "\n", "email": f"{name}@example.com",
                                                      "password": PASSWORD})
    _refused(reply, "username")
    reply = await client.post("/auth/register", json={"username": name, "email": f"{name}@example.com\n",
                                                      "password": PASSWORD})
    _refused(reply, "email")


def test_whole_string_rules_refuse_a_trailing_newline() -> None:
    assert username_problems("alice\n") and not username_problems("alice")
    assert email_problems("a@example.com\n") and not email_problems("a@example.com")
    assert url_problems("https://example.com\n") and not url_problems("https://example.com")
    assert not is_safe("req-1\n") and is_safe("req-1")

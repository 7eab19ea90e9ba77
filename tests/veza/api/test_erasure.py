"""Account erasure: `DELETE /users/me` with the password, `DELETE /admin/users/:id` (issue 18).

Erasure leaves no row that names the user (a walk of every column pointing at users, and
of every row's text for their id, username and email) outside the kept records; what others
rely on is still there, detached, and another user's view of a shared room still works."""

from __future__ import annotations

import uuid
from typing import Any

from tests.support import PASSWORD, ApiClient, User
from tests.veza.api.account_data import fill_every_domain, ok
from tests.veza.api.cloud_helpers import settled
from tests.veza.api.export_helpers import request_export, wait_for
from tests.veza.domain.user_columns import user_columns
from tests.veza.ws.chat_support import closed_with, joined
from veza import keys
from veza.domain.erasure import KEPT

DELETED = "00000000-0000-0000-0000-000000000000"


async def _erase(client: ApiClient, user: User, password: str = PASSWORD, **kw: Any) -> Any:
    return await client.delete("/users/me", user=user, json={"password": password}, **kw)


async def _rows_naming(client: ApiClient, user: User) -> dict[str, int]:
    """Rows outside KEPT that still name the user: by a column pointing at users, or by the
    user's id, username or email anywhere in a row's text."""
    found: dict[str, int] = {}
    user_id = uuid.UUID(user.id)
    async with client.app[keys.db].connection() as conn:
        for column in sorted(await user_columns(conn) - set(KEPT)):
            table, name = column.split(".")
            if n := await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE "{name}" = $1', user_id):
                found[column] = n
        kept_tables = {column.split(".")[0] for column in KEPT}
        tables = [r["table_name"] for r in await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
            " AND table_type = 'BASE TABLE'")]
        for table in sorted(set(tables) - kept_tables):
            for needle in (user.id, user.username, user.email):
                if n := await conn.fetchval(f'SELECT count(*) FROM "{table}" t WHERE strpos(t::text, $1) > 0', needle):
                    found[f"{table} ({needle})"] = n
    return found


async def test_erasure_leaves_no_row_naming_the_user_and_keeps_what_others_rely_on(client: ApiClient) -> None:
    me, other = await client.register(role="creator"), await client.register(role="creator")
    made = await fill_every_domain(client, me, other)
    job = await request_export(client, me)
    await wait_for(client, me, job["id"])
    stored_before = {p for p in (client.app[keys.settings].data_dir / "files").rglob("*") if p.is_file()}
    socket = await client.ws(me)

    reply = await _erase(client, me)
    assert reply.status == 200 and reply.data == {"id": me.id, "username": me.username, "erased": True}, reply.body
    assert await closed_with(socket) == 4001  # every session revoked, its sockets closed
    await settled(client)
    assert await _rows_naming(client, me) == {}

    # Personal files are gone from storage: track audio, cloud file, gear document, export archive.
    stored_after = {p for p in (client.app[keys.settings].data_dir / "files").rglob("*") if p.is_file()}
    gone = stored_before - stored_after
    assert any(me.id in str(p) for p in gone) and any(job["id"] in p.name for p in gone)
    assert not any(me.id in str(p) or job["id"] in p.name for p in stored_after)
    assert (await client.get("/users/me", user=me)).status == 401
    assert (await client.get("/users/me", headers={"X-API-Key": made["api_key"]["key"]})).status == 401
    assert (await client.post("/auth/refresh", json={"refresh_token": me.refresh_token})).status == 401

    # The shared room still reads for the other member: their message intact, mine detached.
    history = await ok(await client.get(f"/conversations/{made['room']['id']}/history", user=other))
    by_content = {m["content"]: m for m in history["messages"]}
    assert made["their_message"] in by_content
    mine = [m for m in history["messages"] if m["author"]["id"] == DELETED]
    assert [(m["author"]["username"], m["content"]) for m in mine] == [("deleted user", "")]
    ws = await client.ws(other)
    frame = await joined(ws, made["room"]["id"])
    assert {m["content"] for m in frame["messages"]} == {made["their_message"], ""}
    await ws.close()
    # My comment on their track stays in the thread, as "deleted user" without its text.
    comments = await ok(await client.get(f"/tracks/{made['their_track']['id']}/comments"))
    assert [(c["author_id"], c["author_username"], c["content"]) for c in comments["comments"]] == [
        (DELETED, "deleted user", "")]
    # Orders stay for accounting: theirs of my product, and mine of theirs (seen by its seller).
    sold = await ok(await client.get(f"/marketplace/orders/{made['sold_order']['id']}", user=other))
    assert sold["status"] == "paid" and sold["items"][0]["seller_id"] is None
    bought = await ok(await client.get(f"/marketplace/orders/{made['order']['id']}", user=other))
    assert bought["buyer_id"] is None and bought["status"] == "paid"
    invoice = await client.get(f"/marketplace/orders/{made['sold_order']['id']}/invoice", user=other)
    assert invoice.status == 200 and invoice.body[:4] == b"%PDF"
    # The username and the email are free again.
    again = await client.post("/auth/register", json={"username": me.username, "email": me.email,
                                                      "password": PASSWORD})
    assert again.status == 201, again.body
    async with client.app[keys.db].connection() as conn:
        entry = await conn.fetchrow("SELECT user_id, route, via FROM audit_log WHERE action = 'ERASE' AND resource = $1",
                                    f"/users/{me.id}")
    assert entry is not None and str(entry["user_id"]) == me.id and entry["via"] == "self"


async def test_a_wrong_password_is_401_and_erases_nothing(client: ApiClient) -> None:
    me = await client.register()
    reply = await _erase(client, me, "not my password")
    assert reply.status == 401 and reply.body["code"] == "unauthorized", reply.body
    assert (await client.delete("/users/me", user=me, json={})).status == 400
    assert (await client.delete("/users/me", json={"password": PASSWORD})).status == 401
    assert (await client.get("/users/me", user=me)).status == 200


async def test_an_api_key_cannot_erase_its_account(client: ApiClient) -> None:
    me = await client.register()
    key = await ok(await client.post("/developer/api-keys", user=me, json={"name": "ci", "scopes": ["write"]}), 201)
    reply = await client.delete("/users/me", headers={"X-API-Key": key["key"]}, json={"password": PASSWORD})
    assert reply.status == 403, reply.body
    assert (await client.get("/users/me", user=me)).status == 200


async def test_admins_erase_other_accounts_but_not_their_own_or_another_admins(client: ApiClient) -> None:
    admin, second_admin = await client.register(role="admin"), await client.register(role="admin")
    user, bystander = await client.register(), await client.register()
    assert (await client.delete(f"/admin/users/{user.id}", user=bystander)).status == 403
    assert (await client.delete(f"/admin/users/{user.id}")).status == 401
    assert (await client.delete(f"/admin/users/{admin.id}", user=admin)).status == 403
    assert (await client.delete(f"/admin/users/{second_admin.id}", user=admin)).status == 403
    assert (await client.delete(f"/admin/users/{uuid.uuid4()}", user=admin)).status == 404
    reply = await client.delete(f"/admin/users/{user.id}", user=admin)
    assert reply.status == 200 and reply.data["id"] == user.id, reply.body
    assert (await client.get("/users/me", user=user)).status == 401
    assert (await client.delete(f"/admin/users/{user.id}", user=admin)).status == 404
    await settled(client)
    assert await _rows_naming(client, user) == {}
    async with client.app[keys.db].connection() as conn:
        entry = await conn.fetchrow("SELECT user_id, via FROM audit_log WHERE action = 'ERASE' AND resource = $1",
                                    f"/users/{user.id}")
    assert str(entry["user_id"]) == admin.id and entry["via"] == "admin"


async def test_a_single_nodes_live_room_forgets_the_erased_messages_it_cached(  # type: ignore[no-untyped-def]
        aiohttp_client, settings) -> None:
    """Without Redis a room answers joins from its cache of recent messages: erasure must
    not leave the erased text there."""
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings.replace(redis_url=None))))
    me, other = await client.register(), await client.register()
    room = await ok(await client.post("/conversations", user=me, json={"type": "group", "name": "Duo",
                                                                       "members": [other.id]}), 201)
    await ok(await client.post(f"/conversations/{room['id']}/messages", user=me, json={"content": "erase me"}), 201)
    await ok(await client.post(f"/conversations/{room['id']}/messages", user=other, json={"content": "keep me"}), 201)
    ws = await client.ws(other)
    assert [m["content"] for m in (await joined(ws, room["id"]))["messages"]] == ["erase me", "keep me"]
    await ws.close()
    assert (await _erase(client, me)).status == 200
    ws = await client.ws(other)
    frame = await joined(ws, room["id"])
    assert [(m["author"]["username"], m["content"]) for m in frame["messages"]] == [
        ("deleted user", ""), (other.username, "keep me")]
    await ws.close()


async def test_a_live_broadcast_ends_for_its_watchers_when_its_owner_is_erased(  # type: ignore[no-untyped-def]
        aiohttp_client, settings) -> None:
    from tests.veza.live_support import HOOK_SECRET, publish_rtmp
    from tests.veza.ws.chat_support import until
    from veza.app import create_app

    client = ApiClient(await aiohttp_client(create_app(settings.replace(live_hook_secret=HOOK_SECRET))))
    me, fan = await client.register(role="creator"), await client.register()
    stream = await ok(await client.post("/live/streams", user=me, json={"title": "Last show"}), 201)
    assert (await publish_rtmp(client, stream["stream_key"])).status == 302
    ws = await client.ws(fan)
    await ws.send_json({"type": "watch", "stream": stream["id"]})
    assert (await until(ws, "stream_state"))["live"] is True
    assert (await _erase(client, me)).status == 200
    await until(ws, "stream_offline")
    assert (await client.get(f"/live/streams/{stream['id']}")).status == 404
    assert (await publish_rtmp(client, stream["stream_key"])).status == 403  # the key is gone with the account
    await ws.close()

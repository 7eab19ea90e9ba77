"""CCPA: Sec-GPC -> do_not_sell in the request and GPC: 1 back; the opt-out is persisted."""

from __future__ import annotations

from tests.support import ApiClient


async def test_gpc_header_is_echoed_on_every_response(client: ApiClient) -> None:
    for path in ("/health", "/users/me", "/no/such/route"):
        reply = await client.get(path, headers={"Sec-GPC": "1"})
        assert reply.headers.get("GPC") == "1", path
    assert "GPC" not in (await client.get("/health")).headers
    assert "GPC" not in (await client.get("/health", headers={"Sec-GPC": "0"})).headers


async def test_gpc_reaches_the_handler(client: ApiClient) -> None:
    user = await client.register()
    with_gpc = await client.get("/users/me/privacy", user=user, headers={"Sec-GPC": "1"})
    assert with_gpc.data["gpc"] is True
    assert (await client.get("/users/me/privacy", user=user)).data["gpc"] is False


async def test_opt_out_is_persisted_and_reversible(client: ApiClient) -> None:
    user = await client.register()
    assert (await client.get("/users/me/privacy", user=user)).data["do_not_sell"] is False
    reply = await client.post("/users/me/privacy/opt-out", user=user, json={"do_not_sell": True})
    assert reply.status == 200 and reply.data["do_not_sell"] is True and reply.data["updated_at"]
    assert (await client.get("/users/me/privacy", user=user)).data["do_not_sell"] is True
    back = await client.post("/users/me/privacy/opt-out", user=user, json={"do_not_sell": False})
    assert back.data["do_not_sell"] is False


async def test_opt_out_auth_and_bad_input(client: ApiClient) -> None:
    assert (await client.post("/users/me/privacy/opt-out", json={"do_not_sell": True})).status == 401
    user = await client.register()
    for body in ({"do_not_sell": "yes"}, {"do_not_sell": True, "extra": 1}):
        reply = await client.post("/users/me/privacy/opt-out", user=user, json=body)
        assert reply.status == 400 and reply.body["details"], body

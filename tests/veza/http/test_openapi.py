"""The OpenAPI document is generated from the routes, valid, complete; Swagger UI is local."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from tests.support import ApiClient

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _mounted_api_routes(client: ApiClient) -> set[tuple[str, str]]:
    routes = set()
    for route in client.app.router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter")
        if not path or not path.startswith("/api/v1/") or route.method in ("HEAD", "OPTIONS", "*"):
            continue
        routes.add((route.method.lower(), _PARAM.sub(r"{\1}", path)))
    return routes


async def test_openapi_document_is_valid_openapi_3(client: ApiClient) -> None:
    reply = await client.get("/openapi.json")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
    doc = reply.body
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] and doc["info"]["version"]
    validate(doc)  # raises with the offending pointer when the document is not valid OpenAPI


async def test_every_mounted_api_route_is_documented(client: ApiClient) -> None:
    doc = (await client.get("/openapi.json")).body
    documented = {(method, path) for path, ops in doc["paths"].items() for method in ops}
    mounted = _mounted_api_routes(client) - {("get", "/api/v1/openapi.json")}
    assert mounted, "no routes mounted?"
    assert mounted - documented == set()
    assert documented - mounted == set()


async def test_operations_declare_their_schemas_and_auth(client: ApiClient) -> None:
    doc = (await client.get("/openapi.json")).body
    register = doc["paths"]["/api/v1/auth/register"]["post"]
    assert set(register["responses"]) >= {"201", "400"}
    body_ref = register["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body_schema = doc["components"]["schemas"][body_ref.rsplit("/", 1)[-1]]
    assert set(body_schema["required"]) == {"username", "email", "password"}
    data = register["responses"]["201"]["content"]["application/json"]["schema"]["properties"]["data"]
    out = doc["components"]["schemas"][data["$ref"].rsplit("/", 1)[-1]]
    assert {"user", "access_token", "refresh_token", "expires_in"} <= set(out["properties"])
    me = doc["paths"]["/api/v1/users/me"]["get"]
    assert "401" in me["responses"] and {"bearer": []} in me["security"]
    assert "security" not in doc["paths"]["/api/v1/health"]["get"]
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids)), "operationIds must be unique"


async def test_swagger_ui_is_served_from_local_assets(client: ApiClient) -> None:
    reply = await client.get("/swagger")
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/html")
    page = reply.body.decode()
    assert 'id="swagger-ui"' in page
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(a.startswith("/swagger/") for a in assets), assets  # no CDN
    for asset in assets:
        async with client.raw.get(asset) as resp:
            assert resp.status == 200, asset
            assert len(await resp.read()) > 0
    init = await client.get("/swagger/init.js")
    assert "/api/v1/openapi.json" in init.body.decode()


async def test_operations_document_the_errors_the_edge_can_answer(client: ApiClient) -> None:
    paths = (await client.get("/openapi.json")).body["paths"]

    def statuses(method: str, path: str) -> set[str]:
        return set(paths["/api/v1" + path][method]["responses"])

    comment = statuses("post", "/social/comments")
    assert {"201", "400", "401", "403", "404", "413", "415", "429", "503"} <= comment  # 404: post_id names nothing
    assert {"404", "403", "401"} <= statuses("delete", "/tracks/{id}/comments/{comment_id}")
    assert "429" not in statuses("get", "/health") and "503" not in statuses("get", "/health")
    assert "401" not in statuses("get", "/tracks") and "404" not in statuses("get", "/tracks")
    upload = paths["/api/v1/tracks"]["post"]["responses"]["503"]["description"]
    assert "`uploads`" in upload and "maintenance" in upload
    market = paths["/api/v1/conversations"]["get"]["responses"]["503"]["description"]
    assert "`chat`" in market

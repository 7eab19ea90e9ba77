"""/favicon.ico is served (an icon, cached, with the edge's headers), HEAD too."""

from __future__ import annotations

from tests.support import ApiClient
from veza.app import STATIC_DIR


async def test_favicon_is_an_icon_with_the_edge_headers(client: ApiClient) -> None:
    async with client.raw.get("/favicon.ico") as resp:
        body = await resp.read()
        assert resp.status == 200
        assert resp.headers["Content-Type"] in ("image/vnd.microsoft.icon", "image/x-icon")
        assert resp.headers["Cache-Control"] == "public, max-age=86400"
        assert "X-Request-ID" in resp.headers and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert body == (STATIC_DIR / "favicon.ico").read_bytes()
    assert body[:4] == b"\x00\x00\x01\x00"  # the ICO header: reserved 0, type 1 (icon)
    async with client.raw.head("/favicon.ico") as resp:
        assert resp.status == 200 and resp.headers["Content-Length"] == str(len(body))


async def test_other_methods_on_the_favicon_are_405_in_the_envelope(client: ApiClient) -> None:
    async with client.raw.post("/favicon.ico") as resp:
        assert resp.status == 405 and (await resp.json())["code"] == "method_not_allowed"
        assert "GET" in resp.headers["Allow"]

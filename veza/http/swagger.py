"""Swagger UI at /swagger, from the swagger-ui-py package's local assets (no CDN).

swagger-ui-py ships Swagger UI 5, which renders OpenAPI 3.1 (the JSON Schema dialect
msgspec generates); the older swagger-ui-bundle (Swagger UI 4) cannot.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from aiohttp import web

from veza import keys
from veza.http.static_files import add_static_files

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Veza API</title>
<link rel="stylesheet" href="/swagger/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/swagger/assets/swagger-ui-bundle.js"></script>
<script src="/swagger/init.js"></script></body></html>
"""
# A separate file rather than an inline script: the CSP allows only same-origin scripts.
_INIT = 'window.ui = SwaggerUIBundle({url: "/api/v1/openapi.json", dom_id: "#swagger-ui", deepLinking: true});\n'


def mount_swagger(app: web.Application) -> None:
    async def page(request: web.Request) -> web.Response:
        return web.Response(text=_PAGE, content_type="text/html")

    async def init(request: web.Request) -> web.Response:
        return web.Response(text=_INIT, content_type="application/javascript")

    edge = app[keys.edge]
    for path, handler in (("/swagger", page), ("/swagger/", page), ("/swagger/init.js", init)):
        edge.add_get(app.router, path, handler)
    add_static_files(app, "/swagger/assets", Path(str(resources.files("swagger_ui") / "static")))

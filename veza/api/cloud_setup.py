"""What the cloud routes need from the app: the storage garbage collector (`cloud_ctx`, one
of the app's resources) and the share page templates (set up when the router is mounted)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp_jinja2
import jinja2
from aiohttp import web

from veza import keys
from veza.config import Settings
from veza.domain.cloud import Limits
from veza.domain.cloud_garbage import Collector
from veza.http.routing import ApiRouter

collector: web.AppKey[Collector] = web.AppKey("cloud_collector", Collector)
templates: web.AppKey[jinja2.Environment] = web.AppKey("cloud_templates", jinja2.Environment)

SHARE_PAGE = "cloud_share.html"
_SHARE_PAGE_SOURCE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{{ name }} · Veza</title>
<style>
body { font-family: system-ui, sans-serif; margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f4f6; }
main { background: #fff; padding: 2rem 2.5rem; border-radius: 12px; box-shadow: 0 2px 12px rgba(0,0,0,.08); max-width: 32rem; }
h1 { font-size: 1.3rem; word-break: break-word; margin: 0 0 .5rem; }
p { color: #555; margin: .25rem 0; }
a.button { display: inline-block; margin-top: 1.25rem; padding: .7rem 1.4rem; background: #5b3df5; color: #fff; border-radius: 8px; text-decoration: none; }
</style>
</head>
<body>
<main>
<h1>{{ name }}</h1>
<p>{{ size }}{% if mime_type %} · {{ mime_type }}{% endif %}</p>
{% if expires_at %}<p>Link expires {{ expires_at }}</p>{% endif %}
{% if download_url %}<a class="button" href="{{ download_url }}" download>Download</a>{% endif %}
</main>
</body>
</html>
"""


def limits(settings: Settings) -> Limits:
    return Limits(quota_bytes=settings.cloud_quota_bytes, max_file_bytes=settings.cloud_max_file_bytes,
                  max_versions=settings.cloud_max_versions)


async def cloud_ctx(app: web.Application) -> AsyncIterator[None]:
    """The storage garbage collector: in `veza.app.RESOURCES` after storage, so it starts
    after storage and stops before it."""
    app[collector] = Collector(app[keys.db], app[keys.storage])
    app[collector].start_sweep()  # what an earlier run left listed
    yield
    await app[collector].close()


class CloudRouter(ApiRouter):
    """An ApiRouter that also sets up the share page templates."""

    def add_to(self, app: web.Application, prefix: str = "/api/v1") -> None:
        super().add_to(app, prefix)
        aiohttp_jinja2.setup(app, app_key=templates, autoescape=True,
                             loader=jinja2.DictLoader({SHARE_PAGE: _SHARE_PAGE_SOURCE}))

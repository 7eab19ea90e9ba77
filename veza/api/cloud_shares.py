"""Share links: create, list, revoke (owner), and the public side: the shared file's
metadata (JSON, or a page for a browser) and its download.

Unknown, expired and revoked tokens answer the same 404; lookups are rate limited per IP
(CLOUD_SHARE_RATE_LIMIT per CLOUD_SHARE_RATE_WINDOW seconds). Nothing public says who
owns the file.
"""

from __future__ import annotations

import math
from typing import Any

import aiohttp_jinja2
from aiohttp import web

from veza import keys
from veza.api.downloads import send_stored
from veza.api.cloud_schemas import ShareCreatedOut, ShareIn, ShareListOut, ShareOut, SharedFileOut, pick
from veza.api.cloud_setup import SHARE_PAGE, templates
from veza.domain import cloud_shares as rules
from veza.http.auth import Principal
from veza.http.client_info import client_ip
from veza.http.envelope import ok
from veza.http.errors import NotFound, RateLimited
from veza.http.routing import ApiRouter, path_uuid

router = ApiRouter("cloud")
_PAGE_MIME = "text/html"


def _shared_url(request: web.Request, token: str, suffix: str = "") -> str:
    return f"{request.app[keys.settings].app_domain.rstrip('/')}/api/v1/cloud/shared/{token}{suffix}"


@router.post("/cloud/files/{id}/share", auth="required", body=ShareIn, body_optional=True, response=ShareCreatedOut,
             errors=(409,),
             summary="Create a read-only share link (expires_in_hours 1..720); the token is shown only now")
async def create_share(request: web.Request, body: ShareIn, principal: Principal) -> web.Response:
    file_id = path_uuid(request)
    async with request.app[keys.db].transaction() as conn:
        share, token = await rules.create_share(conn, principal.user_id, file_id, body.permissions,
                                                body.expires_in_hours)
    return ok(ShareCreatedOut(id=share["id"], share_url=_shared_url(request, token), token=token,
                              expires_at=share["expires_at"]))


@router.get("/cloud/files/{id}/shares", auth="required", response=ShareListOut,
            summary="A file's share links, newest first (their tokens are never shown again)")
async def list_shares(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows = await rules.list_shares(conn, principal.user_id, path_uuid(request))
    return ok(ShareListOut(shares=[pick(ShareOut, r, active=rules.is_active(r)) for r in rows]))


@router.delete("/cloud/shares/{id}", auth="required", response=ShareOut, summary="Revoke a share link")
async def revoke_share(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].transaction() as conn:
        row = await rules.revoke(conn, principal.user_id, path_uuid(request))
    return ok(pick(ShareOut, row, active=False))


async def _check_rate(request: web.Request) -> None:
    settings = request.app[keys.settings]
    try:
        (window,) = await request.app[keys.counters].hit(("cloud-share:" + client_ip(request),),
                                                         settings.cloud_share_rate_window)
    except Exception:  # noqa: BLE001 - the counter store being down must not close shared links
        return
    if window.count > settings.cloud_share_rate_limit:
        raise RateLimited("Too many share link lookups", headers={"Retry-After": str(max(1, math.ceil(window.reset_in)))},
                          details={"limit": settings.cloud_share_rate_limit,
                                   "window_seconds": settings.cloud_share_rate_window})


async def _open(request: web.Request) -> dict[str, Any]:
    await _check_rate(request)
    async with request.app[keys.db].connection() as conn:
        return await rules.open_share(conn, request.match_info["token"])


def wants_page(accept: str) -> bool:
    """A browser's navigation (text/html preferred over JSON), not an API client."""
    best: dict[str, float] = {}
    for position, item in enumerate(accept.split(",")[:50]):
        kind, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        best.setdefault(kind.lower(), q - position * 1e-6)
    html, json_ = best.get(_PAGE_MIME, 0.0), best.get("application/json", 0.0)
    return html > 0 and html > json_


def _size(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} bytes"


def _page(request: web.Request, share: dict[str, Any] | None) -> web.Response:
    if share is None:
        context = {"name": "This link is not available", "size": "It may have expired or been revoked.",
                   "mime_type": "", "expires_at": "", "download_url": None}
        status = 404
    else:
        context = {"name": share["name"], "size": _size(share["size_bytes"]), "mime_type": share["mime_type"],
                   "expires_at": share["expires_at"].strftime("%Y-%m-%d %H:%M UTC"),
                   "download_url": _shared_url(request, request.match_info["token"], "/download")}
        status = 200
    return aiohttp_jinja2.render_template(SHARE_PAGE, request, context, app_key=templates, status=status)


@router.get("/cloud/shared/{token}", response=SharedFileOut,
            summary="A shared file's metadata (public); a browser asking for HTML gets a download page")
async def shared_file(request: web.Request) -> web.Response:
    page = wants_page(request.headers.get("Accept", ""))
    try:
        share = await _open(request)
    except NotFound:
        if page:
            return _page(request, None)
        raise
    if page:
        return _page(request, share)
    return ok(SharedFileOut(name=share["name"], size_bytes=share["size_bytes"], mime_type=share["mime_type"],
                            expires_at=share["expires_at"], permissions=share["permissions"],
                            download_url=_shared_url(request, request.match_info["token"], "/download")))


@router.get("/cloud/shared/{token}/download", produces="*/*", success_also=(206,), errors=(416,),
            summary="A shared file's content (public; single Range, 206/416)")
async def shared_download(request: web.Request) -> web.StreamResponse:
    share = await _open(request)
    return await send_stored(request, share["storage_key"], share["name"], share["mime_type"],
                             cache="private, no-store")

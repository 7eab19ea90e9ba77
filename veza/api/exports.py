"""GDPR data exports over REST (issue 18), mounted on the users router by `add_routes`:

- `POST /users/me/export` -> 202 with the job (the one already queued or running, if any);
  429 with Retry-After within EXPORT_MIN_INTERVAL of the last ready export.
- `GET /users/me/exports` -> the user's exports, newest first, with a fresh link when ready.
- `GET /users/me/exports/:id/download` -> 302 to a fresh link (404 for anyone else's).
- `GET /exports/:id/archive?expires&signature` -> the archive, for a signed local link
  (local storage; with S3 the link is a presigned URL and this route is not used).

`exports_ctx` (one of the app's RESOURCES) hands the ExportWorker its services.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
from aiohttp import web

from actors import ActorDead, ActorRef, MailboxFull
from actors.exports import Drain, ExportServices, ExportWorker, Wake
from veza import feeds, keys
from veza.api.cloud_setup import collector
from veza.api.marketplace_schemas import SignedQuery
from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset
from veza.domain import export_job
from veza.domain import exports as rules
from veza.domain.errors import NotFound
from veza.http.auth import Principal
from veza.http.envelope import ok
from veza.http.routing import ApiRouter, path_uuid
from veza.security.tokens import load_or_create_dev_secret
from veza.services.signed_links import SignedLinks
from veza.services.streaming import stream_object
from veza.store import exports as store

worker: web.AppKey[ActorRef[ExportWorker]] = web.AppKey("export_worker", ActorRef)
links: web.AppKey[rules.Links] = web.AppKey("export_links", rules.Links)
signer: web.AppKey[SignedLinks] = web.AppKey("export_signer", SignedLinks)


class ExportOut(msgspec.Struct):
    id: UUID
    status: str  # queued, running, ready, failed, expired
    size_bytes: int | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    download_url: str | None  # a fresh link (at most five minutes), only when ready


class ExportList(msgspec.Struct):
    exports: list[ExportOut]
    total: int


class ExportsQuery(msgspec.Struct, forbid_unknown_fields=False):
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class LinkOut(msgspec.Struct):
    download_url: str
    expires_at: dt.datetime


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


async def _out(request: web.Request, job: dict[str, Any]) -> ExportOut:
    url = (await request.app[links].fresh(job, _origin(request)))[0] if rules.downloadable(job) else None
    return ExportOut(id=job["id"], status=job["status"], size_bytes=job["size_bytes"], created_at=job["created_at"],
                     expires_at=job["expires_at"], download_url=url)


def wake(app: web.Application) -> None:
    try:
        app[worker].tell(Wake())
    except (MailboxFull, ActorDead):
        pass  # the job is a committed row: the worker's next tick finds it


async def request_export(request: web.Request, principal: Principal) -> web.Response:
    app = request.app
    job = await rules.request(app[keys.db], principal.user_id, app[keys.settings].export_min_interval)
    wake(app)
    return ok(await _out(request, job), status=202)


async def list_exports(request: web.Request, query: ExportsQuery, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        rows, total = await store.list_for_user(conn, principal.user_id, query.limit, query.offset)
    return ok(ExportList(exports=[await _out(request, row) for row in rows], total=total))


async def download(request: web.Request, principal: Principal) -> web.Response:
    async with request.app[keys.db].connection() as conn:
        job = await rules.download(conn, principal.user_id, path_uuid(request))
    url, expires = await request.app[links].fresh(job, _origin(request))
    return ok(LinkOut(download_url=url, expires_at=expires), status=302,
              headers={"Location": url, "Cache-Control": "no-store"})


async def archive(request: web.Request, query: SignedQuery) -> web.StreamResponse:
    app = request.app
    export_id = path_uuid(request)
    if not app[signer].valid(rules.archive_path(export_id), query.expires, query.signature):
        raise NotFound("This download link is invalid or has expired")
    async with app[keys.db].connection() as conn:
        job = await rules.by_signed_link(conn, export_id)
    return await stream_object(request, app[keys.storage], job["storage_key"], "application/zip", headers={
        "Content-Disposition": f'attachment; filename="{rules.archive_name(job)}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


def add_routes(router: ApiRouter) -> None:
    """Declare the export routes on `router` (the users router)."""
    router.post("/users/me/export", response=ExportOut, status=202, auth="required",
                summary="Ask for a GDPR export of all my data; a notification brings the download link")(request_export)
    router.get("/users/me/exports", query=ExportsQuery, response=ExportList, auth="required",
               summary="My data exports, newest first (a fresh download link on the ready ones)")(list_exports)
    router.get("/users/me/exports/{id}/download", response=LinkOut, status=302, auth="required",
               summary="Redirect to a fresh download link of one of my ready exports")(download)
    router.get(rules.ARCHIVE_ROUTE, query=SignedQuery, produces="application/zip",
               summary="The archive a signed export link points to (no token; the signature is the proof)")(archive)


async def exports_ctx(app: web.Application) -> AsyncIterator[None]:
    """The ExportWorker's services (after storage, the cloud collector and the actors)."""
    settings = app[keys.settings]
    db, storage = app[keys.db], app[keys.storage]
    app[signer] = SignedLinks(settings.jwt_secret or load_or_create_dev_secret(settings.data_dir))
    app[links] = rules.Links(storage, app[signer], settings.download_link_ttl)
    push = feeds.notifier(app)
    scratch = await asyncio.to_thread(_scratch, settings.data_dir)
    job_services = export_job.JobServices(db=db, storage=storage, scratch=scratch, links=app[links],
                                          origin=settings.app_domain, retention=settings.export_retention, push=push)

    async def claim() -> dict[str, Any] | None:
        async with db.connection() as conn:
            return await store.claim(conn)

    async def maintain() -> None:
        await rules.reap_stuck(db, push)
        await rules.expire(db, app[collector])

    system = app[keys.actors]
    system.provide(ExportWorker, ExportServices(claim=claim, run=functools.partial(export_job.run, job_services),
                                                maintain=maintain, concurrency=settings.export_concurrency,
                                                interval=settings.export_poll_interval))
    app[worker] = system.ref(ExportWorker, "node")
    wake(app)  # resume what was queued before this start
    yield
    try:  # before storage closes: running jobs are put back for the next start
        await app[worker].ask(Drain(), timeout=10.0)
    except (TimeoutError, ActorDead):
        pass


def _scratch(data_dir: Path) -> Path:
    """Where archives are written before storage takes them; partial ones of a crash go."""
    scratch = data_dir / "tmp" / "exports"
    scratch.mkdir(parents=True, exist_ok=True)
    for leftover in scratch.glob("*.zip"):
        leftover.unlink(missing_ok=True)
    return scratch

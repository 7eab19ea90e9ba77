"""Running one data export job: every exporter into a zip, the zip into storage, the job
ready and its owner notified; or the attempt failed (retried, or failed and notified).

The whole archive is read in one REPEATABLE READ, read-only transaction, so all domains are
seen at one instant. While it runs, a heartbeat on another connection says the job is
alive; when the heartbeat finds the job taken away (reaped, or the account erased) the
work stops and nothing is kept. Every change names the attempt (`store` fences on it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
from pathlib import Path
from typing import Any, Protocol

from veza.domain.export_archive import ZipArchive
from veza.domain.export_registry import exporters
from veza.domain.exports import MAX_ATTEMPTS, RETRY_DELAY, Links, Push, failed_notice
from veza.domain.notifications import notify
from veza.domain.unit_of_work import unit_of_work
from veza.store import exports as store

log = logging.getLogger("veza.exports")
FORMAT = "veza-data-export"
VERSION = 1


class Storage(Protocol):
    async def put_file(self, key: str, source: Path, content_type: str) -> None: ...

    async def delete(self, key: str) -> None: ...

    async def size(self, key: str) -> int: ...

    def read(self, key: str, start: int, end: int) -> Any: ...

    async def presigned_url(self, key: str, ttl: int, filename: str, content_type: str) -> str | None: ...


@dataclasses.dataclass(frozen=True, slots=True)
class JobServices:
    db: Any
    storage: Storage
    scratch: Path  # where archives are written before they go to storage
    links: Links
    origin: str  # APP_DOMAIN: the signed local link's origin in notifications
    retention: int  # seconds a ready archive is kept
    push: Push  # the live push of a committed notification
    heartbeat: float = 30.0


class JobLost(Exception):
    """The job is no longer this attempt's (reaped as stuck, or the account erased)."""


async def run(services: JobServices, job: dict[str, Any]) -> None:
    """Run a claimed job to its end; never raises but for cancellation (then the job is put back)."""
    try:
        built = await _build(services, job)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            async with services.db.connection() as conn:
                await store.requeue(conn, job["id"], job["attempts"])
        raise
    except JobLost:
        log.warning("export %s: attempt %d lost its job; nothing kept", job["id"], job["attempts"])
        return
    except Exception as exc:  # noqa: BLE001 - any failure is this attempt's: retried or failed
        log.exception("export %s: attempt %d failed", job["id"], job["attempts"])
        await _failed(services, job, exc)
        return
    await _ready(services, job, *built)


def storage_key(job: dict[str, Any]) -> str:
    return f"exports/{job['id']}.zip"


async def _build(services: JobServices, job: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
    path = services.scratch / f"{job['id']}.{job['attempts']}.zip"
    archive = ZipArchive(path, services.storage)
    alive = _Heartbeat(services, job)
    try:
        async with alive:
            await archive.open()
            async with services.db.connection() as conn, conn.transaction(isolation="repeatable_read",
                                                                          readonly=True):
                names = []
                for exporter in exporters():
                    alive.check()
                    await exporter.run(archive, conn, job["user_id"])
                    names.append(exporter.name)
            manifest = _manifest(job, archive, names)
            await archive.document("manifest.json", manifest)
            size = await archive.close()
            alive.check()
            key = storage_key(job)
            await services.storage.put_file(key, path, "application/zip")
    except BaseException:
        await archive.abort()
        raise
    return key, size, manifest


def _manifest(job: dict[str, Any], archive: ZipArchive, names: list[str]) -> dict[str, Any]:
    return {
        "format": FORMAT, "version": VERSION, "export_id": str(job["id"]), "user_id": str(job["user_id"]),
        "requested_at": job["created_at"].isoformat(), "generated_at": dt.datetime.now(dt.UTC).isoformat(),
        "exporters": names, "files": list(archive.entries), "missing_files": list(archive.missing),
        "notes": "JSON lines files hold one record per line; files/ holds the stored files they name."
                 " Secrets (password, refresh-token and API-key hashes, stream keys, share tokens) are"
                 " never exported, nor other people's private data.",
    }


async def _ready(services: JobServices, job: dict[str, Any], key: str, size: int, manifest: dict[str, Any]) -> None:
    ready = None
    try:
        async with unit_of_work(services.db) as uow:
            ready = await store.mark_ready(uow.conn, job["id"], job["attempts"], storage_key=key, size_bytes=size,
                                           manifest=manifest, retention=services.retention)
            if ready is not None:
                url, link_expires = await services.links.fresh(ready, services.origin)
                await notify(uow, services.push, user_id=ready["user_id"], actor_id=None, kind="data_export_ready",
                             subject_id=ready["id"], data={
                                 "export_id": str(ready["id"]), "download_url": url,
                                 "expires_at": ready["expires_at"].isoformat(), "size_bytes": size,
                                 "link_expires_at": link_expires.isoformat()})
    finally:
        if ready is None:  # lost meanwhile (or the commit failed): the archive is nobody's
            with contextlib.suppress(Exception):
                await services.storage.delete(key)


async def _failed(services: JobServices, job: dict[str, Any], exc: Exception) -> None:
    try:
        async with unit_of_work(services.db) as uow:
            row = await store.fail(uow.conn, job["id"], job["attempts"], f"{type(exc).__name__}: {exc}"[:500],
                                   max_attempts=MAX_ATTEMPTS, retry_delay=RETRY_DELAY)
            if row is not None and row["status"] == "failed":
                await failed_notice(uow, services.push, row)
    except Exception:  # noqa: BLE001 - the job stays running; the stuck reaper settles it
        log.exception("export %s: could not record the failure", job["id"])


class _Heartbeat:
    """Beats the job's heartbeat every `services.heartbeat` seconds while the work runs."""

    def __init__(self, services: JobServices, job: dict[str, Any]) -> None:
        self._services, self._job = services, job
        self._task: asyncio.Task[None] | None = None
        self.lost = False

    def check(self) -> None:
        if self.lost:
            raise JobLost(str(self._job["id"]))

    async def _beat(self) -> None:
        while not self.lost:
            await asyncio.sleep(self._services.heartbeat)
            try:
                async with self._services.db.connection() as conn:
                    self.lost = not await store.beat(conn, self._job["id"], self._job["attempts"])
            except Exception:  # noqa: BLE001 - a missed beat; an hour of them gets the job reaped
                log.warning("export %s: heartbeat failed", self._job["id"], exc_info=True)

    async def __aenter__(self) -> _Heartbeat:
        self._task = asyncio.get_running_loop().create_task(self._beat(), name=f"export-heartbeat:{self._job['id']}")
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


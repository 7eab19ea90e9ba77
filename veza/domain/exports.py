"""GDPR data exports: asking for one, its download links, and the jobs' upkeep.

- A request answers the job already queued or running, if any; otherwise a new one, unless
  the user's last export became ready less than EXPORT_MIN_INTERVAL ago (429 with
  Retry-After). The job itself runs in the ExportWorker (`veza.domain.export_job`).
- A ready archive is downloaded through a fresh link: an S3 presigned URL, or a signed
  link to our own route, living at most five minutes; the archive itself is deleted
  EXPORT_RETENTION after it was made (`expire`).
- A job whose worker stopped beating for STUCK_AFTER (the node died) is failed; it is
  retried MAX_RETRIES times, then failed for good (`reap_stuck`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol
from uuid import UUID

from veza.domain.cloud_garbage import Freer, discard
from veza.domain.errors import Conflict, NotFound, RateLimited
from veza.domain.notifications import notify
from veza.domain.unit_of_work import unit_of_work
from veza.store import exports as store

MAX_RETRIES = 3
MAX_ATTEMPTS = 1 + MAX_RETRIES
STUCK_AFTER = 3600.0  # seconds without a heartbeat
RETRY_DELAY = 60.0  # seconds, times the attempts made
LINK_TTL_MAX = 300  # a download link lives at most five minutes
ARCHIVE_ROUTE = "/exports/{id}/archive"  # the signed local link's route, under /api/v1
FAILED_MESSAGE = "Your data export could not be completed. Please ask for a new one."

Push = Callable[[dict[str, Any]], None]


class Presigner(Protocol):
    async def presigned_url(self, key: str, ttl: int, filename: str, content_type: str) -> str | None: ...


class Signer(Protocol):
    def sign(self, path: str, ttl: int) -> tuple[str, int]: ...


async def request(db: Any, user_id: UUID, min_interval: int) -> dict[str, Any]:
    """The user's export job: the one queued or running, or a new one."""
    async with db.transaction() as conn:
        job = await store.active(conn, user_id)
        if job is not None:
            return job
        wait = await store.seconds_until_allowed(conn, user_id, min_interval)
        if wait > 0:
            raise RateLimited(f"An export was made recently; you can ask for a new one in {wait} seconds",
                              details={"retry_after": wait}, headers={"Retry-After": str(wait)})
        job = await store.create(conn, user_id) or await store.active(conn, user_id)
    if job is None:  # created and finished by a concurrent request in between: its answer stands
        raise Conflict("An export was just made; list your exports")
    return job


def downloadable(job: dict[str, Any], now: dt.datetime | None = None) -> bool:
    now = now or dt.datetime.now(dt.UTC)
    return job["status"] == "ready" and job["expires_at"] is not None and job["expires_at"] > now


def archive_name(job: dict[str, Any]) -> str:
    return f"veza-data-export-{job['created_at']:%Y-%m-%d}-{str(job['id'])[:8]}.zip"


@dataclasses.dataclass(frozen=True, slots=True)
class Links:
    """Fresh download links for ready archives."""

    storage: Presigner
    signer: Signer
    ttl: int  # capped at LINK_TTL_MAX

    def __post_init__(self) -> None:
        object.__setattr__(self, "ttl", max(1, min(self.ttl, LINK_TTL_MAX)))

    async def fresh(self, job: dict[str, Any], origin: str) -> tuple[str, dt.datetime]:
        """(url, when it stops working): presigned by S3, or signed for our own route on `origin`."""
        disposition = f'attachment; filename="{archive_name(job)}"'
        url = await self.storage.presigned_url(job["storage_key"], self.ttl, disposition, "application/zip")
        if url is not None:
            return url, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.ttl)
        link, expires = self.signer.sign(archive_path(job["id"]), self.ttl)
        return origin.rstrip("/") + link, dt.datetime.fromtimestamp(expires, dt.UTC)


def archive_path(export_id: UUID) -> str:
    return "/api/v1" + ARCHIVE_ROUTE.format(id=export_id)


async def download(conn: Any, user_id: UUID, export_id: UUID) -> dict[str, Any]:
    """The user's export, if its archive can be downloaded now."""
    job = await store.get_for_user(conn, user_id, export_id)
    if job["status"] in ("queued", "running"):
        raise Conflict("This export is not ready yet", details={"status": job["status"]})
    if not downloadable(job):
        raise NotFound("This export has failed or expired; ask for a new one", details={"status": job["status"]})
    return job


async def by_signed_link(conn: Any, export_id: UUID) -> dict[str, Any]:
    """The export a valid signed link names, while it is still there."""
    job = await store.get(conn, export_id)
    if job is None or not downloadable(job):
        raise NotFound("This download link is invalid or has expired")
    return job


async def failed_notice(uow: Any, push: Push, job: dict[str, Any]) -> None:
    await notify(uow, push, user_id=job["user_id"], actor_id=None, kind="data_export_failed", subject_id=job["id"],
                 data={"export_id": str(job["id"]), "error": FAILED_MESSAGE})


async def reap_stuck(db: Any, push: Push, silent_for: float = STUCK_AFTER) -> int:
    """Fail the attempts of jobs whose worker went silent; retried or failed (notified)."""
    async with unit_of_work(db) as uow:
        rows = await store.fail_stuck(uow.conn, silent_for=silent_for, error="worker stopped (no heartbeat)",
                                      max_attempts=MAX_ATTEMPTS, retry_delay=RETRY_DELAY)
        for job in rows:
            if job["status"] == "failed":
                await failed_notice(uow, push, job)
    return len(rows)


async def expire(db: Any, freer: Freer, limit: int = 500) -> int:
    """Delete archives past their retention (listed as storage garbage with the change)."""
    async with unit_of_work(db) as uow:
        keys = await store.expire_due(uow.conn, limit)
        await discard(uow, freer, keys)
    return len(keys)

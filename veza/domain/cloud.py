"""Cloud files: names, the quota, replacing content with the old content kept, deleting.

Every change that stores or frees bytes charges the owner's usage row in the same
transaction (`veza.store.cloud_usage.charge`), so usage always equals the bytes of the
objects the user's rows name, each counted once; objects a change orphans are deleted
after it commits (`veza.domain.cloud_garbage`). Versions: `veza.domain.cloud_versions`.
"""

from __future__ import annotations

import dataclasses
import re
import uuid
from typing import Any
from uuid import UUID

from veza.domain.cloud_garbage import Freer, discard
from veza.domain.errors import Invalid, QuotaExceeded
from veza.domain.text import required
from veza.domain.unit_of_work import UnitOfWork
from veza.store import cloud_files as files
from veza.store import cloud_folders as folders
from veza.store import cloud_usage as usage

MAX_NAME = 255
_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f/\\]")


@dataclasses.dataclass(frozen=True, slots=True)
class Limits:
    quota_bytes: int
    max_file_bytes: int
    max_versions: int


def storage_key(owner_id: UUID) -> str:
    """A generated key: nothing of the user's file name ever reaches storage."""
    return f"cloud/{owner_id}/{uuid.uuid4().hex}"


def clean_name(value: str, field: str = "name") -> str:
    """A file or folder name: trimmed, 1..255 characters, no slashes or control characters."""
    name = required(value.encode("utf-8", "replace").decode("utf-8"), field)
    if len(name) > MAX_NAME:
        raise Invalid(f"{field} is longer than {MAX_NAME} characters", details={field: "too long"})
    if name in (".", "..") or _FORBIDDEN.search(name):
        raise Invalid(f"{field} may not be '.' or '..' nor hold slashes or control characters",
                      details={field: "not a valid name"})
    return name


def name_from_filename(filename: str | None) -> str | None:
    """The last path segment of an uploaded part's file name (browsers may send a path)."""
    if not filename:
        return None
    base = re.split(r"[/\\]", filename)[-1]
    base = _FORBIDDEN.sub("", base.encode("utf-8", "replace").decode("utf-8")).strip()[:MAX_NAME].strip()
    return base if base not in ("", ".", "..") else None


async def remaining(conn: Any, owner_id: UUID, limits: Limits) -> int:
    return max(0, limits.quota_bytes - await usage.used(conn, owner_id))


async def charge(conn: Any, owner_id: UUID, delta: int, limits: Limits) -> None:
    if not await usage.charge(conn, owner_id, delta, limits.quota_bytes):
        used = await usage.used(conn, owner_id)
        raise QuotaExceeded(f"Storage quota exceeded: {used} of {limits.quota_bytes} bytes used, "
                            f"{delta} more needed", details={"used_bytes": used, "quota_bytes": limits.quota_bytes,
                                                             "needed_bytes": delta})


async def create_file(uow: UnitOfWork, owner_id: UUID, *, folder_id: UUID | None, name: str,
                      content: dict[str, Any], limits: Limits) -> dict[str, Any]:
    """Record stored `content` (storage_key, size_bytes, mime_type, sha256) as a new file.
    The row is written before usage is charged: both lock in the same order as a folder
    delete (folder, then usage), so the two cannot deadlock."""
    if folder_id is not None:
        await folders.get(uow.conn, owner_id, folder_id)
    row = await files.create(uow.conn, owner_id, folder_id, name, content)
    await charge(uow.conn, owner_id, content["size_bytes"], limits)
    return row


async def keep_current(conn: Any, file: dict[str, Any]) -> dict[str, Any]:
    """The version holding the file's current content, saved now if no version holds it yet."""
    saved = await files.version_with_key(conn, file["id"], file["storage_key"])
    return saved if saved is not None else await files.add_version(conn, file)


async def settle(uow: UnitOfWork, freer: Freer, file_id: UUID, owner_id: UUID, *, added: int,
                 limits: Limits) -> None:
    """After a change to a file's content or versions: prune versions past the limit, free
    the objects no row names any more, and charge `added` bytes less those freed."""
    pruned = await files.prune(uow.conn, file_id, limits.max_versions)
    freed = await files.unreferenced(uow.conn, file_id, pruned)
    await charge(uow.conn, owner_id, added - sum(o["size_bytes"] for o in freed), limits)
    await discard(uow, freer, (o["storage_key"] for o in freed))


async def replace_content(uow: UnitOfWork, freer: Freer, owner_id: UUID, file_id: UUID, content: dict[str, Any],
                          limits: Limits) -> dict[str, Any]:
    """New content becomes current (version + 1); the content it replaces is kept as a version."""
    file = await files.get(uow.conn, owner_id, file_id, lock=True)
    await keep_current(uow.conn, file)
    row = await files.set_content(uow.conn, file_id, content, file["version"] + 1)
    await settle(uow, freer, file_id, owner_id, added=content["size_bytes"], limits=limits)
    return row


async def rename_move(conn: Any, owner_id: UUID, file_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    if "name" in changes:
        changes["name"] = clean_name(changes["name"])
    if changes.get("folder_id") is not None:
        await folders.get(conn, owner_id, changes["folder_id"])
    return await files.rename_move(conn, owner_id, file_id, changes)


async def delete_files(uow: UnitOfWork, freer: Freer, owner_id: UUID, file_ids: list[UUID], limits: Limits) -> None:
    """Free every object the (locked) files name and credit their bytes; the caller deletes the rows."""
    objects = await files.objects_of_files(uow.conn, file_ids)
    await charge(uow.conn, owner_id, -sum(o["size_bytes"] for o in objects), limits)
    await discard(uow, freer, (o["storage_key"] for o in objects))


async def delete_file(uow: UnitOfWork, freer: Freer, owner_id: UUID, file_id: UUID, limits: Limits) -> None:
    """The file, its versions and share links; its bytes freed after commit."""
    await files.get(uow.conn, owner_id, file_id, lock=True)
    await delete_files(uow, freer, owner_id, [file_id], limits)
    await files.delete(uow.conn, file_id)

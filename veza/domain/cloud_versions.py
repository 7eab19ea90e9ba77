"""Versions of a cloud file: list, snapshot, restore (Nextcloud's rule: never loses anything).

A version is a saved content of the file, numbered like the file's `version` was when that
content was current. Versions and the current content may share a stored object: a
snapshot saves the current content without copying it, a restore makes a version's
content current without copying it. Past CLOUD_MAX_VERSIONS the oldest are pruned.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.cloud import Limits, keep_current, settle
from veza.domain.cloud_garbage import Freer
from veza.domain.unit_of_work import UnitOfWork
from veza.store import cloud_files as files


async def list_versions(conn: Any, owner_id: UUID, file_id: UUID) -> list[dict[str, Any]]:
    await files.get(conn, owner_id, file_id)
    return await files.versions(conn, file_id)


async def get_version(conn: Any, owner_id: UUID, file_id: UUID, number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(file, version); another user's file or an unknown version is "not found"."""
    file = await files.get(conn, owner_id, file_id)
    return file, await files.version(conn, file_id, number)


async def snapshot(uow: UnitOfWork, freer: Freer, owner_id: UUID, file_id: UUID,
                   limits: Limits) -> tuple[dict[str, Any], bool]:
    """Save the current content as a version: (the version, whether it is new). Content
    already saved (an earlier snapshot, or a restore) answers the version that holds it."""
    file = await files.get(uow.conn, owner_id, file_id, lock=True)
    existing = await files.version_with_key(uow.conn, file_id, file["storage_key"])
    if existing is not None:
        return existing, False
    saved = await files.add_version(uow.conn, file)
    await settle(uow, freer, file_id, owner_id, added=0, limits=limits)
    return saved, True


async def restore(uow: UnitOfWork, freer: Freer, owner_id: UUID, file_id: UUID, number: int,
                  limits: Limits) -> dict[str, Any]:
    """Make version `number`'s content current, as version + 1, after keeping the content it
    replaces as a version."""
    file = await files.get(uow.conn, owner_id, file_id, lock=True)
    target = await files.version(uow.conn, file_id, number)
    await keep_current(uow.conn, file)
    row = await files.set_content(uow.conn, file_id, target, file["version"] + 1)
    await settle(uow, freer, file_id, owner_id, added=0, limits=limits)
    return row

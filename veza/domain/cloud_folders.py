"""Cloud folders: a tree per user, at most MAX_DEPTH deep, never a cycle.

Moves and deletes take the owner's tree lock first, so two moves cannot make a cycle
between them. Deleting a folder deletes everything under it, with its bytes freed.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from veza.domain.cloud import Limits, clean_name, delete_files
from veza.domain.cloud_garbage import Freer
from veza.domain.errors import Invalid
from veza.domain.unit_of_work import UnitOfWork
from veza.store import cloud_folders as store

MAX_DEPTH = 32


def _too_deep() -> Invalid:
    return Invalid(f"Folders nest at most {MAX_DEPTH} deep", details={"parent_id": "too deep"})


async def create_folder(conn: Any, owner_id: UUID, parent_id: UUID | None, name: str) -> dict[str, Any]:
    name = clean_name(name)
    if parent_id is not None:
        await store.get(conn, owner_id, parent_id, "Parent folder")
        if len(await store.ancestry(conn, parent_id, MAX_DEPTH)) >= MAX_DEPTH:
            raise _too_deep()
    return await store.create(conn, owner_id, parent_id, name)


async def update_folder(conn: Any, owner_id: UUID, folder_id: UUID, changes: dict[str, Any]) -> dict[str, Any]:
    """Rename (`name`) and/or move (`parent_id`, None = the root)."""
    if "name" in changes:
        changes["name"] = clean_name(changes["name"])
    if "parent_id" in changes:
        await store.lock_tree(conn, owner_id)
        await store.get(conn, owner_id, folder_id)
        parent_id = changes["parent_id"]
        if parent_id is not None:
            await store.get(conn, owner_id, parent_id, "Parent folder")
            above = await store.ancestry(conn, parent_id, MAX_DEPTH)
            if folder_id in above:
                raise Invalid("A folder cannot move into itself or a folder inside it",
                              details={"parent_id": "inside the folder"})
            height = max(r["depth"] for r in await store.subtree(conn, folder_id))
            if len(above) + 1 + height > MAX_DEPTH:
                raise _too_deep()
    return await store.update(conn, owner_id, folder_id, changes)


async def delete_folder(uow: UnitOfWork, freer: Freer, owner_id: UUID, folder_id: UUID, limits: Limits) -> None:
    """The folder, its subfolders and their files, with every stored byte freed after commit.
    The folders' rows are locked first, so no upload or move can land in them meanwhile."""
    await store.lock_tree(uow.conn, owner_id)
    await store.get(uow.conn, owner_id, folder_id)
    tree = await store.subtree(uow.conn, folder_id, lock=True)
    file_ids = await store.files_in(uow.conn, [r["id"] for r in tree])
    await delete_files(uow, freer, owner_id, file_ids, limits)
    await store.delete(uow.conn, folder_id)

"""Request and response shapes of the cloud routes (documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import msgspec

from veza.api.pagination import DEFAULT_LIMIT, Limit, Offset

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]
T = TypeVar("T", bound=msgspec.Struct)


class FileOut(msgspec.Struct):
    id: UUID
    name: str
    folder_id: UUID | None
    size_bytes: int
    mime_type: str
    version: int
    sha256: str
    created_at: dt.datetime
    updated_at: dt.datetime
    download_url: str


class FileListQuery(msgspec.Struct, forbid_unknown_fields=False):
    folder_id: Annotated[UUID, msgspec.Meta(description="The folder to list; omitted: the root")] | None = None
    limit: Limit = DEFAULT_LIMIT
    cursor: Annotated[str, msgspec.Meta(max_length=512, description="next_cursor of the previous page")] | None = None


class FileListOut(msgspec.Struct):
    files: list[FileOut]
    next_cursor: str | None
    has_more: bool


class FilePatchIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    folder_id: UUID | None | msgspec.UnsetType = msgspec.UNSET


class QuotaOut(msgspec.Struct):
    used_bytes: int
    quota_bytes: int


class FolderOut(msgspec.Struct):
    id: UUID
    name: str
    parent_id: UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime


class FolderIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    parent_id: UUID | None = None


class FolderPatchIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name | msgspec.UnsetType = msgspec.UNSET
    parent_id: UUID | None | msgspec.UnsetType = msgspec.UNSET


class FolderListQuery(msgspec.Struct, forbid_unknown_fields=False):
    parent_id: Annotated[UUID, msgspec.Meta(description="The folder whose subfolders to list; omitted: the root")] | None = None
    limit: Limit = DEFAULT_LIMIT
    offset: Offset = 0


class FolderListOut(msgspec.Struct):
    folders: list[FolderOut]
    total: int


class VersionOut(msgspec.Struct):
    id: UUID
    file_id: UUID
    version: int
    storage_key: str
    size_bytes: int
    created_at: dt.datetime


class VersionListOut(msgspec.Struct):
    versions: list[VersionOut]


class ShareIn(msgspec.Struct, forbid_unknown_fields=True):
    permissions: Literal["read"] = "read"
    expires_in_hours: Annotated[int, msgspec.Meta(ge=1, le=720)] = 24


class ShareCreatedOut(msgspec.Struct):
    id: UUID
    share_url: str
    token: str
    expires_at: dt.datetime


class ShareOut(msgspec.Struct):
    id: UUID
    file_id: UUID
    permissions: str
    expires_at: dt.datetime
    revoked_at: dt.datetime | None
    created_at: dt.datetime
    active: bool


class ShareListOut(msgspec.Struct):
    shares: list[ShareOut]


class SharedFileOut(msgspec.Struct):
    name: str
    size_bytes: int
    mime_type: str
    expires_at: dt.datetime
    permissions: str
    download_url: str


def pick(struct: type[T], row: Mapping[str, Any], **extra: Any) -> T:
    """`struct` built from the row's columns of the same names (and `extra`)."""
    return struct(**{f: extra[f] if f in extra else row[f] for f in struct.__struct_fields__})


def given(body: msgspec.Struct) -> dict[str, Any]:
    """The fields a PATCH body sets (null included), without those it leaves out."""
    return {f: getattr(body, f) for f in body.__struct_fields__ if getattr(body, f) is not msgspec.UNSET}


def file_out(row: Mapping[str, Any]) -> FileOut:
    return pick(FileOut, row, download_url=f"/api/v1/cloud/files/{row['id']}/download")

"""Request and response shapes of the cloud routes (documented in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeVar
from uuid import UUID

import msgspec

from veza.api.pagination import DEFAULT_LIMIT, Cursor, Limit, Offset
from veza.api.schemas import FILE_PART, form
from veza.validation import PY_SPACE

# `veza.domain.cloud.clean_name` as a pattern: once trimmed, 1-255 characters, not "." or "..",
# no slash, backslash or control character (tests/veza/http/test_openapi_rules.py holds them equal).
_NOT_NAME = r"\x00-\x1f\x7f/\\"
NAME_PATTERN = (rf"^[{PY_SPACE}]*(?!\.{{1,2}}[{PY_SPACE}]*$)[^{_NOT_NAME}{PY_SPACE}]"
                rf"(?:[^{_NOT_NAME}]{{0,253}}[^{_NOT_NAME}{PY_SPACE}])?[{PY_SPACE}]*$")
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255, extra_json_schema={
    "pattern": NAME_PATTERN, "description": "1-255 characters once trimmed, not '.' or '..', no slashes or "
                                           "control characters"})]
T = TypeVar("T", bound=msgspec.Struct)

REPLACE_FORM = form({"file": FILE_PART})
_BLANK = rf"^[{PY_SPACE}]*$"
UPLOAD_FORM = form({
    "file": FILE_PART,
    "folder_id": {"type": "string", "anyOf": [{"format": "uuid"}, {"pattern": _BLANK}],
                  "description": "omitted or blank: the root"},
    "name": {"type": "string", "maxLength": 255, "pattern": rf"{_BLANK}|{NAME_PATTERN}",
             "description": "omitted or blank: the file part's own file name"},
})


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
    cursor: Cursor | None = None


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

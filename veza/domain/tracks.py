"""Tracks: what a track's metadata may be, and who may change or delete one.

Rules:
- A title is required: an upload without one is named after its file's stem; an edit
  may not blank it. An artist may not be blanked either; an upload without one is
  credited to its uploader's username.
- Text is trimmed; title and artist hold at most 200 characters, a description 5000.
- Genres are stored lower-cased, at most 50 characters in that form (lowering can
  lengthen text: "İ" becomes two characters). Tags follow `veza.domain.tags`.
- Only the track's owner or a platform admin edits or deletes it (403); an unknown track
  is a 404.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from veza.domain.errors import Forbidden, Invalid
from veza.domain.tags import normalize_tags
from veza.domain.text import required
from veza.store import tracks as store
from veza.store import users

TITLE_MAX = ARTIST_MAX = 200
DESCRIPTION_MAX = 5000
GENRE_MAX = 50
REQUIRED = ("title", "artist")  # never blank once given


def trimmed(name: str, value: str, max_length: int) -> str:
    value = value.strip()
    if len(value) > max_length:
        raise Invalid(f"{name} is longer than {max_length} characters", details={name: "too long"})
    return value


def genre(value: str | None) -> str | None:
    """The stored form, None for none; the limit holds for the lower-cased text."""
    lowered = (value or "").strip().lower()
    if len(lowered) > GENRE_MAX:
        raise Invalid(f"genre is longer than {GENRE_MAX} characters", details={"genre": "too long"})
    return lowered or None


def new_metadata(fields: Mapping[str, str], default_title: str | None) -> dict[str, Any]:
    """An upload's metadata from its form fields; `artist` None: the uploader's username."""
    title = trimmed("title", fields.get("title", ""), TITLE_MAX) or default_title
    if not title:
        raise Invalid("title is required", details={"title": "required"})
    return {
        "title": title,
        "artist": trimmed("artist", fields.get("artist", ""), ARTIST_MAX) or None,
        "description": trimmed("description", fields.get("description", ""), DESCRIPTION_MAX),
        "genre": genre(fields.get("genre")),
        "tags": normalize_tags(fields.get("tags")),
    }


def metadata_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An edit's fields (those given) in their stored form."""
    out = dict(changes)
    for name in REQUIRED:
        if name in out:
            out[name] = required(out[name], name)
    if "genre" in out:
        out["genre"] = genre(out["genre"])
    if "tags" in out:
        out["tags"] = normalize_tags(out["tags"])
    return out


def check_changer(owner_id: UUID, user_id: UUID, role: str) -> None:
    if owner_id != user_id and role != "admin":
        raise Forbidden("Only the track's owner or an admin may change it")


async def require_changer(conn: Any, track_id: UUID, user_id: UUID, role: str) -> None:
    check_changer(await store.owner_of(conn, track_id), user_id, role)


async def create(conn: Any, owner_id: UUID, metadata: Mapping[str, Any], media: Mapping[str, Any]) -> dict[str, Any]:
    """The track of an upload whose file is stored (`media`: format, mime_type, duration,
    file_key, size_bytes); call in a transaction."""
    fields = {**metadata, **media}
    if fields.get("artist") is None:
        fields["artist"] = (await users.get_user(conn, owner_id))["username"]
    return await store.create_track(conn, owner_id=owner_id, fields=fields)


async def update(conn: Any, user_id: UUID, role: str, track_id: UUID, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Call in a transaction: the owner check and the change see the same row."""
    fields = metadata_changes(changes)
    await require_changer(conn, track_id, user_id, role)
    return await store.update_track(conn, track_id, fields)


async def delete(conn: Any, user_id: UUID, role: str, track_id: UUID) -> str:
    """The deleted track's file key (the caller removes the file after commit)."""
    await require_changer(conn, track_id, user_id, role)
    return await store.delete_track(conn, track_id)

"""What every peer of the GET /tracks benchmark shares: the exact SQL veza runs for
`GET /tracks?limit=20` (veza/store/tracks.py, no filters) and the same response shape
(envelope, tracks, next_cursor as veza's KeysetCursor encodes it, has_more)."""

from __future__ import annotations

import argparse
import base64
import json

LIST_SQL = (
    "SELECT t.id, t.owner_id, u.username AS owner_username, t.title, t.artist, t.description, t.genre, "
    "t.format, t.mime_type, t.duration, t.size_bytes, t.tags, t.like_count, t.comment_count, "
    "t.created_at, t.updated_at FROM tracks t JOIN users u ON u.id = t.owner_id  "
    "ORDER BY t.created_at DESC, t.id DESC LIMIT $1 OFFSET $2"
)


def next_cursor(row) -> str:  # type: ignore[no-untyped-def]
    body = {"created_at": row["created_at"].isoformat().replace("+00:00", "Z"), "id": str(row["id"])}
    return base64.urlsafe_b64encode(json.dumps(body, separators=(",", ":")).encode()).decode().rstrip("=")


def page(rows: list, limit: int) -> dict:  # type: ignore[type-arg]
    tracks = [dict(r) for r in rows[:limit]]
    for t in tracks:
        t["stream_url"] = f"/api/v1/tracks/{t['id']}/stream"
    has_more = len(rows) > limit
    return {"success": True, "data": {"tracks": tracks, "next_cursor": next_cursor(rows[limit - 1]) if has_more else None,
                                      "has_more": has_more, "limit": limit, "page": None}}


def peer_args() -> argparse.Namespace:
    """The command line every peer takes: where to listen, the database, the pool size."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dsn", required=True)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--jwt-secret", default=None, help="also serve GET /users/me, tokens signed with this")
    return parser.parse_args()

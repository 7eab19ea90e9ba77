"""Uploading tracks from tests through the real multipart route."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.audio_fixtures import wav_bytes
from tests.support import ApiClient, Reply, User


def form(data: bytes, filename: str = "song.wav", **fields: str) -> aiohttp.FormData:
    body = aiohttp.FormData()
    for name, value in fields.items():
        body.add_field(name, value)
    body.add_field("file", data, filename=filename, content_type="application/octet-stream")
    return body


async def upload(client: ApiClient, user: User, data: bytes | None = None, filename: str = "song.wav",
                 **fields: Any) -> Reply:
    fields.setdefault("title", "A song")
    return await client.post("/tracks", user=user, data=form(wav_bytes(0.5) if data is None else data, filename,
                                                                  **fields))


async def make_track(client: ApiClient, user: User, **fields: Any) -> dict[str, Any]:
    reply = await upload(client, user, **fields)
    assert reply.status == 201, reply.body
    return reply.data

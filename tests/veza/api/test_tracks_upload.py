"""POST /tracks: content-checked multipart uploads, limits, storage, streaming with Range."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.audio_fixtures import encoded, wav_bytes
from tests.support import ApiClient
from tests.veza.api.track_helpers import form, make_track, upload
from veza import keys
from veza.config import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # A small limit keeps the over-the-limit uploads quick.
    return settings.replace(upload_max_bytes=256 * 1024)


def _stored_files(client: ApiClient) -> list[Path]:
    root = client.app[keys.settings].data_dir
    return [p for p in root.rglob("*") if p.is_file() and p.name != "jwt_secret"]


@pytest.mark.parametrize("fmt", ["wav", "mp3", "flac", "ogg", "m4a", "aac"])
async def test_each_audio_format_is_recognised_by_content(client: ApiClient, tmp_path: Path, fmt: str) -> None:
    creator = await client.register(role="creator")
    # The name lies on purpose: only the content decides.
    data = await make_track(client, creator, data=encoded(fmt, tmp_path, 1.0), filename="upload.bin",
                            title=f"Tone {fmt}", genre="Ambient", tags="Calm, drone,calm")
    assert data["format"] == fmt
    assert 0.9 <= data["duration"] <= 1.2
    assert data["tags"] == ["calm", "drone"] and data["genre"] == "ambient"
    assert data["artist"] == creator.username and data["owner_id"] == creator.id
    got = await client.get(f"/tracks/{data['id']}")
    assert got.status == 200 and got.data["title"] == f"Tone {fmt}"


async def test_non_audio_renamed_mp3_is_415_and_leaves_nothing(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    reply = await upload(client, creator, data=b"%PDF-1.4 definitely not audio" * 100, filename="song.mp3")
    assert reply.status == 415 and reply.body["code"] == "unsupported_media_type"
    assert _stored_files(client) == []
    # Bytes that start like an MP3 frame but are garbage are refused too.
    fake = await upload(client, creator, data=b"\xff\xfb" + b"\x00" * 4000, filename="song.mp3")
    assert fake.status == 415


async def test_oversized_upload_is_413_and_partial_file_removed(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    limit = client.app[keys.settings].upload_max_bytes
    assert limit >= 1024

    async def chunks():  # type: ignore[no-untyped-def]
        # Chunked transfer: no Content-Length, so the limit is enforced while streaming.
        yield wav_bytes(0.1)
        for _ in range(limit // 65536 + 2):
            yield b"\x00" * 65536

    body = aiohttp.FormData()
    body.add_field("title", "big")
    body.add_field("file", chunks(), filename="big.wav", content_type="audio/wav")
    reply = await client.post("/tracks", user=creator, data=body)
    assert reply.status == 413 and reply.body["code"] == "too_large"
    assert _stored_files(client) == []


async def test_declared_oversize_rejected_before_reading(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    limit = client.app[keys.settings].upload_max_bytes
    reply = await upload(client, creator, data=b"\x00" * (limit + 200_000))
    assert reply.status == 413
    assert _stored_files(client) == []


async def test_upload_needs_creator_role_and_a_file(client: ApiClient) -> None:
    fan = await client.register()
    assert (await upload(client, fan)).status == 403
    anon = await client.post("/tracks", data=form(wav_bytes(0.2)))
    assert anon.status == 401
    creator = await client.register(role="creator")
    no_file = aiohttp.FormData(default_to_multipart=True)
    no_file.add_field("title", "x")
    missing = await client.post("/tracks", user=creator, data=no_file)
    assert missing.status == 400 and "file" in missing.body["details"]
    as_json = await client.post("/tracks", user=creator, json={"title": "x"})
    assert as_json.status == 415
    long_title = await upload(client, creator, title="t" * 201)
    assert long_title.status == 400 and "title" in long_title.body["details"]
    bad_tag = await upload(client, creator, tags="ok, <script>")
    assert bad_tag.status == 400
    assert _stored_files(client) == []


async def test_stream_whole_and_ranges(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    audio = wav_bytes(0.5)
    track = await make_track(client, creator, data=audio)
    path = f"/tracks/{track['id']}/stream"
    whole = await client.get(path)
    assert whole.status == 200 and whole.body == audio
    assert whole.headers["Accept-Ranges"] == "bytes" and whole.headers["Content-Type"] == "audio/wav"
    part = await client.get(path, headers={"Range": "bytes=10-19"})
    assert part.status == 206 and part.body == audio[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(audio)}"
    tail = await client.get(path, headers={"Range": "bytes=-5"})
    assert tail.status == 206 and tail.body == audio[-5:]
    open_end = await client.get(path, headers={"Range": f"bytes={len(audio) - 3}-"})
    assert open_end.body == audio[-3:]
    beyond = await client.get(path, headers={"Range": f"bytes={len(audio)}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(audio)}"
    garbled = await client.get(path, headers={"Range": "lines=1-2"})
    assert garbled.status == 200 and garbled.body == audio
    assert (await client.get("/tracks/00000000-0000-0000-0000-000000000000/stream")).status == 404


async def test_update_and_delete_owner_or_admin_only(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    other = await client.register(role="creator")
    admin = await client.register(role="admin")
    track = await make_track(client, owner, tags="one,two")
    path = f"/tracks/{track['id']}"
    assert (await client.put(path, json={"title": "Nope"})).status == 401
    assert (await client.put(path, user=other, json={"title": "Nope"})).status == 403
    assert (await client.put(path, user=owner, json={"title": "   "})).status == 400
    assert (await client.put(path, user=owner, json={"owner_id": other.id})).status == 400
    edited = await client.put(path, user=owner, json={"title": "Renamed", "tags": ["Two", "three"]})
    assert edited.status == 200 and edited.data["title"] == "Renamed" and edited.data["tags"] == ["two", "three"]
    assert (await client.put(path, user=admin, json={"genre": "Jazz"})).data["genre"] == "jazz"
    assert (await client.delete(path, user=other)).status == 403
    assert (await client.delete(path, user=owner)).status == 200
    assert (await client.get(path)).status == 404
    assert (await client.delete(path, user=owner)).status == 404
    assert _stored_files(client) == []
    assert (await client.put("/tracks/not-a-uuid", user=owner, json={"title": "x"})).status == 404


async def test_upload_limits_and_validate_type_report_the_enforced_settings(client: ApiClient) -> None:
    settings = client.app[keys.settings]
    limits = await client.get("/upload/limits")
    assert limits.status == 200
    assert limits.data["max_size_bytes"] == settings.upload_max_bytes
    assert limits.data["allowed_types"] == list(settings.upload_allowed_types)
    assert "audio/mpeg" in limits.data["allowed_mime_types"] and "mp3" in limits.data["allowed_extensions"]
    good = await client.get("/upload/validate-type", params={"filename": "a.flac", "content_type": "audio/flac"})
    assert good.data["valid"] is True and good.data["format"] == "flac"
    for params in ({"filename": "doc.pdf"}, {"content_type": "text/plain"}, {},
                   {"filename": "a.mp3", "content_type": "audio/flac"},
                   {"filename": "a.mp3", "size": str(settings.upload_max_bytes + 1)}):
        reply = await client.get("/upload/validate-type", params=params)
        assert reply.status == 200 and reply.data["valid"] is False and reply.data["reasons"], params
    assert (await client.get("/upload/validate-type", params={"size": "-1"})).status == 400


async def test_stream_range_with_absurd_or_backwards_numbers(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    audio = wav_bytes(0.2)
    track = await make_track(client, creator, data=audio)
    path = f"/tracks/{track['id']}/stream"
    nines = "9" * 5000  # past int()'s 4300-digit limit: these used to be 500s
    beyond = await client.get(path, headers={"Range": f"bytes={nines}-"})
    assert beyond.status == 416 and beyond.headers["Content-Range"] == f"bytes */{len(audio)}"
    # A last-pos or suffix longer than the object means "to the end" / "all of it" (RFC 9110 14.1.2).
    for header in (f"bytes=0-{nines}", f"bytes=-{nines}", "bytes=0-00000000000000000000000000000009"):
        reply = await client.get(path, headers={"Range": header})
        assert reply.status == 206 and reply.body == audio[:len(reply.body)] and reply.body, header[:40]
    assert (await client.get(path, headers={"Range": f"bytes=-{nines}"})).body == audio
    # Last before first is an invalid range: ignored, so the whole file (not a 416).
    for header in ("bytes=5-3", f"bytes={nines}-3", "bytes=\u0663-"):  # the last: an Arabic-Indic 3
        reply = await client.get(path, headers={"Range": header})
        assert reply.status == 200 and reply.body == audio, header[:40]


def _raw_multipart(*parts: bytes) -> bytes:
    return b"".join(b"--abc\r\n" + part + b"\r\n" for part in parts) + b"--abc--\r\n"


def _file_part(filename: bytes, data: bytes) -> bytes:
    return (b'Content-Disposition: form-data; name="file"; filename="' + filename + b'"\r\n'
            b"Content-Type: audio/wav\r\n\r\n" + data)


async def test_malformed_multipart_is_400_and_leaves_nothing(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    title = b'Content-Disposition: form-data; name="title"\r\n\r\nA song'
    whole = _raw_multipart(title, _file_part(b"a.wav", wav_bytes(0.2)))
    bodies = {
        "no boundary": b"garbage",
        "cut inside the file": whole[: len(whole) - 2000],
        "header without colon": _raw_multipart(b'Content-Disposition: form-data; name="title"\r\nbroken\r\n\r\nx'),
        "empty filename": _raw_multipart(title, _file_part(b"", b"")),
    }
    for name, body in bodies.items():
        reply = await client.post("/tracks", user=creator, data=body,
                                  headers={"Content-Type": "multipart/form-data; boundary=abc"})
        assert reply.status == 400 and reply.body["code"] == "invalid", (name, reply.body)
        assert _stored_files(client) == [], name
    missing = await client.post("/tracks", user=creator, data=bodies["empty filename"],
                                headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert "file" in missing.body["details"]


async def test_filename_that_is_not_utf8_still_gives_a_title(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    body = _raw_multipart(_file_part("\xe9t\xe9.wav".encode("latin-1"), wav_bytes(0.2)))
    reply = await client.post("/tracks", user=creator, data=body,
                              headers={"Content-Type": "multipart/form-data; boundary=abc"})
    assert reply.status == 201, reply.body
    assert reply.data["title"] == "\ufffdt\ufffd"


async def test_genre_is_limited_after_lower_casing(client: ApiClient) -> None:
    creator = await client.register(role="creator")
    dotted = "\u0130" * 50  # "İ": 50 characters, 100 once lower-cased
    reply = await upload(client, creator, genre=dotted)
    assert reply.status == 400 and "genre" in reply.body["details"], reply.body
    assert _stored_files(client) == []
    track = await make_track(client, creator, genre="Rock")
    edited = await client.put(f"/tracks/{track['id']}", user=creator, json={"genre": dotted})
    assert edited.status == 400 and "genre" in edited.body["details"], edited.body
    fits = await client.put(f"/tracks/{track['id']}", user=creator, json={"genre": "\u0130" * 25})
    assert fits.status == 200 and fits.data["genre"] == "\u0130".lower() * 25

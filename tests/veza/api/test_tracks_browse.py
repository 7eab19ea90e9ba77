"""GET /tracks (cursor, legacy page, filters, sorting), /tracks/:id, /tracks/search."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

from tests.support import ApiClient
from veza import keys


async def _seed(client: ApiClient, owner_id: str, rows: list[dict]) -> list[str]:
    """Insert tracks directly (the upload path has its own tests); returns ids newest first."""
    async with client.app[keys.db].connection() as conn:
        ids = []
        for i, row in enumerate(rows):
            ids.append(str(await conn.fetchval(
                """INSERT INTO tracks (owner_id, title, artist, genre, format, mime_type, duration, file_key,
                                       size_bytes, tags, like_count, created_at)
                   VALUES ($1, $2, $3, $4, $5, 'audio/mpeg', $6, 'tracks/x', 1, $7, $8,
                           now() - make_interval(secs => $9)) RETURNING id""",
                uuid.UUID(owner_id), row.get("title", f"Track {i}"), row.get("artist", "Someone"), row.get("genre"),
                row.get("format", "mp3"), float(row.get("duration", 60 + i)), row.get("tags", []),
                row.get("likes", 0), float(i))))
    return ids


async def _walk(client: ApiClient, params: dict) -> list[str]:
    seen, cursor = [], None
    for _ in range(100):
        reply = await client.get("/tracks", params={**params, **({"cursor": cursor} if cursor else {})})
        assert reply.status == 200, reply.body
        seen += [t["id"] for t in reply.data["tracks"]]
        cursor = reply.data["next_cursor"]
        assert reply.data["has_more"] == (cursor is not None)
        if cursor is None:
            return seen
    raise AssertionError("cursor walk did not end")


async def test_cursor_walk_visits_every_track_once_in_order(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    genre = f"g{uuid.uuid4().hex[:8]}"
    ids = await _seed(client, owner.id, [{"genre": genre} for _ in range(23)])
    assert await _walk(client, {"genre": genre, "limit": "5"}) == ids
    # Same created_at for several rows: the id tie-break keeps the walk exact.
    async with client.app[keys.db].connection() as conn:
        await conn.execute("UPDATE tracks SET created_at = '2026-01-01Z' WHERE genre = $1", genre)
    walked = await _walk(client, {"genre": genre, "limit": "4"})
    assert sorted(walked) == sorted(ids) and len(set(walked)) == 23
    assert walked == sorted(walked, reverse=True)


async def test_first_page_shape_and_legacy_page(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    genre = f"g{uuid.uuid4().hex[:8]}"
    ids = await _seed(client, owner.id, [{"genre": genre} for _ in range(7)])
    first = await client.get("/tracks", params={"genre": genre, "limit": "3"})
    assert [t["id"] for t in first.data["tracks"]] == ids[:3]
    assert first.data["has_more"] is True and first.data["next_cursor"]
    track = first.data["tracks"][0]
    assert {"id", "title", "artist", "genre", "format", "duration", "tags", "like_count", "comment_count",
            "created_at", "stream_url"} <= set(track)
    page3 = await client.get("/tracks", params={"genre": genre, "limit": "3", "page": "3"})
    assert [t["id"] for t in page3.data["tracks"]] == ids[6:] and page3.data["has_more"] is False
    assert page3.data["page"] == 3
    default = await client.get("/tracks")
    assert default.status == 200 and default.data["limit"] == 20


async def test_sorting_and_filters(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    genre = f"g{uuid.uuid4().hex[:8]}"
    await _seed(client, owner.id, [
        {"genre": genre, "title": "Bravo", "likes": 5, "format": "flac"},
        {"genre": genre, "title": "alpha", "likes": 9, "format": "mp3"},
        {"genre": genre, "title": "Charlie", "likes": 1, "format": "mp3"},
    ])
    by_likes = await client.get("/tracks", params={"genre": genre, "sort_by": "like_count"})
    assert [t["like_count"] for t in by_likes.data["tracks"]] == [9, 5, 1]
    asc = await client.get("/tracks", params={"genre": genre, "sort_by": "like_count", "sort_order": "asc",
                                              "limit": "1"})
    assert asc.data["tracks"][0]["like_count"] == 1
    nxt = await client.get("/tracks", params={"genre": genre, "sort_by": "like_count", "sort_order": "asc",
                                              "limit": "1", "cursor": asc.data["next_cursor"]})
    assert nxt.data["tracks"][0]["like_count"] == 5
    titles = await _walk(client, {"genre": genre, "sort_by": "title", "sort_order": "asc", "limit": "1"})
    assert len(titles) == 3
    flac = await client.get("/tracks", params={"genre": genre, "format": "flac"})
    assert [t["title"] for t in flac.data["tracks"]] == ["Bravo"]
    # A cursor made under one ordering is refused under another.
    wrong = await client.get("/tracks", params={"genre": genre, "cursor": asc.data["next_cursor"]})
    assert wrong.status == 400 and "cursor" in wrong.body["details"]


async def test_bad_list_parameters_are_400(client: ApiClient) -> None:
    forged = base64.urlsafe_b64encode(json.dumps({"created_at": "yesterday", "id": "x"}).encode()).decode()
    sql = base64.urlsafe_b64encode(json.dumps({"created_at": "2026-01-01T00:00:00Z", "id": str(uuid.uuid4()),
                                               "sort_by": "title", "value": 1}).encode()).decode()
    cases = [
        {"limit": "0"}, {"limit": "101"}, {"limit": "ten"}, {"page": "0"}, {"cursor": "!!!not-base64"},
        {"cursor": "aGVsbG8"}, {"cursor": forged}, {"sort_by": "password_hash"}, {"sort_order": "sideways"},
        {"page": "2", "cursor": "eyJ9"}, {"cursor": sql, "sort_by": "title"}, {"cursor": "x" * 600},
    ]
    for params in cases:
        reply = await client.get("/tracks", params=params)
        assert reply.status == 400, (params, reply.body)
        assert reply.body["success"] is False and reply.body["code"] == "invalid"


async def test_get_unknown_or_malformed_track_is_404(client: ApiClient) -> None:
    assert (await client.get(f"/tracks/{uuid.uuid4()}")).status == 404
    assert (await client.get("/tracks/12345")).status == 404


async def test_search_ranks_words_then_prefixes_and_typos(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    marker = uuid.uuid4().hex[:6]
    await _seed(client, owner.id, [
        {"title": f"Midnight Serenade {marker}", "artist": "Luna Vale"},
        {"title": f"Serenade for Strings {marker}", "artist": "Orchestra"},
        {"title": "Unrelated", "artist": "Nobody", "tags": ["serenade"]},
        {"title": "Thunderstruck Boogie", "artist": "Volt"},
    ])
    words = await client.get("/tracks/search", params={"q": f"serenade {marker}"})
    assert words.status == 200
    titles = [t["title"] for t in words.data["tracks"]]
    assert set(titles[:2]) == {f"Midnight Serenade {marker}", f"Serenade for Strings {marker}"}
    prefix = await client.get("/tracks/search", params={"q": "thunders"})
    assert "Thunderstruck Boogie" in [t["title"] for t in prefix.data["tracks"]]
    typo = await client.get("/tracks/search", params={"q": "Thundrstruck Bogie"})
    assert typo.data["tracks"] and typo.data["tracks"][0]["title"] == "Thunderstruck Boogie"
    by_artist = await client.get("/tracks/search", params={"q": "luna"})
    assert by_artist.data["tracks"][0]["artist"] == "Luna Vale"
    tagged = await client.get("/tracks/search", params={"q": "serenade", "limit": "10"})
    assert "Unrelated" in [t["title"] for t in tagged.data["tracks"]]


async def test_search_is_safe_with_hostile_input(client: ApiClient) -> None:
    for q in ["'; DROP TABLE tracks; --", "a' OR '1'='1", "\\", "%_%", "!!!", ":*&|", "((", "🎵", "a" * 200]:
        reply = await client.get("/tracks/search", params={"q": q})
        assert reply.status == 200, (q, reply.body)
    assert (await client.get("/tracks", params={"limit": "1"})).status == 200
    for params in ({"q": ""}, {"q": "   "}, {}, {"q": "x", "limit": "500"}, {"q": "a" * 201}):
        assert (await client.get("/tracks/search", params=params)).status == 400, params


async def test_limit_is_documented_in_openapi(client: ApiClient) -> None:
    doc = await client.get("/api/v1/openapi.json")
    params = {p["name"]: p for p in doc.body["paths"]["/api/v1/tracks"]["get"]["parameters"]}
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == 100
    assert params["limit"]["schema"]["default"] == 20
    assert set(params) >= {"page", "cursor", "genre", "format", "sort_by", "sort_order"}


async def test_concurrent_reads_do_not_interfere(client: ApiClient) -> None:
    replies = await asyncio.gather(*(client.get("/tracks", params={"limit": "5"}) for _ in range(10)))
    assert all(r.status == 200 for r in replies)


async def test_every_track_answer_has_exactly_the_documented_fields(client: ApiClient) -> None:
    """Listings are encoded from rows, not built as TrackOut: the shape must still be TrackOut's."""
    from veza.api.track_schemas import TrackOut

    owner = await client.register(role="creator")
    genre = f"g{uuid.uuid4().hex[:8]}"
    (track_id,) = await _seed(client, owner.id, [{"genre": genre, "title": f"Shape {genre}"}])
    fields = set(TrackOut.__struct_fields__)
    listed = (await client.get("/tracks", params={"genre": genre})).data["tracks"]
    found = (await client.get("/tracks/search", params={"q": f"Shape {genre}"})).data["tracks"]
    one = (await client.get(f"/tracks/{track_id}")).data
    for track in (*listed, *found, one):
        assert set(track) == fields
        assert track["stream_url"] == f"/api/v1/tracks/{track_id}/stream"
    assert len(listed) == 1 and any(t["id"] == track_id for t in found)


def _forged(sort_by: str, value: object, created_at: str = "2026-01-01T00:00:00Z") -> str:
    body = {"created_at": created_at, "id": str(uuid.uuid4()), "sort_by": sort_by, "value": value}
    return base64.urlsafe_b64encode(json.dumps(body).encode()).decode()


async def test_forged_cursor_values_out_of_the_column_range_are_400(client: ApiClient) -> None:
    # Each of these used to reach int(), asyncpg or PostgreSQL and fail there as a 500.
    cases = [
        ("like_count", float("inf")), ("like_count", float("-inf")), ("like_count", float("nan")),
        ("like_count", 1e30), ("like_count", 2**40), ("like_count", 2**31), ("like_count", -(2**31) - 1),
        ("like_count", 1.5), ("comment_count", 1e30), ("comment_count", 2**40), ("comment_count", float("nan")),
        ("duration", float("inf")), ("duration", float("nan")), ("duration", "60"),
        ("title", "a\u0000b"), ("title", "\ud800"), ("artist", "\udfff x"), ("title", "t" * 201),
    ]
    for sort_by, value in cases:
        reply = await client.get("/tracks", params={"sort_by": sort_by, "cursor": _forged(sort_by, value)})
        assert reply.status == 400, (sort_by, value, reply.body)
        assert reply.body["code"] == "invalid" and "cursor" in reply.body["details"]
    for created_at in ("0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"):
        reply = await client.get("/tracks", params={"cursor": _forged("created_at", None, created_at)})
        assert reply.status == 400 and "cursor" in reply.body["details"], (created_at, reply.body)
    # In range, they are ordinary positions.
    for sort_by, value in (("like_count", 2**31 - 1), ("comment_count", 0), ("duration", 1e300), ("title", "é")):
        reply = await client.get("/tracks", params={"sort_by": sort_by, "cursor": _forged(sort_by, value)})
        assert reply.status == 200, (sort_by, value, reply.body)


async def test_genre_filter_ignores_case(client: ApiClient) -> None:
    owner = await client.register(role="creator")
    genre = f"g{uuid.uuid4().hex[:8]}"
    (track_id,) = await _seed(client, owner.id, [{"genre": genre}])
    for asked in (genre, genre.upper(), genre.capitalize()):
        reply = await client.get("/tracks", params={"genre": asked})
        assert [t["id"] for t in reply.data["tracks"]] == [track_id], asked


async def test_legacy_page_is_bounded_by_the_offset_limit(client: ApiClient) -> None:
    for params in ({"page": "1000000", "limit": "100"}, {"page": "1002", "limit": "100"}, {"page": "100002"}):
        reply = await client.get("/tracks", params=params)
        assert reply.status == 400 and "page" in reply.body["details"], (params, reply.body)
    # The deepest page allowed: OFFSET 100,000.
    assert (await client.get("/tracks", params={"page": "1001", "limit": "100"})).status == 200
    assert (await client.get("/tracks", params={"page": "100001", "limit": "1"})).status == 200

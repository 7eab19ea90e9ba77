#!/usr/bin/env python3
"""GET /tracks: does a deep page cost what the first page costs, and what does veza's
stack cost over a bare handler? One run, peers side by side, ratios printed.

(a) Depth. 200,000 tracks (seeded once with one INSERT ... SELECT generate_series into
    the database `veza_bench_tracks`, reused by later runs). Against the real server
    (`python -m veza serve`): the first page, the page after a cursor at depth 100,000,
    and legacy `page` at the same depth (OFFSET 100,000). Sequential requests, the three
    interleaved so machine noise hits each alike; median and p99. Target: deep cursor
    within 1.5x of the first page.
(b) Throughput. `GET /tracks?limit=20` on veza, on a bare aiohttp+asyncpg handler running
    the same SQL and producing the same JSON (bench/peers/bare_aiohttp.py: the ceiling), and
    on FastAPI+uvicorn+asyncpg (bench/peers/fastapi_app.py). Load from `wrk` (a separate
    process), rounds alternating between servers. Target: veza >= 85% of bare, ahead of FastAPI.

Loopback only, bounded in time (about 2 minutes with the defaults after the first seed).

    python bench/tracks_pagination.py [--dsn postgresql://postgres@127.0.0.1:5432/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.procs import LOAD_LIMITS, commit, free_port, machine, run_wrk, stop, wait_http, with_database  # noqa: E402
from protocols.cursor import KeysetCursor  # noqa: E402
from veza.db import migrate  # noqa: E402

BENCH_DB = "veza_bench_tracks"
SEED_SQL = """
INSERT INTO tracks (owner_id, title, artist, genre, format, mime_type, duration, file_key, size_bytes, tags,
                    like_count, created_at)
SELECT $1, 'Track ' || i, 'Artist ' || (i % 500), (ARRAY['rock','jazz','pop','ambient','techno'])[1 + i % 5],
       (ARRAY['mp3','flac','wav','ogg'])[1 + i % 4], 'audio/mpeg', 120 + i % 240, 'tracks/bench/' || i || '.mp3',
       3000000 + i, ARRAY['tag' || (i % 50)], i % 97, now() - make_interval(secs => i)
FROM generate_series(1, $2) AS i
"""


async def prepare(admin_dsn: str, count: int, fresh: bool, name: str = BENCH_DB) -> str:
    dsn = with_database(admin_dsn, name)
    admin = await asyncpg.connect(admin_dsn)
    try:
        if fresh:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not await admin.fetchval("SELECT true FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
        if await conn.fetchval("SELECT count(*) FROM tracks") != count:
            started = time.monotonic()
            await conn.execute("TRUNCATE tracks CASCADE")
            owner = await conn.fetchval(
                "INSERT INTO users (username, email, role) VALUES ('bench_artist', 'bench@example.com', 'creator') "
                "ON CONFLICT DO NOTHING RETURNING id") or await conn.fetchval(
                "SELECT id FROM users WHERE username = 'bench_artist'")
            await conn.execute(SEED_SQL, owner, count)
            print(f"seeded {count} tracks in {time.monotonic() - started:.1f} s", file=sys.stderr)
        await conn.execute("VACUUM ANALYZE tracks")
    finally:
        await conn.close()
    return dsn


def start(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log.open("a"), stderr=subprocess.STDOUT)


async def depth_urls(dsn: str, depth: int, limit: int) -> dict[str, str]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchrow("SELECT created_at, id FROM tracks ORDER BY created_at DESC, id DESC "
                                  "OFFSET $1 LIMIT 1", depth - 1)
    finally:
        await conn.close()
    cursor = KeysetCursor(row["created_at"], row["id"]).to_string()
    return {
        "first page": f"/api/v1/tracks?limit={limit}",
        f"cursor at depth {depth:,}": f"/api/v1/tracks?limit={limit}&cursor={cursor}",
        f"legacy page at depth {depth:,}": f"/api/v1/tracks?limit={limit}&page={depth // limit + 1}",
    }


async def measure_depth(base: str, urls: dict[str, str], samples: int) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {name: [] for name in urls}
    async with aiohttp.ClientSession() as http:
        for name, url in urls.items():  # warm-up, and check each answers 20 tracks
            async with http.get(base + url) as resp:
                body = await resp.json()
                assert resp.status == 200 and len(body["data"]["tracks"]) == 20, (name, resp.status)
        for _ in range(samples):
            for name, url in urls.items():
                started = time.perf_counter()
                async with http.get(base + url) as resp:
                    await resp.read()
                timings[name].append(time.perf_counter() - started)
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def depth_report(timings: dict[str, list[float]]) -> list[str]:
    names = list(timings)
    first = statistics.median(timings[names[0]])
    lines = ["| request | samples | median ms | p99 ms | median vs first page |", "| --- | ---: | ---: | ---: | ---: |"]
    for name in names:
        med = statistics.median(timings[name])
        lines.append(f"| {name} | {len(timings[name])} | {med * 1000:.2f} | {pct(timings[name], 0.99):.2f} | "
                     f"{med / first:.2f}x |")
    cursor, legacy = names[1], names[2]
    lines += ["", f"- **deep cursor / first page = {statistics.median(timings[cursor]) / first:.2f}x** (target <= 1.5x)",
              f"- legacy page at the same depth / first page = {statistics.median(timings[legacy]) / first:.2f}x; "
              f"legacy / cursor = {statistics.median(timings[legacy]) / statistics.median(timings[cursor]):.1f}x"]
    return lines


def throughput_report(results: dict[str, list[tuple[float, float, int]]]) -> list[str]:
    lines = ["| server | rounds | req/s (mean) | p99 ms (median of rounds) | errors |", "| --- | ---: | ---: | ---: | ---: |"]
    summary: dict[str, tuple[float, float]] = {}
    for name, runs in results.items():
        rps = statistics.mean(r for r, _, _ in runs)
        p99 = statistics.median(p for _, p, _ in runs)
        summary[name] = (rps, p99)
        lines.append(f"| {name} | {len(runs)} | {rps:.0f} | {p99:.2f} | {sum(e for _, _, e in runs)} |")
    if any(e for runs in results.values() for _, _, e in runs):
        lines.append("\n**Some requests failed (non-2xx or socket errors): the rows with errors are not comparable.**")
    veza, bare, fast = summary["veza"], summary["bare aiohttp+asyncpg"], summary["FastAPI+uvicorn+asyncpg"]
    lines += ["", f"- **veza / bare = {veza[0] / bare[0] * 100:.0f}% of requests/s** (target >= 85%); "
              f"p99 {veza[1] / bare[1]:.2f}x bare's",
              f"- **veza / FastAPI = {veza[0] / fast[0]:.2f}x requests/s** (target > 1); p99 {veza[1] / fast[1]:.2f}x FastAPI's"]
    return lines


async def run(args: argparse.Namespace) -> str:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (Debian: apt-get install wrk; scripts/install-system-deps does it)")
    header = [f"- machine: {machine()}", f"- commit: {commit()}; PostgreSQL at {urlsplit(args.dsn).netloc}"]
    dsn = await prepare(args.dsn, args.tracks, args.fresh, args.database)
    tmp = Path(tempfile.mkdtemp(prefix="veza-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PORT", "APP_ENV"}}
    # The rate limiter stays on (its cost is part of the stack) with limits no load test reaches:
    # at the defaults (100/s per IP) veza would answer this benchmark mostly with 429s.
    env.update(DATABASE_URL=dsn, DB_POOL_MAX=str(args.pool), LOG_LEVEL="WARNING", JWT_SECRET="bench-" + "x" * 40,
               **LOAD_LIMITS)
    ports = {name: free_port() for name in ("veza", "bare aiohttp+asyncpg", "FastAPI+uvicorn+asyncpg")}
    py = sys.executable
    commands = {
        "veza": [py, "-m", "veza", "serve", "--host", "127.0.0.1", "--port", str(ports["veza"]),
                 "--data-dir", str(tmp / "data")],
        "bare aiohttp+asyncpg": [py, "bench/peers/bare_aiohttp.py", "--port", str(ports["bare aiohttp+asyncpg"]),
                                 "--dsn", dsn, "--pool", str(args.pool)],
        "FastAPI+uvicorn+asyncpg": [py, "bench/peers/fastapi_app.py", "--port",
                                    str(ports["FastAPI+uvicorn+asyncpg"]), "--dsn", dsn, "--pool", str(args.pool)],
    }
    procs = {name: start(cmd, env, tmp / f"{name.split()[0]}.log") for name, cmd in commands.items()}
    try:
        for name, proc in procs.items():
            await wait_http(ports[name], "/api/v1/tracks?limit=1", proc, status=200)
        lines = [*header, ""]
        if args.part in ("a", "both"):
            urls = await depth_urls(dsn, args.depth, 20)
            timings = await measure_depth(f"http://127.0.0.1:{ports['veza']}", urls, args.samples)
            lines += [f"(a) {args.tracks:,} tracks, limit=20, {args.samples} sequential samples each, interleaved:", "",
                      *depth_report(timings), ""]
        if args.part in ("b", "both"):
            results: dict[str, list[tuple[float, float, int]]] = {name: [] for name in ports}
            for name, port in ports.items():  # warm-up: pools full, code paths hot
                run_wrk(f"http://127.0.0.1:{port}/api/v1/tracks?limit=20", 2, args.connections)
            for _ in range(args.rounds):
                for name, port in ports.items():
                    results[name].append(run_wrk(f"http://127.0.0.1:{port}/api/v1/tracks?limit=20", args.seconds,
                                                 args.connections))
            lines += [f"(b) GET /tracks?limit=20, wrk -t1 -c{args.connections}, {args.rounds} rounds x "
                      f"{args.seconds:g} s per server, alternating; DB pool {args.pool} each:", "",
                      *throughput_report(results)]
        return "\n".join(lines)
    finally:
        for proc in procs.values():
            stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dsn", default=os.environ.get("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
                        help="a PostgreSQL server's maintenance DSN; the bench database is created beside it")
    parser.add_argument("--tracks", type=int, default=200_000)
    parser.add_argument("--depth", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=150, help="sequential requests per kind in (a)")
    parser.add_argument("--rounds", type=int, default=3, help="wrk rounds per server in (b)")
    parser.add_argument("--seconds", type=int, default=8, help="seconds per wrk round")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10, help="database pool size of every server")
    parser.add_argument("--part", choices=("a", "b", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="drop and re-seed the bench database")
    parser.add_argument("--database", default=BENCH_DB, help="name of the bench database (kept between runs)")
    args = parser.parse_args()
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

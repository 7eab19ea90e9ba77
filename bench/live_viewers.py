"""Live viewers benchmark: N sockets watching one stream while viewers churn.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/live_viewers.py

Starts a real `veza serve` on a free loopback port (fresh database, dropped afterwards),
connects N anonymous WebSockets that `watch` one stream, then runs two phases side by side:
- steady: everyone watches, nobody moves;
- churn: `--rate` joins+leaves per second, each a join or a leave at random so the count
  random-walks around N (leaves alternate `unwatch` and a dropped socket; a socket that
  left rejoins later, reconnecting if it was dropped).
After the churn stops it measures how long each viewer takes to see the true count, and
checks that no viewer got `stream_viewers` more often than once per second. CPU is the
server process's user+system time (from /proc) per wall second, per 1,000 viewers.
Loopback only, bounded in count and time (about 1-2 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


class Viewer:
    def __init__(self) -> None:
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self.reader: asyncio.Task[None] | None = None
        self.watching = False
        self.seen: int | None = None  # last viewer count this socket was told
        self.seen_at = 0.0
        self.event_times: list[float] = []
        self.acked = asyncio.Event()

    async def run_reader(self) -> None:
        assert self.ws is not None
        async for msg in self.ws:
            if msg.type is not aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(msg.data)
            kind = frame["type"]
            if kind in ("stream_state", "stream_viewers"):
                self.seen, self.seen_at = frame["viewers"], time.monotonic()
                if kind == "stream_viewers":
                    self.event_times.append(self.seen_at)
            if kind in ("stream_state", "ok", "error"):
                self.acked.set()


async def connect_and_watch(http: aiohttp.ClientSession, base: str, stream: str, viewer: Viewer) -> None:
    viewer.ws = await http.ws_connect(base.replace("http", "ws") + "/api/v1/ws", autoping=True)
    viewer.reader = asyncio.create_task(viewer.run_reader())
    await command(viewer, {"type": "watch", "stream": stream})
    viewer.watching = True


async def command(viewer: Viewer, frame: dict) -> None:
    assert viewer.ws is not None
    viewer.acked.clear()
    await viewer.ws.send_json(frame)
    await asyncio.wait_for(viewer.acked.wait(), 30)


async def drop(viewer: Viewer) -> None:
    viewer.watching = False
    if viewer.ws is not None:
        await viewer.ws.close()
    if viewer.reader is not None:
        await viewer.reader
    viewer.ws = viewer.reader = None
    viewer.seen = None


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def with_db(dsn: str, name: str) -> str:
    p = urlsplit(dsn)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


async def start_server(dsn: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": dsn, "APP_ENV": "development", "LOG_LEVEL": "WARNING",
           "LIVE_VIEWERS_INTERVAL": "1", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192",
           "VEZA_DATA_DIR": data_dir, "PYTHONPATH": ROOT}
    env.pop("REDIS_URL", None)  # one node, in-process broker: measures the node itself
    proc = subprocess.Popen([sys.executable, "-m", "veza", "serve", "--host", "127.0.0.1", "--port", str(port)],
                            env=env, cwd=ROOT)
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(f"http://127.0.0.1:{port}/api/v1/health") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.terminate()
    raise RuntimeError("server did not start")


async def create_stream(http: aiohttp.ClientSession, base: str) -> str:
    name = "bench_" + uuid.uuid4().hex[:8]
    body = {"username": name, "email": f"{name}@example.com", "password": "SecureP@ssw0rd1"}
    async with http.post(base + "/api/v1/auth/register", json=body) as resp:
        token = (await resp.json())["data"]["access_token"]
    async with http.post(base + "/api/v1/live/streams", json={"title": "Bench"},
                         headers={"Authorization": f"Bearer {token}"}) as resp:
        return (await resp.json())["data"]["id"]


async def churn(http: aiohttp.ClientSession, base: str, stream: str, viewers: list[Viewer], rate: int,
                seconds: float, target: int, rng: random.Random) -> int:
    """`rate` joins+leaves per second, started on a 10 Hz schedule without waiting for the
    previous ones to be answered; each a join or a leave at random, leaning back towards
    `target` watchers. Returns the operations done (all answered)."""
    ops, step, flip = 0, 0.1, False
    busy: set[Viewer] = set()
    pending: set[asyncio.Task[None]] = set()

    def start(viewer: Viewer, coro) -> None:  # type: ignore[no-untyped-def]
        busy.add(viewer)
        task = asyncio.create_task(coro)
        task.add_done_callback(lambda _: busy.discard(viewer))
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop = asyncio.get_running_loop()
    due, end = loop.time(), loop.time() + seconds
    while due < end:
        watching = [v for v in viewers if v.watching and v not in busy]
        idle = [v for v in viewers if not v.watching and v not in busy]
        p_join = min(0.9, max(0.1, 0.5 + (target - len(watching)) / (2 * rate)))
        joins = sum(rng.random() < p_join for _ in range(int(rate * step)))
        for v in rng.sample(watching, min(int(rate * step) - joins, len(watching))):
            flip = not flip
            v.watching = False
            start(v, command(v, {"type": "unwatch", "stream": stream}) if flip else drop(v))
            ops += 1
        for v in rng.sample(idle, min(joins, len(idle))):
            v.watching = True
            start(v, command(v, {"type": "watch", "stream": stream}) if v.ws is not None
                  else connect_and_watch(http, base, stream, v))
            ops += 1
        due += step
        await asyncio.sleep(max(0.0, due - loop.time()))
    if pending:
        await asyncio.gather(*pending)
    return ops


async def measure(server: subprocess.Popen[bytes], coro) -> tuple[float, float, object]:  # type: ignore[no-untyped-def]
    cpu0, t0 = cpu_seconds(server.pid), time.monotonic()
    result = await coro
    return cpu_seconds(server.pid) - cpu0, time.monotonic() - t0, result


async def run(args: argparse.Namespace) -> None:
    admin = os.environ.get("DATABASE_URL") or sys.exit("DATABASE_URL is required (a PostgreSQL server)")
    dbname = "veza_bench_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{dbname}"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = None
    rng = random.Random(42)
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            server = await start_server(with_db(admin, dbname), port, data_dir)
            connector = aiohttp.TCPConnector(limit=0)
            async with aiohttp.ClientSession(connector=connector) as http:
                stream = await create_stream(http, base)
                pool = [Viewer() for _ in range(args.viewers + args.rate)]  # spare sockets to join
                t0 = time.monotonic()
                for i in range(0, args.viewers, 250):
                    await asyncio.gather(*(connect_and_watch(http, base, stream, v) for v in pool[i:i + 250]))
                print(f"connected {args.viewers} watching sockets in {time.monotonic() - t0:.1f}s")
                await asyncio.sleep(2)
                steady_cpu, steady_wall, _ = await measure(server, asyncio.sleep(args.steady))
                for v in pool:
                    v.event_times.clear()
                churn_start = time.monotonic()
                churn_cpu, churn_wall, ops = await measure(
                    server, churn(http, base, stream, pool, args.rate, args.churn, args.viewers, rng))
                churn_end = time.monotonic()
                watching = [v for v in pool if v.watching]
                truth = len(watching)
                await asyncio.sleep(args.settle)
                report(args, pool, watching, truth, (churn_start, churn_end), ops,
                       (steady_cpu, steady_wall), (churn_cpu, churn_wall))
                async with http.get(f"{base}/api/v1/live/streams/{stream}") as resp:
                    print(f"REST viewer_count after settling: {(await resp.json())['data']['viewer_count']} (truth {truth})")
                await asyncio.gather(*(drop(v) for v in pool if v.ws is not None))
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.close()


def report(args, pool, watching, truth, window, ops, steady, churned) -> None:  # type: ignore[no-untyped-def]
    churn_start, churn_end = window
    churn_wall = churn_end - churn_start
    converge = []
    for v in watching:
        if v.seen != truth:
            converge.append(float("inf"))
        else:
            converge.append(max(0.0, v.seen_at - churn_end))
    converge.sort()
    ok = sum(1 for c in converge if c <= 2.0)
    during = [[t for t in v.event_times if churn_start <= t <= churn_end] for v in pool]
    gaps = [b - a for times in during for a, b in zip(times, times[1:])]
    most = max((len(times) for times in during), default=0)
    per_k = lambda cpu, wall: 1000.0 * cpu / wall / (args.viewers / 1000)  # noqa: E731  CPU ms/s per 1k viewers
    steady_k, churn_k = per_k(*steady), per_k(*churned)
    print(f"churn: {ops} joins+leaves in {churn_wall:.1f}s = {ops / churn_wall:.0f}/s; final truth {truth} watching")
    print(f"converged to the truth within 2 s: {ok}/{len(watching)} viewers; "
          f"p50 {converge[len(converge) // 2]:.2f}s, max {converge[-1]:.2f}s after churn stopped")
    print(f"stream_viewers per viewer during the {churn_wall:.1f}s churn: at most {most} "
          f"(a 1 s cadence allows {int(churn_wall) + 1}); smallest gap seen by a client {min(gaps, default=float('nan')):.3f}s "
          f"(the server sends on a fixed 1 s cadence; a busy client reads two at once)")
    ratio = f"{churn_k / steady_k:.1f}x" if steady_k >= 0.05 else "steady is ~0"
    print(f"server CPU per 1,000 viewers: steady {steady_k:.1f} ms/s, churn {churn_k:.1f} ms/s "
          f"(churn/steady: {ratio})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--viewers", type=int, default=5000)
    parser.add_argument("--rate", type=int, default=500, help="joins+leaves per second")
    parser.add_argument("--steady", type=float, default=10.0)
    parser.add_argument("--churn", type=float, default=30.0)
    parser.add_argument("--settle", type=float, default=3.0)
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

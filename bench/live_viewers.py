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
import contextlib
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

import aiohttp
import asyncpg

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from bench.procs import free_port, with_database  # noqa: E402


ERRORS: dict[str, int] = {}  # error frames received, by code (per client process)
CLOSED: dict[int, int] = {}  # sockets the server closed while watching, by close code


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
        ws = self.ws
        async for msg in ws:
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
            if kind == "error":
                ERRORS[frame.get("code", "?")] = ERRORS.get(frame.get("code", "?"), 0) + 1
        if self.watching and ws.close_code is not None:  # the server closed a socket we did not
            CLOSED[ws.close_code] = CLOSED.get(ws.close_code, 0) + 1


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
        with contextlib.suppress(Exception):
            await viewer.reader
    viewer.ws = viewer.reader = None
    viewer.seen = None


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def start_server(dsn: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "DATABASE_URL": dsn, "APP_ENV": "development", "LOG_LEVEL": "WARNING",
           "LIVE_VIEWERS_INTERVAL": "1", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_KIB": "8192",
           "VEZA_DATA_DIR": data_dir, "PYTHONPATH": ROOT,
           # Every socket comes from 127.0.0.1: the per-IP HTTP limit would refuse the
           # upgrades, which is not what is measured here (real viewers have their own IPs).
           "RATE_LIMIT_ENABLED": "false", "REGISTER_MAX_PER_IP": "1000000000"}
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


async def churn(http: aiohttp.ClientSession, base: str, stream: str, viewers: list[Viewer], rate: float,
                seconds: float, target: int, rng: random.Random) -> int:
    """`rate` joins+leaves per second, started on a 10 Hz schedule without waiting for the
    previous ones to be answered; each a join or a leave at random, leaning back towards
    `target` watchers. Returns the operations done (all answered)."""
    ops, step, flip = 0, 0.1, False
    busy: set[Viewer] = set()
    pending: set[asyncio.Task[None]] = set()

    async def guarded(viewer: Viewer, coro) -> None:  # type: ignore[no-untyped-def]
        try:
            await coro
        except (aiohttp.ClientError, TimeoutError, ConnectionError) as exc:  # counted, not fatal
            name = f"client {type(exc).__name__}"
            ERRORS[name] = ERRORS.get(name, 0) + 1
            await drop(viewer)

    def start(viewer: Viewer, coro) -> None:  # type: ignore[no-untyped-def]
        busy.add(viewer)
        task = asyncio.create_task(guarded(viewer, coro))
        task.add_done_callback(lambda _: busy.discard(viewer))
        pending.add(task)
        task.add_done_callback(pending.discard)

    loop = asyncio.get_running_loop()
    due, end, budget = loop.time(), loop.time() + seconds, 0.0
    while due < end:
        watching = [v for v in viewers if v.watching and v not in busy]
        idle = [v for v in viewers if not v.watching and v not in busy]
        intended = sum(v.watching for v in viewers)  # in-flight joins count as watching
        p_join = min(0.9, max(0.1, 0.5 + (target - intended) / (2 * rate)))
        budget += rate * step
        count = int(budget)
        budget -= count
        joins = sum(rng.random() < p_join for _ in range(count))
        for v in rng.sample(watching, min(count - joins, len(watching))):
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


# ---- one client process: its share of the sockets, on the shared plan ----------------------

def worker(pipe, base: str, stream: str, n: int, rate: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    # The clients yield to the server when the cores are contended: the server is measured.
    os.nice(10)
    asyncio.run(worker_main(pipe, base, stream, n, rate, seed))


async def worker_main(pipe, base: str, stream: str, n: int, rate: float, seed: int) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    recv = lambda: loop.run_in_executor(None, pipe.recv)  # noqa: E731
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as http:
        pool = [Viewer() for _ in range(n + int(rate))]  # spare sockets to join
        for i in range(0, n, 50):  # small batches: the server's listen backlog is 128
            await asyncio.gather(*(connect_and_watch(http, base, stream, v) for v in pool[i:i + 50]))
        pipe.send("ready")
        churn_start, churn_end = await recv()
        await asyncio.sleep(max(0.0, churn_start - time.monotonic()))
        for v in pool:
            v.event_times.clear()
        ops = await churn(http, base, stream, pool, rate, churn_end - time.monotonic(), n, random.Random(seed))
        watching = [v for v in pool if v.watching]
        pipe.send((len(watching), time.monotonic(), ops))
        await recv()  # settled
        during = [[t for t in v.event_times if churn_start <= t <= churn_end] for v in pool]
        gaps = [b - a for times in during for a, b in zip(times, times[1:])]
        pipe.send(([(v.seen, v.seen_at) for v in watching], max(map(len, during), default=0),
                   min(gaps, default=float("nan")), ERRORS, CLOSED))
        await asyncio.gather(*(drop(v) for v in pool if v.ws is not None))


# ---- the conductor ----------------------------------------------------------------------------

async def run(args: argparse.Namespace) -> None:
    admin = os.environ.get("DATABASE_URL") or sys.exit("DATABASE_URL is required (a PostgreSQL server)")
    dbname = "veza_bench_" + uuid.uuid4().hex[:8]
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{dbname}"')
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server, procs = None, []
    ctx = multiprocessing.get_context("spawn")
    try:
        with tempfile.TemporaryDirectory() as data_dir:
            server = await start_server(with_database(admin, dbname), port, data_dir)
            async with aiohttp.ClientSession() as http:
                stream = await create_stream(http, base)
            pipes = []
            t0 = time.monotonic()
            share = args.viewers // args.workers
            for i in range(args.workers):
                parent, child = ctx.Pipe()
                proc = ctx.Process(target=worker, args=(child, base, stream, share, args.rate / args.workers, i),
                                   daemon=True)
                proc.start()
                procs.append(proc)
                pipes.append(parent)

            async def ask(pipe):  # type: ignore[no-untyped-def]
                while not pipe.poll():
                    if not all(proc.is_alive() for proc in procs):
                        raise RuntimeError("a client process died (see its traceback above)")
                    await asyncio.sleep(0.1)
                return pipe.recv()

            await asyncio.gather(*(ask(p) for p in pipes))
            viewers = share * args.workers
            print(f"connected {viewers} watching sockets from {args.workers} client processes "
                  f"in {time.monotonic() - t0:.1f}s")
            await asyncio.sleep(2)
            cpu0, s0 = cpu_seconds(server.pid), time.monotonic()
            await asyncio.sleep(args.steady)
            steady = (cpu_seconds(server.pid) - cpu0, time.monotonic() - s0)
            churn_start = time.monotonic() + 0.5
            churn_end = churn_start + args.churn
            for p in pipes:
                p.send((churn_start, churn_end))
            await asyncio.sleep(churn_start - time.monotonic())
            cpu0 = cpu_seconds(server.pid)
            finished = await asyncio.gather(*(ask(p) for p in pipes))
            churned = (cpu_seconds(server.pid) - cpu0, time.monotonic() - churn_start)
            truth = sum(f[0] for f in finished)
            settled_from = max(f[1] for f in finished)
            ops = sum(f[2] for f in finished)
            await asyncio.sleep(args.settle)
            async with aiohttp.ClientSession() as http, http.get(f"{base}/api/v1/live/streams/{stream}") as resp:
                persisted = (await resp.json())["data"]["viewer_count"]
            for p in pipes:  # the clients report, then close their sockets
                p.send("settled")
            results = await asyncio.gather(*(ask(p) for p in pipes))
            seen = [pair for r in results for pair in r[0]]
            report(viewers, truth, seen, settled_from, ops, (churn_start, churn_end),
                   max(r[1] for r in results), min(r[2] for r in results), steady, churned)
            errors: dict = {}
            closed: dict = {}
            for r in results:
                for k, v in r[3].items():
                    errors[k] = errors.get(k, 0) + v
                for k, v in r[4].items():
                    closed[k] = closed.get(k, 0) + v
            print(f"error frames: {errors or 'none'}; sockets closed by the server: {closed or 'none'}")
            print(f"REST viewer_count after settling: {persisted} (truth {truth})")
            for proc in procs:
                proc.join(30)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        if server is not None:
            server.terminate()
            server.wait(10)
        await conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        await conn.close()


def report(viewers, truth, seen, settled_from, ops, window, most, min_gap, steady, churned) -> None:  # type: ignore[no-untyped-def]
    churn_wall = window[1] - window[0]
    converge = sorted(max(0.0, at - settled_from) if value == truth else float("inf") for value, at in seen)
    ok = sum(1 for c in converge if c <= 2.0)
    per_k = lambda cpu, wall: 1000.0 * cpu / wall / (viewers / 1000)  # noqa: E731  CPU ms/s per 1k viewers
    steady_k, churn_k = per_k(*steady), per_k(*churned)
    print(f"churn: {ops} joins+leaves in {churn_wall:.1f}s = {ops / churn_wall:.0f}/s; final truth {truth} watching")
    print(f"converged to the truth within 2 s: {ok}/{len(seen)} viewers; "
          f"p50 {converge[len(converge) // 2]:.2f}s, max {converge[-1]:.2f}s after the last churn answer")
    print(f"stream_viewers per viewer during the {churn_wall:.1f}s churn: at most {most} "
          f"(a 1 s cadence allows {int(churn_wall) + 1}); smallest gap seen by a client {min_gap:.3f}s "
          f"(the server sends on a fixed 1 s cadence; a busy client may read two at once)")
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
    parser.add_argument("--workers", type=int, default=4, help="client processes sharing the sockets")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()

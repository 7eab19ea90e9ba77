#!/usr/bin/env python3
"""What veza's stack costs on two real routes, against bare aiohttp+asyncpg handlers doing
the same reads (issue 19 item 4). One run, rounds alternating between the servers:

- `GET /api/v1/tracks?limit=20` (public; one query): veza vs bench/peers/bare_aiohttp.py
  running the same SQL and producing the same JSON. Target: veza >= 90% of bare.
- `GET /api/v1/users/me` with a bearer token: veza (the edge, the JWT, the session read
  through the batched session reader, the user read, the envelope) vs the bare peer's
  handler doing the same JWT decode, session read and user read. Target: veza's time per
  request within 1.3x of bare's, i.e. veza's requests/s >= 1 / 1.3 = 77% of bare's.

Load from `wrk -t1` (a separate C process), same connections for every server; the bench
database of bench/tracks_pagination.py (200,000 tracks, seeded once). Non-2xx answers
count as errors (the rate limiter stays on in veza, with limits no load test reaches).

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/edge_cost.py --rounds 5

`--tree NAME=DIR` (repeatable) also serves veza from another checkout (`git archive` of a
commit, say) in the same rounds, so a change is measured against its base under the same
load; each such server's ratio is against the same round's bare.
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
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench.procs import commit, cpu_seconds, free_port, machine, run_wrk, stop, wait_http  # noqa: E402
from bench.tracks_pagination import prepare, start  # noqa: E402

SECRET = "bench-" + "x" * 40
ROUTES = {"GET /tracks?limit=20": "/api/v1/tracks?limit=20", "GET /users/me (signed in)": "/api/v1/users/me"}
TARGETS = {"GET /tracks?limit=20": 0.90, "GET /users/me (signed in)": 1 / 1.3}


async def sign_in(port: int) -> str:
    async with aiohttp.ClientSession() as http:
        body = {"username": "edge_cost", "email": "edge_cost@example.com", "password": "SecureP@ssw0rd"}
        async with http.post(f"http://127.0.0.1:{port}/api/v1/auth/register", json=body) as resp:
            if resp.status == 201:
                return (await resp.json())["data"]["access_token"]
        async with http.post(f"http://127.0.0.1:{port}/api/v1/auth/login",
                             json={"email": body["email"], "password": body["password"]}) as resp:
            assert resp.status == 200, await resp.text()
            return (await resp.json())["data"]["access_token"]


async def run(args: argparse.Namespace) -> str:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is required (Debian: apt-get install wrk; scripts/install-system-deps does it)")
    header = [f"- machine: {machine()}", f"- commit: {commit()}"]
    dsn = await prepare(args.dsn, args.tracks, False)
    tmp = Path(tempfile.mkdtemp(prefix="veza-bench-"))
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "PORT", "APP_ENV"}}
    env.update(DATABASE_URL=dsn, DB_POOL_MAX=str(args.pool), LOG_LEVEL="WARNING", JWT_SECRET=SECRET,
               RATE_LIMIT_GLOBAL="100000000", RATE_LIMIT_PER_IP="100000000", REGISTER_MAX_PER_IP="100000000",
               ARGON2_TIME_COST="1", ARGON2_MEMORY_KIB="8192")
    ports = {"veza": free_port(), "bare": free_port(), **{name: free_port() for name in args.trees}}
    py = sys.executable

    def veza(name: str, root: Path) -> subprocess.Popen[bytes]:
        return subprocess.Popen([py, "-m", "veza", "serve", "--host", "127.0.0.1", "--port", str(ports[name]),
                                 "--data-dir", str(tmp / f"data-{name}")], env={**env, "PYTHONPATH": str(root)},
                                cwd=root, stdout=(tmp / f"{name}.log").open("a"), stderr=subprocess.STDOUT)

    procs = {
        "veza": veza("veza", ROOT),
        "bare": start([py, "bench/peers/bare_aiohttp.py", "--port", str(ports["bare"]), "--dsn", dsn,
                       "--pool", str(args.pool), "--jwt-secret", SECRET], env, tmp / "bare.log"),
        **{name: veza(name, root) for name, root in args.trees.items()},
    }
    try:
        for name, proc in procs.items():
            await wait_http(ports[name], "/api/v1/tracks?limit=1", proc, status=200)
        token = await sign_in(ports["veza"])  # the same token is good on both: same secret, same database
        auth = {"Authorization": f"Bearer {token}"}
        results: dict[tuple[str, str], list[tuple[float, float, int, float]]] = {}
        for route, path in ROUTES.items():
            for name, port in ports.items():  # warm-up, and the answer must be a 200
                run_wrk(f"http://127.0.0.1:{port}{path}", 2, args.connections, headers=auth)
        for round_ in range(args.rounds):
            for route, path in ROUTES.items():
                order = list(ports) if round_ % 2 == 0 else list(ports)[::-1]
                for name in order:
                    cpu = cpu_seconds(procs[name].pid)
                    rps, p99, errors = run_wrk(f"http://127.0.0.1:{ports[name]}{path}", args.seconds, args.connections,
                                               headers=auth)
                    cpu_us = (cpu_seconds(procs[name].pid) - cpu) / max(1.0, rps * args.seconds) * 1e6
                    results.setdefault((route, name), []).append((rps, p99, errors, cpu_us))
        lines = [*header, "", f"wrk -t1 -c{args.connections}, {args.rounds} rounds x {args.seconds} s per server and "
                 f"route, alternating; DB pool {args.pool} each; load average after {os.getloadavg()[0]:.2f}", "",
                 "| route | server | req/s (mean) | server CPU per request | p99 ms (median) | errors | veza / bare req/s | "
                 "bare / veza CPU |", "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for route in ROUTES:
            rps = {name: statistics.mean(r[0] for r in results[(route, name)]) for name in ports}
            cpu = {name: statistics.median(r[3] for r in results[(route, name)]) for name in ports}
            for name in ports:
                runs = results[(route, name)]
                ratio = (f"**{rps[name] / rps['bare']:.2f}x** (target >= {TARGETS[route]:.2f}x) | "
                         f"{cpu['bare'] / cpu[name]:.2f}x") if name != "bare" else " |"
                lines.append(f"| {route} | {name} | {rps[name]:.0f} | {cpu[name]:.0f} us | "
                             f"{statistics.median(r[1] for r in runs):.2f} | {sum(r[2] for r in runs)} | {ratio} |")
        for name in ports:
            if name == "bare":
                continue
            per_round = {route: [f"{v[0] / b[0]:.2f}" for v, b in zip(results[(route, name)], results[(route, "bare")],
                                                                      strict=True)] for route in ROUTES}
            lines += [""] + [f"- {route}: {name} / bare per round {', '.join(r)}" for route, r in per_round.items()]
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
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--pool", type=int, default=10)
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                        help="also serve veza from the checkout DIR, as server NAME, in the same rounds")
    args = parser.parse_args()
    args.trees = {}
    for item in args.tree:
        name, _, folder = item.partition("=")
        if not folder or name in {"veza", "bare"} or not (Path(folder) / "veza").is_dir():
            parser.error(f"--tree takes NAME=DIR, DIR a checkout of this repository: {item!r}")
        args.trees[name] = Path(folder).resolve()
    print(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

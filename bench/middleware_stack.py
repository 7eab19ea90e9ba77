"""What the edge costs: a cheap route with the whole stack (the edge and its controls) vs with none.

Starts real server processes of the same app built differently, side by side in one run:
  none          the handlers registered bare: no edge at all
  foundation    only the foundation's (request id, metrics, CORS, errors, security headers)
  stack-memory  the whole stack (request id, metrics, CORS, errors, audit, rate limits,
                maintenance, privacy, security headers), in-process counters
  stack-redis   the same with the Redis counter store (when REDIS_URL is set)
and drives each in turn (alternating rounds, so machine noise hits all alike) with wrk
(a C load generator: a Python client saturates before the server does, which hides what
the stack costs). Reports requests/s, the server's CPU time per request (from /proc) and
p99, and the ratios to `none`.
The rate limits are set high so the limiter counts every request but refuses none.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/0 \\
        .venv/bin/python bench/middleware_stack.py [--seconds 1] [--rounds 8] [--concurrency 32]

With `--instructions` each variant runs under valgrind's callgrind instead, and the
figure is user-space instructions per request (`bench/instructions.py`): the same to
0.1% from run to run however loaded the machine is, where wall clock moves 10-20%.

`--tree NAME=DIR` (repeatable) adds a variant NAME: the whole stack (in-process counters)
served from another checkout DIR of this repository, so a change to the edge (a branch,
a compiled build) is measured in the same rounds as this tree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.procs import commit, cpu_seconds, free_port, machine, run_wrk, wait_http  # noqa: E402

PING = "/api/v1/bench/ping"
VARIANTS = ("none", "foundation", "stack-memory", "stack-redis")  # stack-redis only with REDIS_URL
LIMITS = "/api/v1/upload/limits"


def serve(variant: str, port: int, dsn: str) -> None:
    from aiohttp import web

    from veza import keys
    from veza.app import create_app
    from veza.config import Settings
    from veza.http.envelope import ok

    redis_url = os.environ.get("REDIS_URL") if variant == "stack-redis" else None
    settings = Settings(app_env="test", database_url=dsn, redis_url=redis_url, jwt_secret="bench-" + "x" * 40,
                        data_dir=Path("/tmp"), db_pool_min=1, db_pool_max=4, log_level="WARNING",
                        rate_limit_global=10**9, rate_limit_per_ip=10**9,
                        rate_limit_key_prefix=f"veza-bench:{os.getpid()}:")
    app = create_app(settings, edge=variant != "none")

    async def ping(request: web.Request) -> web.Response:
        return ok({"pong": True})

    edge = app[keys.edge]
    for method in ("GET", "POST"):
        app.router.add_route(method, PING, edge.route(method, PING, ping))
    if variant == "foundation":
        async def without_controls(app: web.Application) -> None:  # runs after every cleanup_ctx start
            app[keys.edge].controls = None

        app.on_startup.append(without_controls)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


# What is driven: the cheapest possible handler (GET and POST, the POST audited), and a
# real API route that touches no database (through the router: query validation, OpenAPI
# declaration) to show the stack's share on a route of the product.
ROUTES = (("GET", PING), ("POST", PING), ("GET", LIMITS))


def drive(servers: dict[str, tuple[int, int]], args: argparse.Namespace) -> dict[tuple[str, str], list[tuple[float, float, float]]]:
    """Short rounds, variants interleaved: per round (req/s, server CPU us/request, p99 ms)."""
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for variant, (port, _) in servers.items():
        asyncio.run(wait_http(port, "/api/v1/healthz", status=200))
    for method, path in ROUTES:
        route = f"{method} {path}"
        for variant, (port, _) in servers.items():  # warm up
            run_wrk(f"http://127.0.0.1:{port}{path}", 1, args.concurrency, method)
        for _ in range(args.rounds):
            for variant, (port, pid) in servers.items():
                cpu0 = cpu_seconds(pid)
                rps, p99, bad = run_wrk(f"http://127.0.0.1:{port}{path}", args.seconds, args.concurrency, method)
                cpu = cpu_seconds(pid) - cpu0
                if bad:
                    raise RuntimeError(f"{variant} {route}: {bad} non-2xx answers or socket errors")
                results.setdefault((variant, route), []).append((rps, cpu / (rps * args.seconds) * 1e6, p99))
    return results


REQUESTS = {
    ("GET", PING): b"GET " + PING.encode() + b" HTTP/1.1\r\nHost: bench\r\n\r\n",
    ("POST", PING): b"POST " + PING.encode() + b" HTTP/1.1\r\nHost: bench\r\nContent-Length: 0\r\n\r\n",
    ("GET", LIMITS): b"GET " + LIMITS.encode() + b" HTTP/1.1\r\nHost: bench\r\n\r\n",
}


def server_argv(variant: str, port: int, dsn: str, trees: dict[str, Path]) -> tuple[list[str], Path]:
    """The command line and working directory of `variant`'s server (a `--tree` runs its own copy of this file)."""
    root = trees.get(variant, ROOT)
    served = "stack-memory" if variant in trees else variant
    return [sys.executable, str(root / "bench" / "middleware_stack.py"), "--serve", served, "--port", str(port),
            "--dsn", dsn], root


def count_instructions(variants: list[str], dsn: str, args: argparse.Namespace) -> None:
    """Each variant under callgrind in turn: instructions per request of each route."""
    from bench.instructions import available, callgrind_server

    if not available():
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    counts: dict[tuple[str, str], float] = {}
    for variant in variants:
        port = free_port()
        argv, root = server_argv(variant, port, dsn, args.trees)
        with callgrind_server(argv, port, cwd=root) as server:
            server.wait_ready(REQUESTS[("GET", PING)])
            for route, raw in REQUESTS.items():
                counts[(variant, " ".join(route))] = server.count(raw, warmup=args.warmup, requests=args.requests)
    print(f"instructions per request (callgrind, user space), {args.requests} keep-alive requests one at a time "
          f"after {args.warmup} to warm up; commit {commit()}")
    print(f"{'route':<28} {'variant':<13} {'instructions':>12} {'vs none':>8}")
    for method, path in ROUTES:
        route = f"{method} {path}"
        for variant in variants:
            n = counts[(variant, route)]
            print(f"{route:<28} {variant:<13} {n:>12,.0f} {n / counts[('none', route)] - 1:>+8.1%}")
    print("POST: the audit writer's cost per batch is shared by the entries of its 50 ms; under callgrind the "
          "server is ~50x slower, so its batches are ~50x smaller than under load (see BENCHMARKS.md)")


def report(results: dict[tuple[str, str], list[tuple[float, float, float]]]) -> None:
    print(f"{'route':<28} {'variant':<13} {'req/s':>8} {'CPU us/req':>10} {'p99 ms':>7} {'req/s vs none':>14} "
          f"{'CPU vs none':>12}")
    for method, path in ROUTES:
        route = f"{method} {path}"
        base = results[("none", route)]
        for (variant, r), rounds in results.items():
            if r != route:
                continue
            # Median of per-round ratios: each round's neighbours saw the same machine load.
            rps_ratio = statistics.median(x[0] / b[0] for x, b in zip(rounds, base))
            cpu_ratio = statistics.median(x[1] / b[1] for x, b in zip(rounds, base))
            print(f"{route:<28} {variant:<13} {statistics.median(x[0] for x in rounds):>8.0f} "
                  f"{statistics.median(x[1] for x in rounds):>10.1f} {statistics.median(x[2] for x in rounds):>7.2f} "
                  f"{rps_ratio:>13.2f}x {cpu_ratio:>11.2f}x")
    print("medians over rounds; stack cost = 1 - (req/s ratio)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dsn", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request under callgrind instead of driving with wrk")
    parser.add_argument("--requests", type=int, default=1000, help="(--instructions) requests counted")
    parser.add_argument("--warmup", type=int, default=200, help="(--instructions) requests before counting")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                        help="also the whole stack served from checkout DIR, as variant NAME")
    args = parser.parse_args()
    args.trees = {}
    for spec in args.tree:
        name, sep, directory = spec.partition("=")
        if not sep or not (Path(directory) / "bench" / "middleware_stack.py").is_file():
            parser.error(f"--tree {spec}: expected NAME=DIR, DIR a checkout of this repository")
        if name in VARIANTS or name in args.trees:
            parser.error(f"--tree {spec}: the name {name!r} is taken")
        args.trees[name] = Path(directory).resolve()
    if args.serve:
        serve(args.serve, args.port, args.dsn)
        return
    from tests.db import TestDatabase

    variants = [v for v in VARIANTS if v != "stack-redis" or os.environ.get("REDIS_URL")] + list(args.trees)
    if args.instructions:
        with TestDatabase() as db:
            count_instructions(variants, db.dsn, args)
        return
    with TestDatabase() as db:  # a fresh database, dropped at the end
        procs: dict[str, subprocess.Popen[bytes]] = {}
        servers: dict[str, tuple[int, int]] = {}
        try:
            for variant in variants:
                port = free_port()
                argv, root = server_argv(variant, port, db.dsn, args.trees)
                procs[variant] = subprocess.Popen(argv, cwd=root)
                servers[variant] = (port, procs[variant].pid)
            results = drive(servers, args)
        finally:
            for proc in procs.values():
                proc.terminate()
            for proc in procs.values():
                proc.wait(timeout=15)
    print(f"{args.rounds} interleaved rounds x {args.seconds:g}s per variant and route, wrk with {args.concurrency} "
          f"connections; {machine()}; commit {commit()}")
    report(results)


if __name__ == "__main__":
    main()

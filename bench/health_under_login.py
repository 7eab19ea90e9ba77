#!/usr/bin/env python3
"""Does a login storm slow down everyone else? /health latency alone vs during logins.

For each CPU_WORKER_NICENESS given (default: 0 = hashing threads at the loop's priority,
and 10 = the server's default), starts the real server (`python -m veza serve`, default
argon2id cost) and measures, in alternating rounds so that drift on a shared machine
hits both sides alike:
  - "alone":       N clients hammer GET /api/v1/health
  - "under login": the same while L workers log in back to back (argon2id verify)
then prints p50/p99 side by side and the p99 ratio (target: <= 2x). Loopback only,
bounded in time. Uses DATABASE_URL when set, otherwise the embedded PostgreSQL.

    python bench/health_under_login.py --clients 32 --login-workers 8 --rounds 4 --round-seconds 4
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.procs import LOAD_LIMITS, commit, free_port, machine, stop, wait_http  # noqa: E402
PASSWORD = "SecureP@ssw0rd"


@dataclass
class Phase:
    name: str
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    logins: int = 0
    seconds: float = 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    def row(self, label: str) -> str:
        return (f"| {label} | {self.name} | {len(self.latencies)} | {len(self.latencies) / self.seconds:.0f} | "
                f"{self.pct(0.50):.2f} | {self.pct(0.99):.2f} | {self.logins / self.seconds:.1f} | {self.errors} |")


def start_server(port: int, data_dir: Path, log: Path, niceness: int) -> subprocess.Popen[bytes]:
    # The server's real defaults (argon2id cost, HASH_WORKERS) unless the caller's environment sets them.
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "APP_ENV", "PORT"}}
    env.update(LOG_LEVEL=env.get("LOG_LEVEL", "WARNING"), CPU_WORKER_NICENESS=str(niceness),
               **LOAD_LIMITS)  # the login workers' accounts and requests, all from 127.0.0.1
    return subprocess.Popen([sys.executable, "-m", "veza", "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--data-dir", str(data_dir)], env=env, cwd=ROOT,
                            stdout=log.open("a"), stderr=subprocess.STDOUT)


async def health_client(http: aiohttp.ClientSession, url: str, stop_at: float, phase: Phase) -> None:
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            async with http.get(url) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        if ok:
            phase.latencies.append(time.perf_counter() - started)
        else:
            phase.errors += 1


async def login_worker(http: aiohttp.ClientSession, url: str, email: str, stop_at: float, phase: Phase) -> None:
    while time.monotonic() < stop_at:
        try:
            async with http.post(url, json={"email": email, "password": PASSWORD}) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        if ok:
            phase.logins += 1
        else:
            phase.errors += 1


async def run_round(http: aiohttp.ClientSession, api: str, phase: Phase, clients: int, emails: list[str],
                    seconds: float) -> None:
    started = time.monotonic()
    stop_at = started + seconds
    tasks = [health_client(http, api + "/health", stop_at, phase) for _ in range(clients)]
    tasks += [login_worker(http, api + "/auth/login", email, stop_at, phase) for email in emails]
    await asyncio.gather(*tasks)
    phase.seconds += time.monotonic() - started


async def register(http: aiohttp.ClientSession, api: str, count: int) -> list[str]:
    emails = []
    for _ in range(count):
        name = f"bench_{uuid.uuid4().hex[:10]}"
        body = {"username": name, "email": f"{name}@example.com", "password": PASSWORD}
        async with http.post(api + "/auth/register", json=body) as resp:
            assert resp.status == 201, await resp.text()
        emails.append(body["email"])
    return emails


async def bench_server(args: argparse.Namespace, base: str, proc: subprocess.Popen[bytes]) -> tuple[Phase, Phase]:
    connector = aiohttp.TCPConnector(limit=args.clients + args.login_workers + 4)
    async with aiohttp.ClientSession(connector=connector) as http:
        await wait_http(urlsplit(base).port or 80, "/readyz", proc, timeout=90, status=200)
        api = base + "/api/v1"
        emails = await register(http, api, args.login_workers)
        await run_round(http, api, Phase("warm-up"), args.clients, emails, 2.0)
        alone, loaded = Phase("alone"), Phase(f"under {args.login_workers} login workers")
        for _ in range(args.rounds):  # alternate, so machine noise lands on both sides
            await run_round(http, api, alone, args.clients, [], args.round_seconds)
            await run_round(http, api, loaded, args.clients, emails, args.round_seconds)
    return alone, loaded






def report(results: list[tuple[int, Phase, Phase]], header: str) -> str:
    lines = [header, "",
             "| CPU_WORKER_NICENESS | /health | requests | req/s | p50 ms | p99 ms | logins/s | errors |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for niceness, alone, loaded in results:
        lines += [alone.row(str(niceness)), loaded.row(str(niceness))]
    lines.append("")
    for niceness, alone, loaded in results:
        lines.append(f"- CPU_WORKER_NICENESS={niceness}: **p99 under login / p99 alone = "
                     f"{loaded.pct(0.99) / alone.pct(0.99):.2f}x** (target <= 2x), "
                     f"p50 {loaded.pct(0.5) / alone.pct(0.5):.2f}x")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32, help="concurrent /health clients")
    parser.add_argument("--login-workers", type=int, default=8, help="concurrent back-to-back logins")
    parser.add_argument("--rounds", type=int, default=4, help="alternating alone/under-login rounds")
    parser.add_argument("--round-seconds", type=float, default=4.0, help="seconds per round and side")
    parser.add_argument("--niceness", default="0,10", help="CPU_WORKER_NICENESS values to compare")
    args = parser.parse_args()
    header = "\n".join([
        f"- machine: {machine()}",
        f"- commit: {commit()}; database: {'DATABASE_URL' if os.environ.get('DATABASE_URL') else 'embedded'}; "
        f"HASH_WORKERS={os.environ.get('HASH_WORKERS', 'default')}, argon2id cost default unless set",
        f"- command: `{' '.join(shlex.quote(a) for a in ['python', *sys.argv])}`",
    ])
    results = []
    with tempfile.TemporaryDirectory(prefix="veza-bench-") as tmp:
        log = Path(tmp) / "server.log"
        for niceness in (int(n) for n in args.niceness.split(",")):
            port = free_port()
            proc = start_server(port, Path(tmp) / "data", log, niceness)
            try:
                alone, loaded = asyncio.run(bench_server(args, f"http://127.0.0.1:{port}", proc))
            finally:
                stop(proc)
            results.append((niceness, alone, loaded))
            print(f"CPU_WORKER_NICENESS={niceness}: p99 {alone.pct(0.99):.2f} ms alone, "
                  f"{loaded.pct(0.99):.2f} ms under login", file=sys.stderr)
    print(report(results, header))
    return 0


if __name__ == "__main__":
    sys.exit(main())

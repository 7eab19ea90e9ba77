"""Memory per idle authenticated WebSocket, and how fast they open: Veza against bare aiohttp.

Veza gets N distinct users, each with a live session and a chat token (created through
the stores and the TokenService, exactly what registration and GET /chat/token do, so
setup takes seconds instead of N password hashes); every upgrade checks its token's
session in PostgreSQL (batched with the upgrades of the moment). The sockets are spread
over client processes and over source addresses 127.0.0.1..127.0.0.k (one address has
~28,000 ephemeral ports); each process raises its open-files limit as far as the hard
limit allows. The server's RSS is read after a warm-up (so imports and first-use caches
are not counted) and again once every socket is open and settled. A bare aiohttp server
holding the same number of idle sockets is measured in the same run, rounds alternating.

The hard limit on open files bounds what one server process can hold: when N does not
fit under it (and raising it is not allowed: no CAP_SYS_RESOURCE), the run says so and
measures the largest count that fits.

    python -m bench.idle_memory --sockets 100000
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time
import uuid

import asyncpg

from bench import procs
from bench.fanout.clients import Clients
from bench.fanout.peers import PEERS, Peer

FD_RESERVE = 300  # the server's own files: listening socket, database pool, logs, epoll, ...
PORTS_PER_ADDRESS = 25_000  # of the 28,232 in 32768-60999


async def mint_tokens(dsn: str, secret: str, count: int) -> list[str]:
    from veza.db import migrate
    from veza.domain.sessions import open_session
    from veza.security.tokens import TokenService
    from veza.store import users

    tokens = TokenService(secret, access_ttl=3600, refresh_ttl=3600, chat_ttl=3600)
    tag, out = uuid.uuid4().hex[:6], []
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)  # what the server does at start
        async with conn.transaction():
            for i in range(count):
                user = await users.create_user(conn, username=f"idle_{tag}_{i}", email=f"idle_{tag}_{i}@example.com",
                                               password_hash=None)
                pair = await open_session(conn, tokens, user, user_agent="bench", ip_address="127.0.0.1")
                out.append(tokens.issue_chat(user["id"], user["role"], pair.session_id, user["username"]).token)
    finally:
        await conn.close()
    return out


async def measure(peer: Peer, count: int, processes: int, sources: int, settle: float) -> dict:
    warm = Clients(peer, min(200, count), 1)  # first use: imports, caches, pools
    await warm.ready(60)
    warm.stop()
    await asyncio.sleep(2)
    before = procs.rss_kib(peer.proc.pid)  # type: ignore[union-attr]
    cpu0 = procs.cpu_seconds(peer.proc.pid)  # type: ignore[union-attr]
    started = time.monotonic()
    clients = Clients(peer, count, processes, sources)
    try:
        opened, errors = await clients.ready(max(120.0, count / 100))
        connect_s = time.monotonic() - started
        cpu = procs.cpu_seconds(peer.proc.pid) - cpu0  # type: ignore[union-attr]
        await asyncio.sleep(settle)
        *_, closed = await clients.snap()
        after = procs.rss_kib(peer.proc.pid)  # type: ignore[union-attr]
    finally:
        clients.stop()
    still_open = opened - sum(closed.values())
    return {"opened": opened, "still_open": still_open, "errors": errors, "closed": closed,
            "rss_before_kib": before, "rss_after_kib": after, "connect_s": connect_s,
            "per_s": opened / connect_s, "server_cpu_ms_per_socket": cpu * 1000 / max(1, opened),
            "kib_per_socket": (after - before) / max(1, still_open)}


async def run(name: str, args: argparse.Namespace, count: int, tokens: list[str] | None, dsn: str | None) -> dict:
    peer = PEERS[name](procs.free_port())
    if name == "veza-idle":
        peer.database_url = dsn  # type: ignore[attr-defined]
        peer.setup = {"tokens": tokens}
    await peer.start()
    try:
        return await measure(peer, count, args.client_processes, args.source_addresses, args.settle)
    finally:
        await peer.stop()


def show(name: str, res: dict, count: int) -> None:
    print(f"  {name:9} sockets open={res['still_open']}/{count} in {res['connect_s']:.1f}s ({res['per_s']:.0f}/s, "
          f"{res['server_cpu_ms_per_socket']:.2f} ms server CPU each) "
          f"RSS {res['rss_before_kib'] / 1024:.1f} -> {res['rss_after_kib'] / 1024:.1f} MiB: "
          f"{res['kib_per_socket']:.1f} KiB per idle socket"
          + (f" closed={res['closed']}" if res["closed"] else "")
          + (f" errors={res['errors']}" if res["errors"] else ""), flush=True)


async def main_async(args: argparse.Namespace) -> None:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    count = args.sockets
    fit = procs.fd_hard_limit() - FD_RESERVE
    if count > fit:
        print(f"  NOTE: {count} sockets asked, but a process may hold {procs.fd_hard_limit()} open files here "
              f"(RLIMIT_NOFILE hard limit; raising it needs CAP_SYS_RESOURCE): measuring {fit}, the most one "
              f"server process can hold", flush=True)
        count = fit
    args.client_processes = max(args.client_processes, math.ceil(count / fit))
    args.source_addresses = args.source_addresses or max(1, math.ceil(count / PORTS_PER_ADDRESS))
    print(f"  {count} sockets over {args.client_processes} client processes and {args.source_addresses} source "
          f"address(es); {args.rounds} round(s), peers alternating", flush=True)
    names = args.peers.split(",")
    results: dict[str, list[dict]] = {name: [] for name in names}
    async with procs.fresh_database(args.database_url) as dsn:
        tokens = None
        if "veza-idle" in names:
            started = time.monotonic()
            tokens = await mint_tokens(dsn, procs.veza_env(dsn)["JWT_SECRET"] or "", count)
            print(f"  {count} users, sessions and chat tokens made in {time.monotonic() - started:.0f}s", flush=True)
        for round_ in range(args.rounds):
            for name in names:
                res = await run(name, args, count, tokens, dsn)
                results[name].append(res)
                print(f"round {round_ + 1}:", end="")
                show(name, res, count)
    if "veza-idle" in results and "bare" in results:
        for k, (veza, bare) in enumerate(zip(results["veza-idle"], results["bare"], strict=True)):
            print(f"  round {k + 1}: veza / bare memory per socket {veza['kib_per_socket'] / bare['kib_per_socket']:.2f}x "
                  f"(target <= 1.2x), opening rate {veza['per_s'] / bare['per_s']:.2f}x (target >= 0.8x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--peers", default="veza-idle,bare")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--source-addresses", type=int, default=0, help="127.0.0.1..N (default: one per 25,000)")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between the last connect and the reading")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    procs.raise_fd_limit(args.sockets + 1024)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

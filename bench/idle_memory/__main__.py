"""Memory per idle authenticated WebSocket: server RSS delta / N with N sockets open.

Veza gets N distinct users, each with a live session and a chat token (created through
the stores and the TokenService, exactly what registration and GET /chat/token do, so
setup takes seconds instead of N password hashes). The sockets are spread over client
processes; the server's RSS is read after a warm-up (so imports and first-use caches are
not counted) and again once every socket is open and settled. A bare aiohttp server
holding the same number of idle sockets runs in the same run as a reference.

    python -m bench.idle_memory --sockets 10000
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

import asyncpg

from bench import procs
from bench.fanout.clients import Clients
from bench.fanout.peers import PEERS, Peer


async def mint_tokens(dsn: str, secret: str, count: int) -> list[str]:
    from veza.domain.sessions import open_session
    from veza.security.tokens import TokenService
    from veza.store import users

    tokens = TokenService(secret, access_ttl=3600, refresh_ttl=3600, chat_ttl=300)
    tag, out = uuid.uuid4().hex[:6], []
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for i in range(count):
                user = await users.create_user(conn, username=f"idle_{tag}_{i}", email=f"idle_{tag}_{i}@example.com",
                                               password_hash=None)
                pair = await open_session(conn, tokens, user, user_agent="bench", ip_address="127.0.0.1")
                out.append(tokens.issue_chat(user["id"], user["role"], pair.session_id, user["username"]).token)
    finally:
        await conn.close()
    return out


async def measure(peer: Peer, count: int, processes: int, settle: float) -> dict:
    warm = Clients(peer, min(200, count), 1)  # first use: imports, caches, pools
    await warm.ready(60)
    warm.stop()
    await asyncio.sleep(2)
    before = procs.rss_kib(peer.proc.pid)  # type: ignore[union-attr]
    started = time.monotonic()
    clients = Clients(peer, count, processes)
    try:
        opened, errors = await clients.ready(120)
        connect_s = time.monotonic() - started
        await asyncio.sleep(settle)
        *_, closed = await clients.snap()
        after = procs.rss_kib(peer.proc.pid)  # type: ignore[union-attr]
    finally:
        clients.stop()
    still_open = opened - sum(closed.values())
    return {"opened": opened, "still_open": still_open, "errors": errors, "closed": closed,
            "rss_before_kib": before, "rss_after_kib": after, "connect_s": connect_s,
            "kib_per_socket": (after - before) / max(1, still_open)}


async def run(name: str, args: argparse.Namespace) -> dict:
    peer = PEERS[name](procs.free_port())
    if name == "veza-idle":
        async with procs.fresh_database(args.database_url) as dsn:
            peer.database_url = dsn  # type: ignore[attr-defined]
            await peer.start()
            try:
                secret = procs.veza_env(dsn)["JWT_SECRET"] or ""
                peer.setup = {"tokens": await mint_tokens(dsn, secret, args.sockets)}
                return await measure(peer, args.sockets, args.client_processes, args.settle)
            finally:
                await peer.stop()
    await peer.start()
    try:
        return await measure(peer, args.sockets, args.client_processes, args.settle)
    finally:
        await peer.stop()


async def main_async(args: argparse.Namespace) -> None:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    results = {}
    for name in args.peers.split(","):
        res = results[name] = await run(name, args)
        print(f"  {name:9} sockets open={res['still_open']}/{args.sockets} (connect {res['connect_s']:.1f}s) "
              f"RSS {res['rss_before_kib'] / 1024:.1f} -> {res['rss_after_kib'] / 1024:.1f} MiB: "
              f"{res['kib_per_socket']:.1f} KiB per idle socket"
              + (f" closed={res['closed']}" if res["closed"] else "")
              + (f" errors={res['errors']}" if res["errors"] else ""), flush=True)
    if "veza-idle" in results and "bare" in results:
        print(f"  veza / bare memory per socket: {results['veza-idle']['kib_per_socket'] / results['bare']['kib_per_socket']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sockets", type=int, default=10000)
    parser.add_argument("--peers", default="veza-idle,bare")
    parser.add_argument("--client-processes", type=int, default=4)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds between the last connect and the reading")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    procs.raise_fd_limit(args.sockets + 1024)
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

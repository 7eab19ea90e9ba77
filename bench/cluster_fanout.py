#!/usr/bin/env python3
"""Chat fan-out on 1 node vs 3 nodes, and what a cross-node hop adds to latency.

Starts our own Redis and three real nodes (`python -m veza serve`, one fresh PostgreSQL
database: DATABASE_URL when set, else the embedded server), then in one run:

  1. "1 node":  S subscribers all on node 0, one sender on node 0;
  2. "3 nodes": the same S subscribers spread over the three nodes, sender on node 0,
     so 2/3 of the deliveries cross Redis to another node.

Each configuration first runs saturated (the sender keeps W messages in flight) to find
deliveries/s, then paced at half that message rate to measure latency (send -> receipt on
the subscriber's socket, one clock: all clients live in this process). For "3 nodes" the
latencies are split by receiver: on the sender's node (local) vs on another node
(cross-node); the extra p99 of the hop is p99(cross) - p99(local). Target: < 5 ms at half
load. Loopback only, bounded: about a minute.

    python bench/cluster_fanout.py --subscribers 60 --messages 600 --window 16
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.procs import LOAD_LIMITS  # noqa: E402
from tests.cluster_support import Node, api, public_room, register  # noqa: E402
from tests.db import TestDatabase  # noqa: E402
from tests.redis_server import RedisProcess  # noqa: E402


@dataclass
class Result:
    deliveries: int = 0
    seconds: float = 0.0
    local: list[float] = field(default_factory=list)
    remote: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.deliveries / self.seconds if self.seconds else 0.0


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


class Subscriber:
    def __init__(self, ws: aiohttp.ClientWebSocketResponse, local: bool, result: Result) -> None:
        self.ws, self.local, self.result = ws, local, result
        self.count = 0

    async def run(self, expected: int) -> None:
        while self.count < expected:
            msg = await self.ws.receive()
            if msg.type is not aiohttp.WSMsgType.TEXT:
                raise RuntimeError(f"socket closed: {msg}")
            now = time.perf_counter()
            frame = json.loads(msg.data)
            if frame["type"] != "message":
                continue
            self.count += 1
            sent = float(frame["message"]["content"])
            (self.result.local if self.local else self.result.remote).append(now - sent)
            self.result.deliveries += 1


async def connect(http: aiohttp.ClientSession, node: Node, user: dict, room: str) -> aiohttp.ClientWebSocketResponse:
    token = (await api(http, "GET", node.url + "/api/v1/chat/token", user["token"]))["token"]
    ws = await http.ws_connect(node.ws_url, params={"token": token}, heartbeat=None, max_msg_size=0)
    await ws.send_json({"type": "join", "room": room, "ref": "j"})
    while json.loads((await ws.receive()).data)["type"] != "joined":
        pass
    return ws


async def send(ws: aiohttp.ClientWebSocketResponse, room: str, messages: int, window: int, rate: float | None) -> None:
    """Keep `window` messages unacknowledged (saturated), or send at `rate` messages/s."""
    acked = asyncio.Semaphore(window)
    acks_seen = 0

    async def read_acks() -> None:
        nonlocal acks_seen
        while acks_seen < messages:
            msg = await ws.receive()
            if msg.type is aiohttp.WSMsgType.TEXT and json.loads(msg.data)["type"] == "ack":
                acks_seen += 1
                acked.release()

    reader = asyncio.create_task(read_acks())
    start = time.perf_counter()
    for i in range(messages):
        if rate:
            await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        await acked.acquire()
        await ws.send_json({"type": "message", "room": room, "content": repr(time.perf_counter()),
                            "client_id": uuid.uuid4().hex, "ref": str(i)})
    await reader


async def run_config(http: aiohttp.ClientSession, nodes: list[Node], users: list[dict], spread: int,
                     messages: int, window: int, rate: float | None) -> Result:
    room = await public_room(http, nodes[0], users[0])
    result = Result()
    subs = []
    for i, user in enumerate(users[1:]):
        home = i % spread
        subs.append(Subscriber(await connect(http, nodes[home], user, room), home == 0, result))
    sender = await connect(http, nodes[0], users[0], room)
    start = time.perf_counter()
    readers = [asyncio.create_task(s.run(messages)) for s in subs]
    await send(sender, room, messages, window, rate)
    await asyncio.wait_for(asyncio.gather(*readers), 60)
    result.seconds = time.perf_counter() - start
    for ws in [s.ws for s in subs] + [sender]:
        await ws.close()
    return result


async def bench(args: argparse.Namespace, nodes: list[Node]) -> None:
    async with aiohttp.ClientSession() as http:
        users = [await register(http, nodes[0]) for _ in range(args.subscribers + 1)]
        print(f"{args.subscribers} subscribers, {args.messages} messages, window {args.window}\n")
        rows = []
        for name, spread in (("1 node", 1), ("3 nodes", 3)):
            await run_config(http, nodes, users, spread, 50, args.window, None)  # warm-up
            saturated = await run_config(http, nodes, users, spread, args.messages, args.window, None)
            half_rate = saturated.rate / args.subscribers / 2
            half = await run_config(http, nodes, users, spread, args.messages // 2, args.window, half_rate)
            rows.append((name, saturated, half, half_rate))
        print(f"{'config':<9} {'deliveries/s':>13} {'p99 sat ms':>11} | {'half-load msg/s':>15} "
              f"{'p50 ms':>7} {'p99 ms':>7} {'p99 local':>10} {'p99 cross':>10}")
        for name, sat, half, rate in rows:
            every = half.local + half.remote
            print(f"{name:<9} {sat.rate:>13.0f} {pct(sat.local + sat.remote, .99):>11.1f} | {rate:>15.1f} "
                  f"{pct(every, .5):>7.1f} {pct(every, .99):>7.1f} {pct(half.local, .99):>10.1f} "
                  f"{pct(half.remote, .99):>10.1f}")
        one, three = rows[0], rows[1]
        print(f"\n3 nodes / 1 node deliveries/s: {three[1].rate / one[1].rate:.2f}x")
        hop = pct(three[2].remote, .99) - pct(three[2].local, .99)
        print(f"cross-node hop, extra p99 at half load: {hop:+.1f} ms (target < 5 ms)")
        hop50 = pct(three[2].remote, .5) - pct(three[2].local, .5)
        print(f"cross-node hop, extra p50 at half load: {hop50:+.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=60)
    parser.add_argument("--messages", type=int, default=600)
    parser.add_argument("--window", type=int, default=16)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, {os.cpu_count()} CPUs, load {os.getloadavg()}")
    workdir = Path(tempfile.mkdtemp(prefix="veza-bench-cluster-"))
    with TestDatabase() as db, RedisProcess() as redis:
        prefix = f"veza-bench-{uuid.uuid4().hex[:8]}:"
        nodes = [Node(f"node-{i}", db.dsn, redis.url, prefix, workdir, extra_env=LOAD_LIMITS) for i in range(3)]
        try:
            for node in nodes:
                node.wait_ready()
            asyncio.run(bench(args, nodes))
        finally:
            for node in nodes:
                node.terminate(10)


if __name__ == "__main__":
    main()

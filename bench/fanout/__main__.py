"""Fan-out benchmark: one room, N subscribers, one publisher at increasing rates.

For each peer (bare aiohttp broadcast, python-socketio, Node.js `ws` 8 and socket.io 4 from
bench/peers/node, installed with `npm ci` on first use, and Veza) in the same run: start the
server process, open N subscriber sockets spread over client processes, then publish at
rates rising by --factor every --step seconds. Each step waits for its stragglers and
measures deliveries/s from the first publish to the last arrival; the rise stops when
that is under 85% of the offered rate (the server fell behind), a frame is lost, or a
socket is cut. Deliveries/s at saturation is the best rate seen; latency is then measured
at half of it. Prints a table and the ratios.

    python -m bench.fanout --subscribers 2000 --rounds 3
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time

from bench import procs
from bench.fanout.clients import Clients
from bench.fanout.peers import PEERS, Peer
from bench.wsclient import time_ns


def percentile(sorted_values: list[int], q: float) -> float:
    if not sorted_values:
        return float("nan")
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))] / 1e6  # ms


async def publish(peer: Peer, pubs: list, rate: float, seconds: float, seq0: int) -> int:  # type: ignore[type-arg]
    """Send `rate` messages/s for `seconds`, round-robin over the publisher sockets."""
    total = max(1, int(rate * seconds))
    start = time.monotonic()
    for k in range(total):
        delay = start + k / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        pubs[k % len(pubs)].send_text(peer.pub_frame(seq0 + k, time_ns()))
    await asyncio.sleep(max(0.0, start + seconds - time.monotonic()))
    return total


async def step(peer: Peer, pubs: list, clients: Clients, rate: float, seconds: float, seq0: int, n: int) -> dict:  # type: ignore[type-arg]
    """Publish at `rate` for `seconds`, then wait for the stragglers: late arrivals count,
    and the delivery rate is measured from the first publish to the last arrival, so a
    server that falls behind shows its real throughput and its real latencies."""
    await clients.snap()  # reset the tallies
    cpu0, t0, start_ns = procs.cpu_seconds(peer.proc.pid), time.monotonic(), time_ns()  # type: ignore[union-attr]
    client_cpu0 = clients.cpu_seconds()
    sent = await publish(peer, pubs, rate, seconds, seq0)
    count, size, latencies, last, closed = await clients.snap()
    elapsed = time.monotonic() - t0
    cpu = (procs.cpu_seconds(peer.proc.pid) - cpu0) / elapsed  # type: ignore[union-attr]
    client_cpu = (clients.cpu_seconds() - client_cpu0) / elapsed
    quiet, deadline = 0, time.monotonic() + 10
    while quiet < 2 and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
        late, late_size, late_lat, late_last, closed = await clients.snap()
        count, size, quiet = count + late, size + late_size, 0 if late else quiet + 1
        latencies.extend(late_lat)
        last = max(last, late_last)
    lat = sorted(latencies)
    span = max(seconds, (last - start_ns) / 1e9)
    cpu_per_delivery = (procs.cpu_seconds(peer.proc.pid) - cpu0) / max(1, count)  # type: ignore[union-attr]
    return {"rate": rate, "sent": sent, "delivered_per_s": count / span, "ratio": count / max(1, sent * n),
            "server_cpu_us_per_delivery": cpu_per_delivery * 1e6,
            "p50_ms": percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99), "server_cpu": cpu,
            "client_cpu": client_cpu, "frame_bytes": size / max(1, count), "closed": closed}


def show(peer: str, row: dict) -> None:
    closed = f" closed={row['closed']}" if row["closed"] else ""
    print(f"  {peer:8} rate={row['rate']:8.1f} msg/s  delivered={row['delivered_per_s']:9.0f}/s "
          f"({row['ratio']:5.1%})  p50={row['p50_ms']:7.1f}ms p99={row['p99_ms']:7.1f}ms "
          f"cpu server={row['server_cpu']:4.0%} ({row['server_cpu_us_per_delivery']:.1f}us/delivery) "
          f"clients={row['client_cpu']:4.0%} frame={row['frame_bytes']:.0f}B{closed}", flush=True)


async def measure(peer: Peer, clients: Clients, n: int, args: argparse.Namespace) -> dict:
    pubs = [await peer.pub_open() for _ in range(args.publishers)]
    await step(peer, pubs, clients, 5, 1.0, 0, n)  # warm-up: code paths, caches, the room's actor
    rate, seq, deadline = args.start_deliveries / n, 1000, time.monotonic() + args.budget
    best: dict = {"delivered_per_s": 0.0}
    while time.monotonic() < deadline:
        row = await step(peer, pubs, clients, rate, args.step, seq, n)
        seq += row["sent"]
        show(peer.name, row)
        best = max(best, row, key=lambda r: r["delivered_per_s"])
        if row["delivered_per_s"] < 0.85 * rate * n or row["ratio"] < 0.99 or row["closed"]:
            break  # fell behind (or lost or cut sockets): saturated
        rate *= args.factor
    half = await step(peer, pubs, clients, best["delivered_per_s"] / n / 2, args.half_seconds, seq, n)
    print("  half load:", end="")
    show(peer.name, half)
    for pub in pubs:
        await pub.close()
    return {"saturation_deliveries_per_s": best["delivered_per_s"],
            "cpu_us_per_delivery": best["server_cpu_us_per_delivery"], "half": half, "publisher_errors": peer.publisher_errors,
            "acks": peer.acks}


async def run_peer(name: str, args: argparse.Namespace, database_url: str | None) -> dict | None:
    peer = PEERS[name](procs.free_port())
    if database_url:
        peer.database_url = database_url  # type: ignore[attr-defined]
    await peer.start()
    clients = None
    try:
        await peer.prepare()
        clients = Clients(peer, args.subscribers, args.client_processes)
        opened, errors = await clients.ready(args.connect_timeout)
        print(f"{name}: {opened}/{args.subscribers} subscribers connected (server pid {peer.proc.pid})"  # type: ignore[union-attr]
              + (f" (errors: {errors})" if errors else ""), flush=True)
        if opened == 0:
            return None
        result = await measure(peer, clients, opened, args)
        result["subscribers"] = opened
        return result
    finally:
        if clients is not None:
            clients.stop()
        await peer.stop()


def ratios(results: dict) -> list[str]:
    lines = []
    veza = results.get("veza")
    if not veza:
        return lines
    for other in ("bare", "socketio", "node-ws", "node-socketio"):
        if results.get(other):
            r = veza["saturation_deliveries_per_s"] / results[other]["saturation_deliveries_per_s"]
            c = results[other]["cpu_us_per_delivery"] / veza["cpu_us_per_delivery"]
            p99 = veza["half"]["p99_ms"] / results[other]["half"]["p99_ms"]
            lines.append(f"veza / {other}: {r:.2f}x deliveries/s at saturation, {c:.2f}x deliveries per server CPU "
                         f"second, p99 at half load {p99:.2f}x")
    return lines


def summary(results: dict) -> None:
    for name, res in results.items():
        if res:
            h = res["half"]
            print(f"  {name:13} subscribers={res['subscribers']} saturation={res['saturation_deliveries_per_s']:.0f}/s "
                  f"({res['cpu_us_per_delivery']:.1f}us server CPU per delivery) "
                  f"half-load p50={h['p50_ms']:.1f}ms p99={h['p99_ms']:.1f}ms delivered={h['ratio']:.1%}"
                  + (f" publisher_errors={res['publisher_errors']}" if res["publisher_errors"] else ""))
    for line in ratios(results):
        print("  " + line)


async def main_async(args: argparse.Namespace) -> None:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    rounds: list[dict] = []
    for round_ in range(args.rounds):
        results: dict = {}
        rounds.append(results)
        # Each round starts with a different peer, so no peer always runs first or last.
        names = args.peers.split(",")
        names = names[round_ % len(names):] + names[:round_ % len(names)]
        for name in names:
            print(f"round {round_ + 1}: {name} (load average {os.getloadavg()[0]:.2f})", flush=True)
            if name == "veza":
                async with procs.fresh_database(args.database_url) as dsn:
                    results[name] = await run_peer(name, args, dsn)
            else:
                results[name] = await run_peer(name, args, None)
    for k, results in enumerate(rounds):
        print(f"\nround {k + 1} summary (deliveries/s at saturation; latency at half of it):")
        summary(results)
    print(f"\nload average after the run {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rounds, fh, indent=2, default=str)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--peers", default="bare,socketio,node-ws,node-socketio,veza")
    parser.add_argument("--rounds", type=int, default=1, help="each round runs every peer, the order rotated")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--start-deliveries", type=float, default=2000.0,
                        help="deliveries/s (messages/s x subscribers) of the first step")
    parser.add_argument("--factor", type=float, default=1.5, help="rate multiplier between steps")
    parser.add_argument("--publishers", type=int, default=8,
                        help="publisher sockets (round-robin); Veza acks each socket's sends in order, after commit")
    parser.add_argument("--step", type=float, default=2.0, help="seconds per step")
    parser.add_argument("--half-seconds", type=float, default=5.0)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds of rising steps per peer")
    parser.add_argument("--connect-timeout", type=float, default=90.0)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="admin DSN; a fresh database is created for Veza and dropped after")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    procs.raise_fd_limit(args.subscribers + 1024)
    asyncio.run(main_async(args))
    sys.exit(0)


if __name__ == "__main__":
    main()

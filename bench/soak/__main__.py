"""Soak: one room, N subscribers churning, publishers at half the saturation rate, for minutes.

A real `veza serve` (fresh database, persisted and acked sends) and the same lean clients
as bench.fanout. Unless --rate is given, bench.fanout's rising steps first find Veza's
saturation rate on a server of its own (N anonymous subscribers); the soak then runs at
half of it on a fresh server. Its subscribers are real clients (a chat token from
GET /chat/token with one of --users accounts' access tokens, the socket, a join), and
every second --churn of them leave (a `leave` frame and a close, a close, or a dropped
connection, in turn) and as many new ones join. Publishers send through the socket path,
round-robin, each send acked after commit with its seq. At the end it checks:

- the server's RSS at the end is within --rss-tolerance (5%) of its RSS after the first
  minute (--baseline seconds);
- no socket was closed but those the bench closed (subscribers and publishers);
- every acked message reached every subscriber that was in the room for its whole span:
  seqs after the one its `joined` frame gave, up to the last seq acked --grace seconds
  before it started to leave (or the last of all, for a socket still there at the end);
- every send was acked, no join failed, and no socket saw a seq out of order.

It exits 1 when a check fails.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres .venv/bin/python -m bench.soak
    ... -m bench.soak --minutes 0.5 --rate 20      # a short run
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import collections
import itertools
import json
import os
import signal
import sys
import tempfile
import tracemalloc
import time
import uuid
from array import array

import aiohttp

from bench import procs
from bench.fanout.__main__ import percentile, publish, run_peer
from bench.fanout.clients import Clients
from bench.fanout.peers import HOST, Veza
from bench.soak import subscribers
from bench.wsclient import WsClient, time_ns


class TracedVeza(Veza):
    """The same server with bench.soak.traced_server's hooks: SIGUSR1 dumps the heap (when
    `trace`), SIGUSR2 trims glibc's heap."""

    folder = ""
    trace = True

    async def start(self) -> None:
        env = procs.veza_env(self.database_url, WS_RATE="100000", WS_BURST="100000")
        self.proc = procs.start(["-m", "bench.soak.traced_server", self.folder, *([] if self.trace else ["--no-trace"]),
                                 "serve", "--host", HOST, "--port", str(self.port)], env=env, log_name="veza-traced")
        await procs.wait_http(self.port, "/healthz", self.proc)

    async def trimmed_rss(self) -> int:
        """RSS (KiB) once glibc has returned its free memory (malloc_trim)."""
        self.proc.send_signal(signal.SIGUSR2)  # type: ignore[union-attr]
        while not os.path.exists(os.path.join(self.folder, "trimmed-1")):
            await asyncio.sleep(0.2)
        return procs.rss_kib(self.proc.pid)  # type: ignore[union-attr]

    async def snapshot(self, number: int) -> tracemalloc.Snapshot:
        self.proc.send_signal(signal.SIGUSR1)  # type: ignore[union-attr]
        path = os.path.join(self.folder, f"snapshot-{number}.pickle")
        while not os.path.exists(path):
            await asyncio.sleep(0.5)
        return tracemalloc.Snapshot.load(path).filter_traces(
            (tracemalloc.Filter(False, tracemalloc.__file__), tracemalloc.Filter(False, "<frozen importlib._bootstrap>")))


def heap_growth(first: tracemalloc.Snapshot, last: tracemalloc.Snapshot, top: int = 15) -> None:
    """What the Python heap gained between two snapshots, by line and by call path."""
    print(f"\n  tracemalloc: {sum(s.size for s in first.statistics('filename')) / 2**20:.1f} -> "
          f"{sum(s.size for s in last.statistics('filename')) / 2**20:.1f} MiB traced; growth by line:")
    for stat in last.compare_to(first, "lineno")[:top]:
        print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d} blocks  {stat.traceback[0]}")
    print("  the largest growths by call path (innermost last):")
    for stat in last.compare_to(first, "traceback")[:5]:
        print(f"    {stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d} blocks")
        for frame in stat.traceback.format()[-12:]:
            print("      " + frame.strip())


class Acks:
    """What the publishers' sockets hear back: each ack's seq and when it came."""

    def __init__(self) -> None:
        self.times = array("q")  # monotonic ns, in arrival order
        self.seqs = array("q")
        self.errors: collections.Counter[str] = collections.Counter()

    def on_frame(self, client: WsClient, payload: bytearray, now: int) -> None:
        if payload.startswith(b'{"type":"ack"'):
            self.times.append(now)
            self.seqs.append(json.loads(payload)["message"]["seq"])
        elif b'"type":"error"' in payload:
            self.errors[json.loads(payload).get("code", "?")] += 1


class Expected:
    """Which acked seqs a subscriber must have seen, given when it joined and left."""

    def __init__(self, acks: Acks, grace_s: float) -> None:
        self.grace = int(grace_s * 1e9)
        self.times = acks.times
        self.highest = array("q", itertools.accumulate(acks.seqs, max))  # highest seq acked by then
        self.sorted_seqs = sorted(acks.seqs)

    def _acked_in(self, first: int, last: int) -> int:
        """How many acked seqs lie in [first, last]."""
        return max(0, bisect.bisect_right(self.sorted_seqs, last) - bisect.bisect_left(self.sorted_seqs, first))

    def check(self, record: tuple) -> tuple[int, int]:
        """(deliveries expected, deliveries missing) for one subscriber's record."""
        joined, last, gaps, _, left_at = record
        if left_at is None:
            end = self.highest[-1] if self.highest else 0
        else:
            k = bisect.bisect_right(self.times, left_at - self.grace)
            end = self.highest[k - 1] if k else 0
        if end <= joined:
            return 0, 0
        missing = self._acked_in(last + 1, end) + sum(self._acked_in(a, min(b, end)) for a, b in gaps)
        return self._acked_in(joined + 1, end), missing


async def register_users(port: int, count: int) -> list[str]:
    """`count` accounts (through the API, as a real client) and their access tokens."""
    base = f"http://{HOST}:{port}/api/v1"
    out = []
    async with aiohttp.ClientSession() as http:
        for _ in range(count):
            name = f"soak_{uuid.uuid4().hex[:8]}"
            async with http.post(f"{base}/auth/register", json={
                    "username": name, "email": f"{name}@example.com", "password": "SecureP@ssw0rd"}) as resp:
                body = await resp.json()
                assert resp.status == 201, body
                out.append(body["data"]["access_token"])
    return out


async def find_rate(args: argparse.Namespace) -> float:
    """Half of Veza's saturation rate (messages/s), found as bench.fanout finds it."""
    search = argparse.Namespace(subscribers=args.subscribers, client_processes=args.client_processes,
                                start_deliveries=2000.0, factor=1.5, publishers=args.publishers, step=2.0,
                                half_seconds=5.0, budget=30.0, connect_timeout=args.connect_timeout)
    print(f"finding the saturation rate (bench.fanout's method, {args.subscribers} subscribers)", flush=True)
    async with procs.fresh_database(args.database_url) as dsn:
        result = await run_peer("veza", search, dsn)
    if not result:
        raise SystemExit("the saturation search opened no subscriber")
    rate = result["saturation_deliveries_per_s"] / result["subscribers"] / 2
    print(f"saturation {result['saturation_deliveries_per_s']:.0f} deliveries/s: the soak publishes {rate:.2f} msg/s",
          flush=True)
    return rate


class Samples:
    """Server RSS and the deliveries of each interval, while the soak runs."""

    def __init__(self, peer: Veza, clients: Clients, started: float) -> None:
        self.peer, self.clients, self.started = peer, clients, started
        self.rss: list[tuple[float, int]] = []  # (seconds since start, KiB)
        self.p99s: list[float] = []
        self.delivered = 0
        self.cut: dict = {}
        self.stopping = asyncio.Event()  # set: the loop ends at once, never in the middle of a snap

    async def sample(self, print_every: float) -> None:
        """Every 5 s until `stopping`; the only user of the pipes meanwhile (answers are read
        in order, so two readers would take each other's)."""
        last_print = 0.0
        window = array("q")
        while True:
            try:
                await asyncio.wait_for(self.stopping.wait(), 5)
                return
            except asyncio.TimeoutError:
                pass
            count, _, latencies, _, self.cut = await self.clients.snap()
            self.delivered += count
            elapsed = time.monotonic() - self.started
            self.rss.append((elapsed, procs.rss_kib(self.peer.proc.pid)))  # type: ignore[union-attr]
            window.extend(latencies)
            if elapsed - last_print >= print_every:
                lat = sorted(window)
                self.p99s.append(percentile(lat, 0.99))
                print(f"  {elapsed:6.0f}s rss={self.rss[-1][1] / 1024:7.1f} MiB delivered={self.delivered:,} "
                      f"p50={percentile(lat, 0.5):6.1f}ms p99={self.p99s[-1]:6.1f}ms cut={sum(self.cut.values())} "
                      f"load={os.getloadavg()[0]:.2f}", flush=True)
                last_print, window = elapsed, array("q")

    def rss_at(self, seconds: float) -> int:
        return min(self.rss, key=lambda s: abs(s[0] - seconds))[1]


async def ask_all(clients: Clients, command: str, timeout: float) -> list:
    for conn in clients.conns:
        conn.send(command)
    return [await clients._recv(conn, timeout) for conn in clients.conns]


async def soak(args: argparse.Namespace, rate: float, dsn: str) -> bool:
    peer = Veza(procs.free_port()) if not (args.tracemalloc or args.trim) else TracedVeza(procs.free_port())
    if isinstance(peer, TracedVeza):
        peer.folder = args.tracemalloc or tempfile.mkdtemp(prefix="veza-soak-")
        peer.trace = bool(args.tracemalloc)
    peer.database_url = dsn
    await peer.start()
    clients = None
    try:
        await peer.prepare()
        peer.setup.update(access=await register_users(peer.port, args.users), churn=args.churn)
        clients = Clients(peer, args.subscribers, args.client_processes, target=subscribers.main)
        opened, errors = await clients.ready(args.connect_timeout)
        print(f"{opened}/{args.subscribers} subscribers joined as {args.users} users (server pid {peer.proc.pid})"  # type: ignore[union-attr]
              + (f" (errors: {errors})" if errors else ""), flush=True)
        acks = Acks()
        pubs = [await peer.pub_open() for _ in range(args.publishers)]
        for pub in pubs:
            pub.on_message = acks.on_frame
        seconds = args.minutes * 60
        for conn in clients.conns:
            conn.send("churn")
        started, cpu0 = time.monotonic(), procs.cpu_seconds(peer.proc.pid)  # type: ignore[union-attr]
        samples = Samples(peer, clients, started)
        sampler = asyncio.create_task(samples.sample(max(5.0, seconds / 20)))
        first = None
        if args.tracemalloc:
            async def first_snapshot() -> tracemalloc.Snapshot:
                await asyncio.sleep(min(args.baseline, seconds / 3))
                return await peer.snapshot(1)
            first = asyncio.create_task(first_snapshot())
        sent = await publish(peer, pubs, rate, seconds, 0)
        rss_end = procs.rss_kib(peer.proc.pid)  # type: ignore[union-attr]
        cpu = (procs.cpu_seconds(peer.proc.pid) - cpu0) / (time.monotonic() - started)  # type: ignore[union-attr]
        samples.stopping.set()
        await sampler
        if first is not None:
            heap_growth(await first, await peer.snapshot(2))  # type: ignore[attr-defined]
        if args.trim:
            print(f"  RSS at the end {rss_end / 1024:.1f} MiB, after malloc_trim(0) "
                  f"{await peer.trimmed_rss() / 1024:.1f} MiB", flush=True)  # type: ignore[attr-defined]
        await ask_all(clients, "calm", 120)
        deadline = time.monotonic() + 30
        while len(acks.seqs) + sum(acks.errors.values()) < sent and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # the last deliveries
        count, *_, cut = await clients.snap()
        samples.delivered += count
        pubs_cut = sum(1 for pub in pubs if pub.closed.done())
        reports = await ask_all(clients, "report", 120)
        return verdict(args, rate, sent, acks, samples, reports, rss_end, cut, pubs_cut, cpu)
    finally:
        if clients is not None:
            clients.stop()
        await peer.stop()


def verdict(args: argparse.Namespace, rate: float, sent: int, acks: Acks, samples: Samples, reports: list[dict],
            rss_end: int, cut: dict, pubs_cut: int, cpu: float) -> bool:
    """Print the figures and the checks; True when every check passed."""
    seconds = args.minutes * 60
    baseline_s = min(args.baseline, seconds / 3)
    rss_base = samples.rss_at(baseline_s) if samples.rss else rss_end
    growth = rss_end / rss_base - 1
    expect = Expected(acks, args.grace)
    records = [r for rep in reports for r in rep["records"]]
    expected = missing = holed = 0
    for record in records:
        e, m = expect.check(record)
        expected, missing, holed = expected + e, missing + m, holed + (m > 0)
    disorder = sum(r[3] for r in records)
    unexpected = collections.Counter()
    join_errors = collections.Counter()
    for rep in reports:
        unexpected.update(rep["unexpected"])
        join_errors.update(rep["join_errors"])
    joins, leaves = sum(r["joins"] for r in reports), sum(r["leaves"] for r in reports)
    print(f"\nsoak: {seconds:.0f}s at {rate:.2f} msg/s to {args.subscribers} subscribers, churn {args.churn:.1%}/s")
    print("  RSS per minute (MiB): " + ", ".join(
        f"{samples.rss_at(m * 60) / 1024:.1f}" for m in range(1, int(seconds // 60) + 1)))
    print(f"  RSS after {baseline_s:.0f}s {rss_base / 1024:.1f} MiB, at the end {rss_end / 1024:.1f} MiB "
          f"({growth:+.1%})")
    print(f"  sent {sent:,}, acked {len(acks.seqs):,}, publisher errors {dict(acks.errors) or 0}; "
          f"deliveries {samples.delivered:,} ({samples.delivered / seconds:,.0f}/s), server CPU {cpu:.0%}")
    if samples.p99s:
        print(f"  p99 per interval: median {sorted(samples.p99s)[len(samples.p99s) // 2]:.1f} ms, "
              f"worst {max(samples.p99s):.1f} ms")
    print(f"  churn: {joins:,} joins, {leaves:,} leaves; {len(records):,} subscriber spans checked, "
          f"{expected:,} deliveries owed, {missing:,} missing on {holed} sockets, {disorder} out of order")
    checks = [
        (f"RSS at the end within {args.rss_tolerance:.0%} of RSS after {baseline_s:.0f}s"
         + (" (not judged: tracemalloc and its snapshots hold memory of their own)" if args.tracemalloc else ""),
         growth <= args.rss_tolerance or bool(args.tracemalloc)),
        (f"no socket cut but the bench's (subscribers: {dict(unexpected) or 0}, publishers: {pubs_cut})",
         not unexpected and not pubs_cut and not cut),
        ("every acked message delivered to every subscriber in the room for its span", missing == 0 and expected > 0),
        ("every send acked, no error frame", len(acks.seqs) == sent and not acks.errors),
        (f"every join succeeded ({dict(join_errors) or 0} failed)", not join_errors),
        ("no seq out of order", disorder == 0),
    ]
    for name, passed in checks:
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    return all(passed for _, passed in checks)


async def main_async(args: argparse.Namespace) -> bool:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    rate = args.rate or await find_rate(args)
    print(f"soak (load average {os.getloadavg()[0]:.2f})", flush=True)
    async with procs.fresh_database(args.database_url) as dsn:
        passed = await soak(args, rate, dsn)
    print(f"load average after the run {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--subscribers", type=int, default=2000)
    parser.add_argument("--rate", type=float, help="messages/s (default: half the saturation rate, measured first)")
    parser.add_argument("--churn", type=float, default=0.01, help="fraction of the subscribers replaced every second")
    parser.add_argument("--users", type=int, default=20, help="accounts the subscribers sign in as")
    parser.add_argument("--publishers", type=int, default=8, help="publisher sockets (round-robin), as bench.fanout")
    parser.add_argument("--client-processes", type=int, default=2)
    parser.add_argument("--baseline", type=float, default=60.0,
                        help="seconds in for the reference RSS (a third of the run if shorter)")
    parser.add_argument("--rss-tolerance", type=float, default=0.05, help="allowed RSS growth from the reference")
    parser.add_argument("--grace", type=float, default=2.0,
                        help="seconds an acked message may take to reach a socket that leaves after it")
    parser.add_argument("--tracemalloc", metavar="DIR",
                        help="diagnosis: run the server with tracemalloc, snapshots in DIR at the reference "
                             "time and at the end, and print what grew (the server runs several times slower)")
    parser.add_argument("--trim", action="store_true",
                        help="diagnosis: at the end, also report RSS once glibc has returned its free memory")
    parser.add_argument("--connect-timeout", type=float, default=120.0)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="admin DSN; fresh databases are created and dropped after")
    args = parser.parse_args()
    procs.raise_fd_limit(args.subscribers * 2 + 1024)
    sys.exit(0 if asyncio.run(main_async(args)) else 1)


if __name__ == "__main__":
    main()

"""The subscriber processes of one peer, driven over pipes from the harness."""

from __future__ import annotations

import asyncio
import multiprocessing
from array import array

from bench import procs
from bench.fanout import subscribers
from bench.fanout.peers import Peer


class Clients:
    """`processes` subscriber processes sharing `count` sockets (socket i goes to process i % processes)."""

    def __init__(self, peer: Peer, count: int, processes: int, sources: int = 1, target=subscribers.main) -> None:  # type: ignore[no-untyped-def]
        """`sources`: client sockets are spread over 127.0.0.1 .. 127.0.0.<sources> (ports);
        `target`: the process's main (bench.soak's subscribers speak the same pipe protocol)."""
        ctx = multiprocessing.get_context("spawn")
        self.conns, self.procs = [], []
        for k in range(processes):
            parent, child = ctx.Pipe()
            indices = list(range(k, count, processes))
            proc = ctx.Process(target=target, daemon=True,
                               args=(child, peer.name, "127.0.0.1", peer.port, indices, peer.setup, sources))
            proc.start()
            self.conns.append(parent)
            self.procs.append(proc)

    async def _recv(self, conn, timeout: float):  # type: ignore[no-untyped-def]
        loop = asyncio.get_running_loop()
        if not await loop.run_in_executor(None, conn.poll, timeout):
            raise TimeoutError("a subscriber process did not answer")
        return conn.recv()

    async def ready(self, timeout: float) -> tuple[int, list[str]]:
        answers = [await self._recv(conn, timeout) for conn in self.conns]
        return sum(a[1] for a in answers), [e for a in answers for e in a[2]]

    async def snap(self) -> tuple[int, int, array, int, dict]:
        """Deliveries, bytes, latencies (ns) since the last snap, latest arrival (ns), closes so far."""
        for conn in self.conns:
            conn.send("snap")
        count, size, latencies, last, closed = 0, 0, array("q"), 0, {}
        for conn in self.conns:
            c, b, lat, t, cl = await self._recv(conn, 30)
            count, size, last = count + c, size + b, max(last, t)
            latencies.frombytes(lat)
            for code, n in cl.items():
                closed[code] = closed.get(code, 0) + n
        return count, size, latencies, last, closed

    def cpu_seconds(self) -> float:
        return sum(procs.cpu_seconds(proc.pid) for proc in self.procs if proc.pid)

    def stop(self) -> None:
        for conn in self.conns:
            try:
                conn.send("stop")
            except OSError:
                pass
        for proc in self.procs:
            proc.join(10)
            if proc.is_alive():
                proc.kill()

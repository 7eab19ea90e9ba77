"""A subscriber process: holds a share of the benchmark's sockets and tallies what arrives.

Runs in its own process (the machine has 2 cores: the server gets one, the clients share
the rest). Commands come from the harness over a pipe: "snap" answers the deliveries,
bytes and publish-to-receive latencies since the previous snap; "stop" closes everything.
"""

from __future__ import annotations

import asyncio
import collections
from array import array
from multiprocessing.connection import Connection

from bench.fanout.peers import PEERS, Peer
from bench.procs import raise_fd_limit, run_fast
from bench.wsclient import WsClient, connect


class Tally:
    """Counts frames carrying the publisher's `@T<ns>@` stamp; other frames go to the peer."""

    def __init__(self, peer: type[Peer]) -> None:
        self.control = peer.on_control
        self.count = 0
        self.bytes = 0
        self.last = 0  # when the latest stamped frame arrived (monotonic ns)
        self.latencies = array("q")

    def on_message(self, client: WsClient, payload: bytearray, now: int) -> None:
        start = payload.find(b"@T")
        if start < 0:
            self.control(client, payload)
            return
        self.count += 1
        self.bytes += len(payload)
        self.last = now
        self.latencies.append(now - int(payload[start + 2:payload.find(b"@", start + 2)]))

    def snap(self) -> tuple[int, int, bytes, int]:
        out = (self.count, self.bytes, self.latencies.tobytes(), self.last)
        self.count, self.bytes, self.latencies = 0, 0, array("q")
        return out


async def _open(peer: type[Peer], host: str, port: int, setup: dict, index: int, tally: Tally,
                gate: asyncio.Semaphore, sources: int) -> WsClient:
    async with gate:
        source = f"127.0.0.{1 + index % sources}" if sources > 1 else None
        client = await connect(host, port, peer.sub_path(setup, index), timeout=60, source=source)
        await peer.sub_join(client, setup, index)
        client.on_message = tally.on_message
        return client


async def _run(conn: Connection, peer_name: str, host: str, port: int, indices: list[int], setup: dict,
               sources: int) -> None:
    peer = PEERS[peer_name]
    tally = Tally(peer)
    gate = asyncio.Semaphore(64)  # keep the server's accept backlog sane
    results = await asyncio.gather(*(_open(peer, host, port, setup, i, tally, gate, sources) for i in indices),
                                   return_exceptions=True)
    clients = [r for r in results if isinstance(r, WsClient)]
    errors = [repr(r) for r in results if not isinstance(r, WsClient)]
    conn.send(("ready", len(clients), errors[:3]))
    loop = asyncio.get_running_loop()
    # A thread waits on the pipe: the event loop never blocks and the pipe stays blocking.
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "snap":
            closed = collections.Counter(c.close_code for c in clients if c.closed.done())
            conn.send((*tally.snap(), dict(closed)))
    for client in clients:
        client.abort()
    conn.send(("stopped",))


def main(conn: Connection, peer_name: str, host: str, port: int, indices: list[int], setup: dict,
         sources: int = 1) -> None:
    raise_fd_limit(len(indices) + 256)
    run_fast(_run(conn, peer_name, host, port, indices, setup, sources))

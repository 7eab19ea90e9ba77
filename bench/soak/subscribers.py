"""A soak subscriber process: holds a share of the room's sockets, churns them, and checks
every message's seq on every socket.

Each socket is a real client: it asks GET /chat/token with one of the bench users' access
tokens, opens the socket with that chat token and joins the room. The `joined` frame says
the room's seq at the join; from then on the socket must see every seq after it, in
order, until the bench makes it leave. Every second a fraction of the sockets leaves (a
`leave` frame then a close, a plain close, or a dropped TCP connection, in turn) and as
many new ones join. Commands come over a pipe: "snap" as in bench.fanout (so its Clients
drives these processes too), "churn" (start), "calm" (stop churning), "report" (the seq
records), "stop".
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import json
import random
from multiprocessing.connection import Connection

import aiohttp

from bench.fanout.peers import PEERS
from bench.fanout.subscribers import Tally
from bench.procs import raise_fd_limit, run_fast
from bench.wsclient import WsClient, connect, time_ns

SEQ_KEY = b'"seq":'


class Track:
    """What one socket saw: the seq it joined at, the last seq, the holes in between."""

    __slots__ = ("joined_seq", "last", "gaps", "disorder", "left_at")

    def __init__(self, joined_seq: int) -> None:
        self.joined_seq = joined_seq
        self.last = joined_seq
        self.gaps: list[list[int]] = []  # [first, last] seqs never received (inclusive)
        self.disorder = 0  # a seq at or below the last one: a duplicate or a late frame
        self.left_at: int | None = None  # monotonic ns when the bench started its leave

    def see(self, seq: int) -> None:
        if seq == self.last + 1:
            self.last = seq
        elif seq > self.last:
            self.gaps.append([self.last + 1, seq - 1])
            self.last = seq
        else:
            self.disorder += 1
            self._fill(seq)

    def _fill(self, seq: int) -> None:
        for k, (first, last) in enumerate(self.gaps):
            if first <= seq <= last:
                pieces = [[first, seq - 1]] if first < seq else []
                pieces += [[seq + 1, last]] if seq < last else []
                self.gaps[k:k + 1] = pieces
                return

    def record(self) -> tuple[int, int, list[list[int]], int, int | None]:
        return self.joined_seq, self.last, self.gaps, self.disorder, self.left_at


class Soakers:
    """This process's sockets: opening (as a real client), churning, and tallying them."""

    def __init__(self, port: int, indices: list[int], setup: dict) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.port = port
        self.setup = setup
        self.target = len(indices)
        self.tally = Tally(PEERS["veza"])
        self.live: dict[WsClient, Track] = {}
        self.done: list[tuple] = []  # records of sockets that left
        self.leaving: set[WsClient] = set()
        self.unexpected: collections.Counter[int | None] = collections.Counter()
        self.join_errors: collections.Counter[str] = collections.Counter()
        self.joins = 0
        self.leaves = 0
        self.users = itertools.cycle(setup["access"])
        self.ways = itertools.cycle(("leave", "close", "drop"))
        self.gate = asyncio.Semaphore(64)  # keep the server's accept backlog sane
        self.http: aiohttp.ClientSession | None = None
        self.churning = True
        self.opening = 0  # joins under way

    def on_message(self, client: WsClient, payload: bytearray, now: int) -> None:
        track = self.live.get(client)  # None once the bench made it leave
        if track is not None and payload.startswith(b'{"type":"message"'):
            at = payload.find(SEQ_KEY)
            track.see(int(payload[at + len(SEQ_KEY):payload.find(b",", at)]))
        self.tally.on_message(client, payload, now)

    async def _token(self) -> str:
        assert self.http is not None
        async with self.http.get(f"{self.base}/chat/token",
                                 headers={"Authorization": f"Bearer {next(self.users)}"}) as resp:
            body = await resp.json()
            if resp.status != 200:
                raise RuntimeError(f"chat token: {resp.status} {body}")
            return body["data"]["token"]

    async def open_one(self) -> None:
        self.opening += 1
        try:
            async with self.gate:
                client = await connect("127.0.0.1", self.port, f"/api/v1/ws?token={await self._token()}", timeout=60)
                client.send_text(json.dumps({"type": "join", "room": self.setup["room"]}))
                while True:
                    frame = json.loads(await client.recv(60))
                    if frame.get("type") == "joined":
                        break
                    if frame.get("type") == "error":
                        raise RuntimeError(f"join failed: {frame}")
        except Exception as exc:  # noqa: BLE001 (counted and reported: a failed join fails the soak)
            self.join_errors[f"{type(exc).__name__}: {str(exc)[:80]}"] += 1
            return
        finally:
            self.opening -= 1
        self.live[client] = Track(frame["seq"])
        client.on_message = self.on_message
        while not client.inbox.empty():  # frames that came in behind `joined`
            self.on_message(client, bytearray(client.inbox.get_nowait()), time_ns())
        client.closed.add_done_callback(lambda _, c=client: self._closed(c))
        self.joins += 1

    def _closed(self, client: WsClient) -> None:
        if client in self.leaving:
            self.leaving.discard(client)
            return
        self.unexpected[client.close_code] += 1  # cut by the server: the soak fails
        track = self.live.pop(client, None)
        if track is not None:
            track.left_at = time_ns()
            self.done.append(track.record())

    async def leave_one(self, client: WsClient) -> None:
        track = self.live.pop(client, None)
        if track is None:  # cut by the server since it was picked: counted there
            return
        track.left_at = time_ns()
        self.done.append(track.record())
        self.leaving.add(client)
        self.leaves += 1
        way = next(self.ways)
        if way == "drop":
            client.abort()
            return
        if way == "leave":
            client.send_text(json.dumps({"type": "leave", "room": self.setup["room"]}))
        await client.close()

    async def churn(self, fraction: float) -> None:
        """Every second on the clock, `fraction` of the sockets leave and as many new ones
        join; a round does not wait for the one before (joins slow down under load, the
        churn must not)."""
        loop = asyncio.get_running_loop()
        owed, started, rounds = 0.0, loop.time(), set()
        for second in itertools.count(1):
            await asyncio.sleep(max(0.0, started + second - loop.time()))
            if not self.churning:
                break
            owed += fraction * self.target
            count, owed = int(owed), owed - int(owed)
            leaving = random.sample(list(self.live), min(count, len(self.live)))
            joining = self.target - len(self.live) - self.opening + len(leaving)  # and any the server cut
            done = asyncio.gather(*(self.leave_one(c) for c in leaving), *(self.open_one() for _ in range(joining)))
            rounds.add(done)
            done.add_done_callback(rounds.discard)
        await asyncio.gather(*rounds)

    def report(self) -> dict:
        return {"records": self.done + [t.record() for t in self.live.values()], "unexpected": dict(self.unexpected),
                "join_errors": dict(self.join_errors), "joins": self.joins, "leaves": self.leaves}


async def _run(conn: Connection, port: int, indices: list[int], setup: dict) -> None:
    soak = Soakers(port, indices, setup)
    async with aiohttp.ClientSession() as soak.http:
        await asyncio.gather(*(soak.open_one() for _ in indices))
        conn.send(("ready", len(soak.live), [f"{n} x {name}" for name, n in soak.join_errors.items()]))
        churn: asyncio.Task | None = None
        loop = asyncio.get_running_loop()
        while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
            if command == "snap":
                conn.send((*soak.tally.snap(), dict(soak.unexpected)))
            elif command == "churn" and churn is None:
                churn = asyncio.create_task(soak.churn(setup["churn"]))
            elif command == "calm":  # no more churn: the last round of it finishes first
                soak.churning = False
                if churn is not None:
                    await churn
                conn.send(("calm",))
            elif command == "report":
                conn.send(soak.report())
        for client in list(soak.live):
            client.abort()
    conn.send(("stopped",))


def main(conn: Connection, peer_name: str, host: str, port: int, indices: list[int], setup: dict,
         sources: int = 1) -> None:
    """The signature of bench.fanout.subscribers.main, so bench.fanout's Clients starts these."""
    raise_fd_limit(len(indices) + 1024)
    run_fast(_run(conn, port, indices, setup))

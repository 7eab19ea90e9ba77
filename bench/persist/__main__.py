"""Persisted sends/s across 100 rooms: the node's group commit vs a commit per room vs one per message.

Every mode runs the real `ChatRoom` actor against real PostgreSQL (a fresh database, fsync
and synchronous_commit as the server has them) with its real store and hub, in this
process: the benchmark is about the persistence path, so no socket sits between the
senders and the rooms. Modes:

- group: `ChatRoom` as shipped: each room drains its mailbox into one batch, and the
  node's `RoomWriter` writes the batches of every room that handed one in meanwhile in one
  transaction (rooms locked, COPY, one commit);
- per-room: the same actor, each room's batch its own transaction (`RoomWriter` with one
  room per statement, up to the pool's size at once): what a room cost before;
- one-insert: batches of one (`max_batch = 1`), each send its own transaction.

Each mode gets its own rooms; K concurrent senders per room submit a send and wait for its
reply, as the socket gateway does (an ack means committed). Rounds alternate between the
modes so a change in the machine's load hits all alike. Every acked send is counted back
in the table.

    python -m bench.persist --rooms 100 --senders 16 --seconds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
import uuid

from actors import ActorSystem
from actors.broker import InProcessBroker
from actors.chat_room import ChatRoom, RoomServices, Send
from actors.hub import Hub
from bench import procs
from veza.db import Database, migrate
from veza.room_writer import RoomWriter
from veza.rooms import RoomStoreAdapter
from veza.store import conversations, users


class PerRoomCommit(ChatRoom):
    """The same room; its store writes each room's batch in a transaction of its own."""


class OneInsertPerMessage(PerRoomCommit):
    """The same room, taking one message per turn: one INSERT and one commit per send."""

    max_batch = 1


async def make_rooms(db: Database, owner: dict, count: int) -> list[uuid.UUID]:
    async with db.connection() as conn:
        return [(await conversations.create_conversation(conn, type_="public", name=f"bench {i}",
                                                         owner_id=owner["id"], members=[]))["id"] for i in range(count)]


async def backend_pids(db: Database) -> set[int]:
    async with db.connection() as conn:
        return {r["pid"] for r in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")}


def cpu_of(pids: set[int]) -> dict[int, float]:
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = procs.cpu_seconds(pid)
        except OSError:  # a connection closed meanwhile
            pass
    return seconds


async def run_round(system: ActorSystem, cls: type[ChatRoom], rooms: list[uuid.UUID], owner: dict,
                    senders: int, seconds: float, db: Database) -> dict:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds

    async def sender(room: uuid.UUID, name: str) -> None:
        # What the socket gateway does with a `message` frame: submit, then the reply (the
        # ack, after commit). No clock per send (`ask` arms one), so the harness stays cheap.
        ref, k = system.ref(cls, room), 0
        while (start := time.monotonic()) < deadline:
            k += 1
            reply = await ref.submit(Send(owner["id"], owner["username"], "a persisted chat line " + "x" * 60,
                                          client_id=f"{name}-{k}"))
            await reply
            latencies.append(time.monotonic() - start)

    # CPU per send, the steadier figure on a shared machine: this process (actors, writer,
    # asyncpg) and the database's backends (their pids read before and after: the pool may
    # open connections meanwhile, whose whole CPU is then this round's).
    before_pids = await backend_pids(db)
    backends_before, process_before = cpu_of(before_pids), time.process_time()
    started = time.monotonic()
    tag = uuid.uuid4().hex[:8]
    await asyncio.gather(*(sender(room, f"{tag}-{r}-{s}") for r, room in enumerate(rooms) for s in range(senders)))
    elapsed = time.monotonic() - started
    process = time.process_time() - process_before
    backends_after = cpu_of(before_pids | await backend_pids(db))
    backends = sum(t - backends_before.get(pid, 0.0) for pid, t in backends_after.items())
    latencies.sort()
    sends = max(1, len(latencies))
    return {"sends": len(latencies), "per_s": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
            "process_us": process / sends * 1e6, "backends_us": backends / sends * 1e6}


async def main_async(args: argparse.Namespace) -> None:
    print(f"{procs.machine()}; commit {procs.commit()}", flush=True)
    async with procs.fresh_database(args.database_url) as dsn:
        db = await Database.connect(dsn, min_size=2, max_size=args.pool)
        async with db.connection() as conn:
            await migrate(conn)
            owner = await users.create_user(conn, username=f"bench_{uuid.uuid4().hex[:6]}",
                                            email=f"bench_{uuid.uuid4().hex[:6]}@example.com", password_hash=None)
        broker = InProcessBroker("bench")
        hub = Hub(broker)
        await hub.start()
        system = ActorSystem()
        group = RoomWriter(db)
        system.provide(ChatRoom, RoomServices(RoomStoreAdapter(db, group), hub, broker))
        alone = RoomWriter(db, max_rooms=1, max_inflight=args.pool, overlap_rows=0)
        system.provide(PerRoomCommit, RoomServices(RoomStoreAdapter(db, alone), hub, broker))  # and one-insert
        modes = {"group": ChatRoom, "per-room": PerRoomCommit, "one-insert": OneInsertPerMessage}
        modes = {name: modes[name] for name in args.modes.split(",")}
        rooms = {name: await make_rooms(db, owner, args.rooms) for name in modes}
        totals: dict[str, list[dict]] = {name: [] for name in modes}
        try:
            for round_ in range(args.rounds):
                for name, cls in modes.items():
                    res = await run_round(system, cls, rooms[name], owner, args.senders, args.seconds, db)
                    totals[name].append(res)
                    writer = group if name == "group" else alone
                    statements, writer.statements = writer.statements, 0
                    print(f"  round {round_ + 1} {name:10} {res['per_s']:8.0f} sends/s  ack p50={res['p50_ms']:6.1f}ms "
                          f"p99={res['p99_ms']:6.1f}ms  CPU/send: bench {res['process_us']:4.1f} us, "
                          f"postgres {res['backends_us']:4.1f} us  ({res['sends']} acked, "
                          f"{res['sends'] / max(1, statements):.0f} per commit)", flush=True)
            async with db.connection() as conn:
                stored = await conn.fetchval("SELECT count(*) FROM chat_messages")
        finally:
            await system.stop_all()
            await hub.stop()
            await db.close()
    acked = sum(r["sends"] for rs in totals.values() for r in rs)
    print(f"\n{args.rooms} rooms x {args.senders} concurrent senders, pool {args.pool} connections; "
          f"{acked} acked, {stored} rows stored")
    mean = {name: sum(r["per_s"] for r in rs) / len(rs) for name, rs in totals.items()}
    for name, value in mean.items():
        cpu = {key: sum(r[key] for r in totals[name]) / len(totals[name]) for key in ("process_us", "backends_us")}
        print(f"  {name:10} {value:8.0f} persisted sends/s (mean of {args.rounds} rounds); CPU per send: "
              f"bench process {cpu['process_us']:.1f} us, postgres backends {cpu['backends_us']:.1f} us")
    for name in mean:
        if name != "group" and "group" in mean:
            print(f"  group / {name}: {mean['group'] / mean[name]:.2f}x")
    assert acked == stored, "every acked send must be in the table"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders per room")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and mode")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="group,per-room,one-insert")
    parser.add_argument("--pool", type=int, default=20, help="database pool size (DB_POOL_MAX's default)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

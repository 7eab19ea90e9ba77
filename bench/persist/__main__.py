"""Persisted sends/s across 100 rooms: the ChatRoom's batched path vs one INSERT per message.

Both modes run the real `ChatRoom` actor against real PostgreSQL (a fresh database) with
its real store and hub, in this process: the benchmark is about the persistence path, so
no socket sits between the senders and the rooms. `OneInsertPerMessage` is the same actor
with batches of one (`max_batch = 1`): every send is its own INSERT and commit. Each mode
gets its own 100 rooms; K concurrent senders per room `ask` the room and count the acks
(an ack means committed). Rounds alternate (batched, single, batched, single) so a change
in the machine's load hits both modes alike.

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
from veza.rooms import RoomStoreAdapter
from veza.store import conversations, users


class OneInsertPerMessage(ChatRoom):
    """The same room, taking one message per turn: one INSERT and one commit per send."""

    max_batch = 1


async def make_rooms(db: Database, owner: dict, count: int) -> list[uuid.UUID]:
    async with db.connection() as conn:
        return [(await conversations.create_conversation(conn, type_="public", name=f"bench {i}",
                                                         owner_id=owner["id"], members=[]))["id"] for i in range(count)]


async def run_round(system: ActorSystem, cls: type[ChatRoom], rooms: list[uuid.UUID], owner: dict,
                    senders: int, seconds: float) -> dict:
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

    started = time.monotonic()
    tag = uuid.uuid4().hex[:8]
    await asyncio.gather(*(sender(room, f"{tag}-{r}-{s}") for r, room in enumerate(rooms) for s in range(senders)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {"sends": len(latencies), "per_s": len(latencies) / elapsed,
            "p50_ms": latencies[len(latencies) // 2] * 1000, "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000}


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
        system.provide(ChatRoom, RoomServices(RoomStoreAdapter(db), hub, broker))  # OneInsertPerMessage too
        modes = {"batched": ChatRoom, "one-insert": OneInsertPerMessage}
        rooms = {name: await make_rooms(db, owner, args.rooms) for name in modes}
        totals: dict[str, list[dict]] = {name: [] for name in modes}
        try:
            for round_ in range(args.rounds):
                for name, cls in modes.items():
                    res = await run_round(system, cls, rooms[name], owner, args.senders, args.seconds)
                    totals[name].append(res)
                    print(f"  round {round_ + 1} {name:10} {res['per_s']:8.0f} sends/s  ask p50={res['p50_ms']:6.1f}ms "
                          f"p99={res['p99_ms']:6.1f}ms  ({res['sends']} acked)", flush=True)
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
        print(f"  {name:10} {value:8.0f} persisted sends/s (mean of {args.rounds} rounds)")
    print(f"  batched / one-insert: {mean['batched'] / mean['one-insert']:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rooms", type=int, default=100)
    parser.add_argument("--senders", type=int, default=16, help="concurrent senders per room")
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and mode")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pool", type=int, default=20, help="database pool size (DB_POOL_MAX's default)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    args = parser.parse_args()
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()

"""RoomSequencer: seq order, exactly once, gaps read from the store, joiners held."""

from __future__ import annotations

import asyncio
import json

from actors.sequencer import RoomSequencer, message_seq


class Sink:
    def __init__(self) -> None:
        self.got: list[bytes] = []

    def deliver(self, data: bytes, volatile: bool = False) -> None:
        self.got.append(data)

    def seqs(self) -> list[int]:
        return [json.loads(d)["message"]["seq"] for d in self.got if json.loads(d)["type"] == "message"]


def msg(seq: int) -> bytes:
    return json.dumps({"type": "message", "room": "r", "message": {"seq": seq, "content": f"m{seq}"}}).encode()


class Store:
    """The room as PostgreSQL has it: messages 1..head."""

    def __init__(self, head: int) -> None:
        self.head = head
        self.reads: list[tuple[int, int]] = []

    async def head_of(self, topic: str) -> int:
        return self.head

    async def fetch(self, topic: str, after: int, limit: int) -> list[tuple[int, bytes]]:
        self.reads.append((after, limit))
        return [(s, msg(s)) for s in range(after + 1, min(self.head, after + limit) + 1)]


def sequencer(store: Store, *subs: Sink, gap_wait: float = 0.05) -> RoomSequencer:
    return RoomSequencer("room:r", lambda: subs, store.head_of, store.fetch, gap_wait)


def test_message_seq_only_for_new_messages() -> None:
    assert message_seq(msg(7)) == 7
    assert message_seq(b'{"type":"message_deleted","seq":3}') is None
    assert message_seq(b'{"type":"typing","room":"r"}') is None
    assert message_seq(b"not json") is None


async def test_out_of_order_and_duplicates_come_out_in_order_once() -> None:
    store, a = Store(head=10), Sink()
    seqr = sequencer(store, a)
    await seqr.open()
    for s in (12, 11, 11, 13, 12, 10, 9):
        seqr.offer(msg(s))
    assert a.seqs() == [11, 12, 13]
    assert store.reads == []  # no gap lasted: nothing read


async def test_a_lasting_gap_is_filled_from_the_store_before_what_follows() -> None:
    store, a = Store(head=5), Sink()
    seqr = sequencer(store, a)
    await seqr.open()
    store.head = 9  # 6..8 were written on another node; their events are lost
    seqr.offer(msg(9))
    assert a.seqs() == []
    async with asyncio.timeout(5):
        while a.seqs() != [6, 7, 8, 9]:
            await asyncio.sleep(0.01)
    assert seqr.stats["filled"] == 3
    seqr.offer(msg(7))  # the lost one turns up late: dropped
    assert a.seqs() == [6, 7, 8, 9]
    seqr.close()


async def test_events_before_open_older_than_the_head_are_dropped() -> None:
    store, a = Store(head=4), Sink()
    seqr = sequencer(store, a)
    seqr.offer(msg(4))  # covered by joiners' replays
    seqr.offer(msg(6))
    seqr.offer(msg(5))
    await seqr.open()
    assert a.seqs() == [5, 6]


async def test_other_events_pass_straight_through() -> None:
    store, a = Store(head=0), Sink()
    seqr = sequencer(store, a)
    await seqr.open()
    seqr.offer(msg(2))  # waiting for 1
    seqr.offer(b'{"type":"typing","room":"r"}', volatile=True)
    assert [json.loads(d)["type"] for d in a.got] == ["typing"]
    seqr.offer(msg(1))
    assert a.seqs() == [1, 2]


async def test_a_held_joiner_gets_each_message_once_replay_or_live() -> None:
    store, old, joiner = Store(head=3), Sink(), Sink()
    seqr = sequencer(store, old, joiner)
    await seqr.open()
    seqr.hold(joiner)
    seqr.offer(msg(4))
    seqr.offer(msg(5))
    seqr.offer(b'{"type":"presence","room":"r"}')
    assert joiner.got == []  # stashed until its joined frame is out
    seqr.release(joiner, upto=4)  # its replay went up to 4
    assert joiner.seqs() == [5] and json.loads(joiner.got[-1])["type"] == "presence"
    seqr.offer(msg(6))
    assert joiner.seqs() == [5, 6] and old.seqs() == [4, 5, 6]


async def test_release_with_a_replay_ahead_of_delivery_skips_the_overlap() -> None:
    store, joiner = Store(head=3), Sink()
    seqr = sequencer(store, joiner)
    await seqr.open()
    seqr.hold(joiner)
    seqr.release(joiner, upto=6)  # the replay read 4..6, committed but not yet delivered here
    for s in (4, 5, 6, 7):
        seqr.offer(msg(s))
    assert joiner.seqs() == [7]


async def test_resync_reads_what_was_written_while_the_broker_was_away() -> None:
    store, a = Store(head=2), Sink()
    seqr = sequencer(store, a)
    await seqr.open()
    store.head = 1204
    await seqr.resync()
    assert a.seqs() == list(range(3, 1205))
    assert len(store.reads) >= 3  # paged

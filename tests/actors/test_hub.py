"""The hub: local fan-out, broker channels only while needed, and delivery across nodes."""

from __future__ import annotations

import uuid

import pytest

from actors.broker import InProcessBroker, Subscription, deliver
from actors.hub import Hub, user_topic


class SharedBus:
    """Several nodes' brokers on one bus, so two hubs in one process behave like two nodes."""

    def __init__(self) -> None:
        self.subs: dict[str, list[Subscription]] = {}

    def node(self, node_id: str) -> NodeBroker:
        return NodeBroker(self, node_id)


class NodeBroker(InProcessBroker):
    def __init__(self, bus: SharedBus, node_id: str) -> None:
        super().__init__(node_id)
        self._subs = bus.subs  # one table for every node

    async def publish(self, channel: str, payload: bytes) -> None:
        deliver(self._subs.get(channel, ()), payload, self.node_id)


class Sock:
    def __init__(self, user_id: uuid.UUID | None = None) -> None:
        self.user_id = user_id
        self.got: list[tuple[bytes, bool]] = []
        self.closed: tuple[int, str] | None = None

    def deliver(self, data: bytes, volatile: bool = False) -> None:
        self.got.append((data, volatile))

    def close(self, code: int, reason: str = "") -> None:
        self.closed = (code, reason)


async def test_publish_reaches_local_subscribers_once() -> None:
    broker = InProcessBroker("n1")
    hub = Hub(broker)
    await hub.start()
    a, b, other = Sock(), Sock(), Sock()
    await hub.subscribe("room:1", a)
    await hub.subscribe("room:1", b)
    await hub.subscribe("room:2", other)
    await hub.publish("room:1", b"x")
    await hub.publish("room:1", b"t", volatile=True)
    # The broker echoes our own publish back; the hub skips it (origin == own node).
    assert a.got == b.got == [(b"x", False), (b"t", True)]
    assert other.got == []
    assert hub.local_count("room:1") == 2


async def test_broker_channel_held_only_while_local_subscribers_exist() -> None:
    broker = InProcessBroker("n1")
    hub = Hub(broker)
    a, b = Sock(), Sock()
    await hub.subscribe("room:1", a)
    await hub.subscribe("room:1", b)
    assert broker.channels() == ["room:1"]
    await hub.unsubscribe("room:1", a)
    assert broker.channels() == ["room:1"]
    await hub.unregister(b)
    assert broker.channels() == [] and hub.local_count("room:1") == 0


async def test_other_nodes_receive_topics_users_and_broadcasts() -> None:
    bus = SharedBus()
    hub1, hub2, hub3 = Hub(bus.node("n1")), Hub(bus.node("n2")), Hub(bus.node("n3"))
    for hub in (hub1, hub2, hub3):
        await hub.start()
    uid = uuid.uuid4()
    here, there, tab1, tab2, idle = Sock(), Sock(), Sock(uid), Sock(uid), Sock()
    await hub1.subscribe("room:1", here)
    await hub2.subscribe("room:1", there)
    await hub2.register(tab1)
    await hub3.register(tab2)
    await hub3.register(idle)
    await hub1.publish("room:1", b"m", volatile=True)
    assert here.got == there.got == [(b"m", True)]
    assert idle.got == []  # node 3 has no room:1 subscriber and does not hear it
    await hub1.send_to_user(uid, b"u")
    assert tab1.got == tab2.got == [(b"u", False)]
    await hub2.broadcast(b"all")
    for sock in (here, there, idle):
        assert sock.got[-1] == (b"all", False)
    assert tab1.got[-1] == tab2.got[-1] == (b"all", False)
    assert hub3.connections_of(uid) == [tab2]
    assert user_topic(uid) in hub3.topics_of(tab2)


async def test_one_failing_connection_does_not_starve_the_others() -> None:
    hub = Hub(InProcessBroker("n1"))

    class Broken(Sock):
        def deliver(self, data: bytes, volatile: bool = False) -> None:
            raise RuntimeError("boom")

    good = Sock()
    await hub.subscribe("t", Broken())
    await hub.subscribe("t", good)
    await hub.publish("t", b"x")
    assert good.got == [(b"x", False)]


async def test_close_all_and_stop_release_every_channel() -> None:
    broker = InProcessBroker("n1")
    hub = Hub(broker)
    await hub.start()
    a = Sock(uuid.uuid4())
    await hub.register(a)
    await hub.subscribe("room:9", a)
    assert hub.close_all(1001, "bye") == 1 and a.closed == (1001, "bye")
    await hub.stop()
    assert broker.channels() == []


async def test_racing_subscribe_and_unsubscribe_end_with_one_channel() -> None:
    import asyncio

    class SlowBroker(InProcessBroker):
        async def subscribe(self, channel, handler):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.01)
            return await super().subscribe(channel, handler)

        async def unsubscribe(self, subscription):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.01)
            await super().unsubscribe(subscription)

    broker = SlowBroker("n1")
    hub = Hub(broker)
    socks = [Sock() for _ in range(6)]
    ops = []
    for i, sock in enumerate(socks):
        ops.append(hub.subscribe("t", sock))
        if i % 2:
            ops.append(hub.unsubscribe("t", socks[i - 1]))
    await asyncio.gather(*ops)
    assert hub.local_count("t") == 3
    assert len(broker._subs["t"]) == 1  # exactly one broker subscription, no leak
    await hub.publish("t", b"x")
    await asyncio.gather(*(hub.unregister(s) for s in socks))
    assert broker.channels() == [] and hub._locks == {}


async def test_a_users_topic_follows_registration_without_a_topic_set_of_its_own() -> None:
    """A signed-in socket is on its `user:<id>` topic from `register` to `unregister`, and so
    is the node's broker channel for it, whatever other topics come and go meanwhile."""
    bus = SharedBus()
    here, there = Hub(bus.node("n1")), Hub(bus.node("n2"))
    await here.start()
    await there.start()
    uid = uuid.uuid4()
    tab, anonymous, remote = Sock(uid), Sock(), Sock(uid)
    await here.register(tab)
    await here.register(anonymous)
    await there.register(remote)
    assert here.topics_of(tab) == {user_topic(uid)} and here.topics_of(anonymous) == frozenset()
    assert here.has_channel(user_topic(uid)) and here.connections_of(uid) == [tab]
    await here.subscribe("room:1", tab)
    assert here.topics_of(tab) == {user_topic(uid), "room:1"}
    await here.unsubscribe("room:1", tab)
    assert here.topics_of(tab) == {user_topic(uid)} and not here.has_channel("room:1")
    await there.send_to_user(uid, b"from n2")  # through the broker channel, to this node
    await here.send_to_user(uid, b"from n1")
    assert tab.got == [(b"from n2", False), (b"from n1", False)]
    assert remote.got == [(b"from n2", False), (b"from n1", False)]
    await here.subscribe("room:2", tab)
    await here.unregister(tab)
    assert here.connections_of(uid) == [] and here.topics_of(tab) == frozenset()
    assert not here.has_channel(user_topic(uid)) and not here.has_channel("room:2")
    await there.send_to_user(uid, b"after")
    assert tab.got[-1] == (b"from n1", False)
    await here.unregister(tab)  # twice, or never registered: nothing happens
    await here.unregister(Sock(uid))
    assert there.connections_of(uid) == [remote]


async def test_a_second_socket_of_a_user_keeps_the_channel_when_the_first_leaves() -> None:
    hub = Hub(InProcessBroker("n1"))
    await hub.start()
    uid = uuid.uuid4()
    first, second = Sock(uid), Sock(uid)
    await hub.register(first)
    await hub.register(second)
    await hub.unregister(first)
    assert hub.has_channel(user_topic(uid)) and hub.connections_of(uid) == [second]
    await hub.send_to_user(uid, b"x")
    assert second.got == [(b"x", False)] and first.got == []
    await hub.unregister(second)
    assert not hub.has_channel(user_topic(uid))


async def test_three_sockets_of_one_user_each_get_its_messages_until_each_leaves() -> None:
    hub = Hub(InProcessBroker("n1"))
    await hub.start()
    uid = uuid.uuid4()
    tabs = [Sock(uid) for _ in range(3)]
    for tab in tabs:
        await hub.register(tab)
    await hub.register(tabs[0])  # registered twice: still one delivery
    assert hub.local_count(user_topic(uid)) == 3 and set(hub.local_subscribers(user_topic(uid))) == set(tabs)
    assert hub.deliver_local(user_topic(uid), b"a") == 3
    await hub.unregister(tabs[1])
    assert hub.deliver_local(user_topic(uid), b"b", exclude=tabs[2]) == 2
    await hub.unregister(tabs[2])
    await hub.send_to_user(uid, b"c")
    assert [g for g, _ in tabs[0].got] == [b"a", b"b", b"c"]
    assert [g for g, _ in tabs[1].got] == [b"a"] and [g for g, _ in tabs[2].got] == [b"a"]
    await hub.unregister(tabs[0])
    assert hub.local_count(user_topic(uid)) == 0 and hub.deliver_local(user_topic(uid), b"d") == 0
    assert not hub.has_channel(user_topic(uid))


async def test_a_user_topic_is_joined_by_registering_not_by_subscribing() -> None:
    hub = Hub(InProcessBroker("n1"))
    await hub.start()
    with pytest.raises(ValueError):
        await hub.subscribe(user_topic(uuid.uuid4()), Sock())

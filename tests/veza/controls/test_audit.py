"""The audit recorder: a request's entry is a list append; the AuditLog actor gets the
pending entries as one batch per interval, at once when enough are pending, and at
shutdown; a writer far behind costs dropped (and counted) batches, never a slow request; what
the client sends never makes PostgreSQL refuse a batch, and a refused entry costs only itself."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp.test_utils import make_mocked_request
from prometheus_client import CollectorRegistry, Counter

from actors import ActorSystem
from actors.audit import AuditEntry, AuditLog, AuditServices
from tests.actors.test_audit import _entry
from tests.support import ApiClient
from tests.veza.api.test_platform_admin import _audit_entries
from veza import keys
from veza.controls.audit import AuditRecorder
from veza.http.client_info import storable


def _recorder(write, actor: type[AuditLog] = AuditLog, **options) -> tuple[ActorSystem, AuditRecorder, CollectorRegistry]:  # type: ignore[no-untyped-def]
    system = ActorSystem()
    system.provide(AuditLog, AuditServices(write))
    registry = CollectorRegistry()
    dropped = Counter("audit_dropped", "", registry=registry)
    return system, AuditRecorder(system.ref(actor, "node"), dropped, **options), registry


def _record(recorder: AuditRecorder, i: int) -> None:
    request = make_mocked_request("POST", f"/api/v1/things/{i}")
    recorder.record(request, 201, f"rid-{i}", "/api/v1/things/{id}", "203.0.113.7")


async def test_entries_of_an_interval_reach_the_writer_as_one_batch() -> None:
    writes: list[list[AuditEntry]] = []

    async def write(entries: list[AuditEntry]) -> None:
        writes.append([AuditEntry(*entry) for entry in entries])

    system, recorder, _ = _recorder(write, interval=0.05)
    for i in range(5):
        _record(recorder, i)
    await asyncio.sleep(0)
    assert writes == []  # nothing handed over before the interval
    for _ in range(50):
        if writes:
            break
        await asyncio.sleep(0.01)
    assert len(writes) == 1 and [e.request_id for e in writes[0]] == [f"rid-{i}" for i in range(5)]
    entry = writes[0][0]
    assert (entry.user_id, entry.action, entry.resource, entry.route, entry.ip_address, entry.status, entry.via) == (
        None, "POST", "/api/v1/things/0", "/api/v1/things/{id}", "203.0.113.7", 201, None)
    await system.stop_all()


async def test_a_full_batch_is_handed_over_at_once_and_the_rest_at_shutdown() -> None:
    writes: list[int] = []

    async def write(entries: list[AuditEntry]) -> None:
        writes.append(len(entries))

    system, recorder, _ = _recorder(write, interval=60.0, max_pending=3)
    for i in range(4):
        _record(recorder, i)
    await asyncio.sleep(0.01)
    assert writes == [3]  # without waiting for the (long) interval
    recorder.flush()  # shutdown: the last one goes before the actor system drains
    await system.stop_all(timeout=5)
    assert writes == [3, 1]


async def test_a_writer_far_behind_drops_and_counts_batches() -> None:
    gate = asyncio.Event()

    async def stuck(entries: list[AuditEntry]) -> None:
        await gate.wait()

    class Tiny(AuditLog):
        mailbox_size = 1
        max_batch = 1

    system, recorder, registry = _recorder(stuck, Tiny, interval=60.0, max_pending=1)
    for i in range(5):  # one batch in the writer, one in the mailbox, the rest refused
        _record(recorder, i)
        await asyncio.sleep(0)
    assert registry.get_sample_value("audit_dropped_total") >= 2
    gate.set()
    await system.stop_all()


def test_storable_replaces_what_postgresql_refuses_and_caps_the_length() -> None:
    assert storable("/a\x00b", 2048) == "/a\ufffdb"
    assert storable("1.2.3.4\udcffx", 64) == "1.2.3.4\ufffdx"  # a header's non-UTF-8 byte, as aiohttp decodes it
    assert storable("/\x00" * 3000, 2048) == "/\ufffd" * 1024


async def test_a_nul_in_the_path_costs_no_other_entry(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    tag = f"/api/v1/nonexistent-{uuid.uuid4().hex[:8]}"
    paths = [f"{tag}-{i}" for i in range(8)] + [f"{tag}-nul%00x"]
    replies = await asyncio.gather(*(client.post(path) for path in paths))  # one recorder batch
    assert all(reply.status == 404 for reply in replies)
    entries = await _audit_entries(client, admin, f"resource={tag}")
    assert sorted(e["resource"] for e in entries) == sorted([*paths[:8], f"{tag}-nul\ufffdx"])


async def test_a_batch_with_rows_postgresql_refuses_keeps_the_others(client: ApiClient) -> None:
    admin = await client.register(role="admin")
    tag = f"/refused-{uuid.uuid4().hex[:8]}"
    entries = [_entry(i)._replace(resource=f"{tag}/{i}") for i in range(10)]
    # Past the recorder's sanitising: a NUL (refused by PostgreSQL) and a lone surrogate (by asyncpg).
    entries[2] = entries[2]._replace(resource=f"{tag}/nul\x00")
    entries[7] = entries[7]._replace(ip_address="1.2.3.4\udcff")
    await client.app[keys.audit_log].ask(entries, timeout=30)  # answered once written
    stored = await _audit_entries(client, admin, f"resource={tag}")
    assert sorted(e["request_id"] for e in stored) == sorted(str(i) for i in range(10) if i not in (2, 7))

"""Stored objects whose rows are gone: listed in the same transaction, freed after commit,
kept listed when storage refuses, and retried by the sweep."""

from __future__ import annotations

import uuid

from tests.support import ApiClient
from tests.veza.api.cloud_helpers import garbage_rows, make_file, settled, stored_files
from veza import keys
from veza.api.cloud_setup import collector, limits
from veza.domain import cloud as rules
from veza.domain.unit_of_work import unit_of_work


async def test_a_failed_delete_stays_listed_and_the_sweep_retries_it(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"stuck", "stuck.txt")
    async with client.app[keys.db].connection() as conn:
        key = await conn.fetchval("SELECT storage_key FROM cloud_files WHERE id = $1::uuid", f["id"])
    path = client.app[keys.storage].path(key)  # type: ignore[attr-defined]
    path.unlink()
    path.mkdir()  # unlink() of a directory fails: storage refuses the delete
    assert (await client.delete(f"/cloud/files/{f['id']}", user=me)).status == 200
    await settled(client)
    assert await garbage_rows(client) == [key] and path.exists()
    path.rmdir()
    path.write_bytes(b"stuck")
    await client.app[collector].sweep()
    assert await garbage_rows(client) == [] and not path.exists()


async def test_a_rolled_back_delete_frees_nothing(client: ApiClient) -> None:
    me = await client.register()
    f = await make_file(client, me, b"kept", "kept.txt")
    before = stored_files(client)
    class Boom(Exception):
        pass

    try:
        async with unit_of_work(client.app[keys.db]) as uow:
            await rules.delete_file(uow, client.app[collector], uuid.UUID(me.id), uuid.UUID(f["id"]),
                                    limits(client.app[keys.settings]))
            raise Boom
    except Boom:
        pass
    await settled(client)
    assert stored_files(client) == before and await garbage_rows(client) == []
    assert (await client.get(f"/cloud/files/{f['id']}/download", user=me)).body == b"kept"

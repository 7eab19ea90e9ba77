"""The after-commit mechanism: effects run in order after COMMIT, never after a rollback."""

from __future__ import annotations

import pytest

from veza.domain.unit_of_work import unit_of_work


async def test_effects_run_after_commit_in_order(db):
    seen: list[object] = []

    async def later(tag: str) -> None:
        # The row is visible from another connection: the effect runs after COMMIT.
        seen.append((tag, await db.fetchval("SELECT count(*) FROM uow_probe")))

    await db.pool.execute("CREATE TABLE IF NOT EXISTS uow_probe (n int)")
    await db.pool.execute("TRUNCATE uow_probe")
    async with unit_of_work(db) as uow:
        await uow.conn.execute("INSERT INTO uow_probe VALUES (1)")
        uow.after_commit(seen.append, "sync")
        uow.after_commit(later, "async")
        assert seen == []
    assert seen == ["sync", ("async", 1)]


async def test_rollback_drops_the_effects(db):
    seen: list[str] = []
    with pytest.raises(RuntimeError):
        async with unit_of_work(db) as uow:
            uow.after_commit(seen.append, "never")
            raise RuntimeError("boom")
    assert seen == []


async def test_a_failing_effect_does_not_stop_the_others(db):
    seen: list[str] = []

    def broken() -> None:
        raise ValueError("push failed")

    async with unit_of_work(db) as uow:
        uow.after_commit(broken)
        uow.after_commit(seen.append, "still runs")
    assert seen == ["still runs"]

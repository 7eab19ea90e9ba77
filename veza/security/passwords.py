"""argon2id hashing in a worker thread: never on the event loop.

argon2-cffi releases the GIL while hashing, so the worker threads hash in parallel
while the loop keeps serving. A semaphore bounds concurrent hashes (each uses
`memory_kib` of RAM) so a login storm queues instead of exhausting memory.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Executor

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class PasswordHasher:
    def __init__(self, executor: Executor, *, time_cost: int, memory_kib: int, parallelism: int, max_concurrent: int) -> None:
        self._hasher = argon2.PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, type=argon2.Type.ID
        )
        self._executor = executor
        self._slots = asyncio.Semaphore(max_concurrent)
        # A real hash to verify against when the account does not exist, so that an
        # unknown email costs as much time as a wrong password.
        self._dummy = self._hasher.hash("veza-timing-equaliser")

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.get_running_loop().run_in_executor(self._executor, self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        target = stored_hash or self._dummy
        async with self._slots:
            ok = await asyncio.get_running_loop().run_in_executor(self._executor, self._check, target, password)
        return ok and stored_hash is not None

    def _check(self, stored_hash: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

"""The export archive: a zip file written by one thread of its own, a batch at a time.

The event loop reads rows from PostgreSQL cursors and bytes from storage, and hands each
batch to the archive's thread, which encodes JSON lines, deflates and writes; at most one
batch is in flight while the next is read. So memory holds a batch or two, however large
the account, and neither compression nor disk writes run on the event loop. The zip goes
to a scratch file that the caller then hands to storage (`Storage.put_file`).

Entry names are plain relative paths: no leading slash, no `..`, no backslash, nothing
outside printable ASCII.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import zipfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any, Protocol

import msgspec

BATCH_ROWS = 500
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._ ()+,=@-]*(/[A-Za-z0-9_][A-Za-z0-9._ ()+,=@-]*)*$")
_UNSAFE = re.compile(r"[^A-Za-z0-9._ ()+,=@-]+")


class Reader(Protocol):
    """What the archive needs of storage (`veza.services.storage.Storage`); `size` raises a
    LookupError (StoredObjectMissing) for a key it has lost."""

    async def size(self, key: str) -> int: ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]: ...


def _enc_hook(value: Any) -> Any:
    if isinstance(value, Mapping) or hasattr(value, "items"):  # asyncpg Records
        return dict(value.items())
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise NotImplementedError(f"cannot export {type(value).__name__}")


def check_name(name: str) -> str:
    if len(name) > 255 or not _NAME.match(name) or ".." in name.split("/"):
        raise ValueError(f"not a plain relative archive path: {name!r}")
    return name


def safe_name(name: str, fallback: str = "file") -> str:
    """A user's file name as one plain path segment (kept readable, never a path)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")[:120].rstrip(" .")
    if not cleaned:
        return fallback
    return cleaned if cleaned[0].isalnum() or cleaned[0] == "_" else "_" + cleaned


class ZipArchive:
    """`await open()`, then `rows` / `document` / `file`, then `await close()` (or `abort()`)."""

    def __init__(self, path: Path, storage: Reader) -> None:
        self.path = path
        self._storage = storage
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="export-zip")
        self._zip: zipfile.ZipFile | None = None
        self._entry: IO[bytes] | None = None
        self._pending: asyncio.Future[Any] | None = None
        self._names: set[str] = set()
        self._closed = False
        self._encoder = msgspec.json.Encoder(enc_hook=_enc_hook)
        self.entries: list[dict[str, Any]] = []  # what the manifest lists
        self.missing: list[str] = []

    # ---- the loop side ---------------------------------------------------------------------------
    async def _submit(self, fn: Callable[..., Any], *args: Any) -> None:
        """Queue `fn` on the archive's thread after waiting for the one before it."""
        await self._drain()
        self._pending = asyncio.wrap_future(self._executor.submit(fn, *args))

    async def _drain(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            await pending

    async def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._submit(self._open)

    def _claim(self, name: str) -> str:
        check_name(name)
        if name in self._names:
            raise ValueError(f"archive entry {name!r} written twice")
        self._names.add(name)
        return name

    async def rows(self, name: str, rows: AsyncIterable[Mapping[str, Any]]) -> int:
        await self._submit(self._begin, self._claim(name), zipfile.ZIP_DEFLATED)
        count, batch = 0, []
        async for row in rows:
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                count += len(batch)
                await self._submit(self._write_rows, batch)
                batch = []
        if batch:
            count += len(batch)
            await self._submit(self._write_rows, batch)
        await self._submit(self._end)
        self.entries.append({"path": name, "type": "jsonl", "count": count})
        return count

    async def document(self, name: str, value: Mapping[str, Any]) -> None:
        await self._submit(self._begin, self._claim(name), zipfile.ZIP_DEFLATED)
        await self._submit(self._write_document, value)
        await self._submit(self._end)
        self.entries.append({"path": name, "type": "json", "count": 1})

    async def file(self, name: str, storage_key: str) -> bool:
        self._claim(name)
        try:
            size = await self._storage.size(storage_key)
        except LookupError:  # StoredObjectMissing: storage lost it
            self.missing.append(name)
            return False
        # Audio, images and archives are compressed already: stored, not deflated again.
        await self._submit(self._begin, name, zipfile.ZIP_STORED)
        if size > 0:
            async for chunk in self._storage.read(storage_key, 0, size - 1):
                await self._submit(self._write, chunk)
        await self._submit(self._end)
        self.entries.append({"path": name, "type": "file", "bytes": size})
        return True

    async def close(self) -> int:
        """Finish the zip (its central directory); the file's size."""
        await self._submit(self._close)
        await self._drain()
        self._closed = True
        self._executor.shutdown(wait=False)
        return self.path.stat().st_size

    async def abort(self) -> None:
        """Give up: close whatever is open and delete the scratch file."""
        if self._closed:
            self.path.unlink(missing_ok=True)
            return
        try:
            await self._drain()
        except Exception:  # noqa: BLE001 - the failure being handled is the caller's
            pass
        await asyncio.get_running_loop().run_in_executor(self._executor, self._discard)
        self._executor.shutdown(wait=False)

    # ---- the thread side -------------------------------------------------------------------------
    def _open(self) -> None:
        self._zip = zipfile.ZipFile(self.path, "w", allowZip64=True)

    def _begin(self, name: str, compression: int) -> None:
        assert self._zip is not None and self._entry is None
        info = zipfile.ZipInfo(name, date_time=dt.datetime.now(dt.UTC).timetuple()[:6])
        info.compress_type = compression
        info.external_attr = 0o644 << 16
        self._entry = self._zip.open(info, "w", force_zip64=True)

    def _write(self, data: bytes) -> None:
        assert self._entry is not None
        self._entry.write(data)

    def _write_rows(self, rows: list[Mapping[str, Any]]) -> None:
        self._write(self._encoder.encode_lines(rows))

    def _write_document(self, value: Mapping[str, Any]) -> None:
        self._write(msgspec.json.format(self._encoder.encode(value), indent=2) + b"\n")

    def _end(self) -> None:
        assert self._entry is not None
        self._entry.close()
        self._entry = None

    def _close(self) -> None:
        assert self._zip is not None and self._entry is None
        self._zip.close()
        self._zip = None

    def _discard(self) -> None:
        try:
            if self._entry is not None:
                self._entry.close()
            if self._zip is not None:
                self._zip.close()
        except Exception:  # noqa: BLE001 - a broken zip is deleted below anyway
            pass
        finally:
            self._entry = self._zip = None
            self.path.unlink(missing_ok=True)


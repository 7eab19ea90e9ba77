"""File storage behind one interface: local disk by default, S3 when a bucket is configured.

Uploads are first streamed to a local temporary file (the audio probe needs a seekable
file anyway); `put_file` then moves it into storage. Reads are ranged async iterators so
`GET /tracks/:id/stream` serves byte ranges from either backend the same way.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from veza import keys
from veza.config import Settings
from veza.health import CheckResult

CHUNK = 256 * 1024
_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,255}$")


class StoredObjectMissing(LookupError):
    """The key names no stored object."""


def check_key(key: str) -> str:
    if not _SAFE_KEY.match(key) or ".." in key:
        raise ValueError(f"unsafe storage key {key!r}")
    return key


class Storage(Protocol):
    name: str

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        """Move (local) or upload (S3) `source` to `key`; the source is consumed."""

    async def size(self, key: str) -> int: ...

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end inclusive."""

    async def delete(self, key: str) -> None: ...

    async def check(self) -> CheckResult: ...

    async def presigned_url(self, key: str, ttl: int, filename: str, content_type: str) -> str | None:
        """A URL that serves the object without us for `ttl` seconds; None when the backend
        has none (local disk: the caller signs a link to its own route instead)."""


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        return self.root / check_key(key)

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        target = self.path(key)
        await asyncio.to_thread(_move, source, target)

    async def size(self, key: str) -> int:
        try:
            return (await asyncio.to_thread(os.stat, self.path(key))).st_size
        except FileNotFoundError:
            raise StoredObjectMissing(key) from None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        try:
            handle = await asyncio.to_thread(open, self.path(key), "rb")
        except FileNotFoundError:
            raise StoredObjectMissing(key) from None
        try:
            await asyncio.to_thread(handle.seek, start)
            remaining = end - start + 1
            while remaining > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        try:
            await asyncio.to_thread(os.unlink, self.path(key))
        except FileNotFoundError:
            pass

    async def presigned_url(self, key: str, ttl: int, filename: str, content_type: str) -> str | None:
        return None

    async def check(self) -> CheckResult:
        ok = await asyncio.to_thread(os.access, self.root, os.W_OK)
        return CheckResult("ok" if ok else "error", error=None if ok else "storage directory not writable")


def _move(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)


class S3Storage:
    name = "s3"

    def __init__(self, settings: Settings) -> None:
        import aioboto3

        self.bucket = settings.s3_bucket
        self._session = aioboto3.Session(
            aws_access_key_id=settings.s3_access_key_id, aws_secret_access_key=settings.s3_secret_access_key,
            region_name=settings.s3_region,
        )
        self._client_options: dict[str, Any] = {"endpoint_url": settings.s3_endpoint_url}
        self._stack: Any = None
        self._client: Any = None

    async def open(self) -> None:
        from contextlib import AsyncExitStack

        self._stack = AsyncExitStack()
        self._client = await self._stack.enter_async_context(self._session.client("s3", **self._client_options))

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()

    async def presigned_url(self, key: str, ttl: int, filename: str, content_type: str) -> str | None:
        # Signing is local computation (no request to S3); the response headers make the
        # browser save the file under its name, with our type and no sniffing.
        return await self._client.generate_presigned_url("get_object", ExpiresIn=ttl, Params={
            "Bucket": self.bucket, "Key": check_key(key), "ResponseContentType": content_type,
            "ResponseContentDisposition": filename})

    async def put_file(self, key: str, source: Path, content_type: str) -> None:
        try:
            await self._client.upload_file(str(source), self.bucket, check_key(key),
                                           ExtraArgs={"ContentType": content_type})
        finally:
            source.unlink(missing_ok=True)

    async def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            head = await self._client.head_object(Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                raise StoredObjectMissing(key) from None
            raise
        return int(head["ContentLength"])

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        obj = await self._client.get_object(Bucket=self.bucket, Key=check_key(key), Range=f"bytes={start}-{end}")
        body = obj["Body"]
        try:
            async for chunk in body.iter_chunks(CHUNK):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self.bucket, Key=check_key(key))

    async def check(self) -> CheckResult:
        try:
            await self._client.head_bucket(Bucket=self.bucket)
        except Exception as exc:  # noqa: BLE001 - any failure is a degraded check, not a crash
            return CheckResult("error", error=type(exc).__name__)
        return CheckResult("ok", details={"bucket": self.bucket})


async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
    """The app's storage as a cleanup_ctx resource; S3 when S3_BUCKET is set."""
    settings = app[keys.settings]
    storage: LocalStorage | S3Storage
    if settings.s3_bucket:
        storage = S3Storage(settings)
        await storage.open()
    else:
        storage = LocalStorage(settings.data_dir / "files")
    app[keys.storage] = storage
    app[keys.health_checks].add("storage", storage.check, critical=False)
    app[keys.config_summary_extra]["storage_backend"] = storage.name
    try:
        yield
    finally:
        if isinstance(storage, S3Storage):
            await storage.close()

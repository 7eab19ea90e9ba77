"""The export archive: plain relative entry names, JSON lines in batches, stored files
copied through, missing ones listed, nothing left behind on abort."""

from __future__ import annotations

import datetime as dt
import json
import uuid
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from veza.domain.export_archive import BATCH_ROWS, ZipArchive, check_name, safe_name
from veza.services.storage import LocalStorage


@pytest.mark.parametrize("name", ["profile.json", "tracks.jsonl", "files/tracks/0f.mp3",
                                  "files/cloud/1/my notes (v2).txt", "_x/y"])
def test_plain_relative_names_are_accepted(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("name", ["", "/etc/passwd", "../up", "files/../../up", "files//x", "a\\b", ".hidden",
                                  "files/.", "café.txt", "tab\there", "x" * 256, "files/"])
def test_anything_else_is_refused(name: str) -> None:
    with pytest.raises(ValueError):
        check_name(name)


@pytest.mark.parametrize(("raw", "safe"), [
    ("notes.txt", "notes.txt"), ("../../etc passwd", "_.._etc passwd"), ("café.txt", "caf_.txt"),
    ("...", "file"), ("", "file"), ("-rf.sh", "_-rf.sh"), ("a/b\\c", "a_b_c"), (" spaced .", "spaced"),
])
def test_user_file_names_become_one_plain_segment(raw: str, safe: str) -> None:
    assert safe_name(raw) == safe
    check_name(f"files/x/{safe_name(raw)}")


async def _rows(n: int) -> AsyncIterator[dict[str, Any]]:
    for i in range(n):
        yield {"i": i, "id": uuid.UUID(int=i), "at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "tags": ["a"]}


async def test_rows_documents_and_files_make_a_valid_zip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "store")
    source = tmp_path / "src.bin"
    source.write_bytes(b"\x00\x01" * 300_000)
    await storage.put_file("files/a.bin", source, "application/octet-stream")
    archive = ZipArchive(tmp_path / "out" / "x.zip", storage)
    await archive.open()
    assert await archive.rows("many.jsonl", _rows(2 * BATCH_ROWS + 7)) == 2 * BATCH_ROWS + 7
    assert await archive.rows("none.jsonl", _rows(0)) == 0
    await archive.document("profile.json", {"id": uuid.UUID(int=1), "name": "me"})
    assert await archive.file("files/copy.bin", "files/a.bin") is True
    assert await archive.file("files/lost.bin", "files/gone.bin") is False
    with pytest.raises(ValueError):
        await archive.rows("many.jsonl", _rows(1))  # each name once
    size = await archive.close()
    assert size == (tmp_path / "out" / "x.zip").stat().st_size
    with zipfile.ZipFile(tmp_path / "out" / "x.zip") as z:
        assert z.testzip() is None
        lines = z.read("many.jsonl").decode().splitlines()
        assert len(lines) == 2 * BATCH_ROWS + 7 and json.loads(lines[-1])["i"] == 2 * BATCH_ROWS + 6
        assert json.loads(lines[0]) == {"i": 0, "id": str(uuid.UUID(int=0)), "at": "2026-01-01T00:00:00Z",
                                        "tags": ["a"]}
        assert z.read("none.jsonl") == b""
        assert json.loads(z.read("profile.json"))["name"] == "me"
        assert z.read("files/copy.bin") == b"\x00\x01" * 300_000
        assert z.getinfo("files/copy.bin").compress_type == zipfile.ZIP_STORED
        assert "files/lost.bin" not in z.namelist()
    assert archive.missing == ["files/lost.bin"]
    assert [e["path"] for e in archive.entries] == ["many.jsonl", "none.jsonl", "profile.json", "files/copy.bin"]


async def test_an_aborted_archive_leaves_no_file(tmp_path: Path) -> None:
    archive = ZipArchive(tmp_path / "x.zip", LocalStorage(tmp_path / "store"))
    await archive.open()

    async def broken() -> AsyncIterator[dict[str, Any]]:
        yield {"i": 1}
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        await archive.rows("half.jsonl", broken())
    await archive.abort()
    assert not (tmp_path / "x.zip").exists()

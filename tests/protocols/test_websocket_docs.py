"""docs/websocket.md stays consistent with protocols/frames.py."""

from __future__ import annotations

import re
from pathlib import Path

from protocols import frames

DOC = (Path(__file__).resolve().parents[2] / "docs" / "websocket.md").read_text()


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out += [sub, *_subclasses(sub)]
    return out


def test_every_client_frame_has_a_row() -> None:
    rows = set(re.findall(r"^\| `([a-z_]+)` \|", DOC, flags=re.M))
    assert set(frames.CLIENT_FRAMES) <= rows


def test_every_server_event_is_documented() -> None:
    tags = {cls.__struct_config__.tag for cls in _subclasses(frames.Event)} | {"error"}
    missing = [tag for tag in tags if f"`{tag}" not in DOC]
    assert not missing


def test_limits_in_the_doc_match_the_constants() -> None:
    assert f"{frames.MAX_FRAME_BYTES // 1024} KiB" in DOC
    assert f"1–{frames.MAX_CONTENT_CHARS} chars" in DOC
    assert f"1–{frames.HISTORY_MAX_LIMIT}, default {frames.HISTORY_DEFAULT_LIMIT}" in DOC
    assert f"at most {frames.REPLAY_LIMIT} messages" in DOC
    assert f"newest {frames.JOIN_RECENT}" in DOC
    assert f"at most {frames.PRESENCE_CAP} present users" in DOC
    assert f"at most its first {frames.REACTION_USERS_CAP} users" in DOC
    for code in (frames.CLOSE_GOING_AWAY, frames.CLOSE_TOO_LARGE, frames.CLOSE_UNAUTHORIZED,
                 frames.CLOSE_POLICY, frames.CLOSE_TOO_SLOW):
        assert f"**{code}**" in DOC

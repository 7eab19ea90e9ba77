"""Broker channels and frames of the platform controls (pure wire format, no I/O).

- `ANNOUNCEMENTS_CHANNEL`: an `announcement` WebSocket frame, pre-encoded, for the
  gateway to relay as-is to every connected socket (on every node).
- The control channel (flags, maintenance) carries `veza.controls.state` changes.
"""

from __future__ import annotations

import json
from typing import Any

ANNOUNCEMENTS_CHANNEL = "platform.announcements"


def announcement_frame(announcement: dict[str, Any]) -> bytes:
    """The `announcement` event exactly as a socket receives it."""
    return json.dumps({"type": "announcement", "announcement": announcement}, separators=(",", ":")).encode()

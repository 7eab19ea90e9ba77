"""Platform controls an admin sets: what a feature flag's name is, what a maintenance
message may be (persisting and spreading them is `veza.controls.control_plane`'s job).

- A flag name is 1-64 of a-z, 0-9, '_', '.', '-', starting with a letter or digit.
- A maintenance message, when given, is not blank (none: the default message).
"""

from __future__ import annotations

import re

from veza.domain.errors import Invalid

FLAG_NAME = re.compile(r"[a-z0-9][a-z0-9_.\-]{0,63}")  # fullmatch: `$` would let a trailing newline in


def check_flag_name(name: str) -> None:
    if not FLAG_NAME.fullmatch(name):
        raise Invalid("Invalid flag name", details={"name": "1-64 of a-z, 0-9, '_', '.', '-', starting alphanumeric"})


def check_maintenance_message(message: str | None) -> None:
    if message is not None and not message.strip():
        raise Invalid("Invalid message: must not be blank", details={"message": "must not be blank"})

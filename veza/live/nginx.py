"""Render `deploy/nginx-rtmp.conf` for a given set of ports, paths and hook URL.

Only the documented `${NAME}` placeholders are replaced (like `envsubst` with a variable
list), so nginx's own `$variables` pass through untouched. A placeholder left unfilled is
an error, not a broken config discovered when nginx starts.
"""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx-rtmp.conf"
PLACEHOLDERS = ("NGINX_PREFIX", "RTMP_LISTEN", "RTMP_PORT", "HTTP_LISTEN", "HLS_DIR", "VEZA_HOOK_URL", "LIVE_HOOK_SECRET",
                "UPDATE_INTERVAL")


def render(values: dict[str, object], template: str | None = None) -> str:
    text = TEMPLATE.read_text() if template is None else template
    missing = [name for name in PLACEHOLDERS if name not in values]
    if missing:
        raise KeyError(f"nginx-rtmp template needs: {', '.join(missing)}")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return str(values[name]) if name in PLACEHOLDERS else match.group(0)

    # Comments mention the placeholders too; filling them there is harmless.
    return re.sub(r"\$\{([A-Z_]+)\}", fill, text)

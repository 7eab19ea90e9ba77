"""schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=tests.fuzz.hooks by tests.fuzz.run):
WHIP/WHEP take SDP offers (`application/sdp`), a text format schemathesis has no serializer
for; send the generated value as text so those operations are fuzzed too."""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.serializer("application/sdp")
def sdp(ctx: Any, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf-8", "surrogatepass")}

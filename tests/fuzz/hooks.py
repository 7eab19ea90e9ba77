"""schemathesis hooks (loaded with SCHEMATHESIS_HOOKS=tests.fuzz.hooks by tests.fuzz.run).

- WHIP/WHEP take SDP offers (`application/sdp`), a text format schemathesis has no serializer
  for; the generated value is sent as text so those operations are fuzzed too.
- `filter_failure` drops the findings that are schemathesis being wrong, each for a stated
  reason and only where that reason holds (the operation, the check, and the fields the
  server's 400 names): every other finding fails the run.
"""

from __future__ import annotations

import atexit
import collections
import json
import re
import sys
from typing import Any

import schemathesis

POSITIVE = "ST202"  # positive_data_acceptance: a schema-valid request was answered 4xx
NO_AUTH = "ST401"  # ignored_auth: the request without credentials was not answered 401/403


@schemathesis.serializer("application/sdp")
def sdp(ctx: Any, value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"data": value}
    return {"data": str(value).encode("utf-8", "surrogatepass")}


# JSON Schema counts 5.0 as an integer (2020-12, section 6.1.1) and schemathesis sends such
# values; the API reads integers as JSON integers only (msgspec, strict), as the reference
# says, and no keyword can state "written without a fraction".
_INTEGRAL_FLOAT = re.compile(r"^Expected `int( \| null)?`, got `float`$")
# The edge refuses U+0000 in every string of a request, known field or not (PostgreSQL text
# cannot hold it). Declared fields say so in their schemas; an object's undeclared properties
# (which the server ignores) can hold any JSON, and no schema keyword reaches inside them.
_NUL = "must not contain NUL characters"
# `format` (date, date-time) is an annotation in JSON Schema 2020-12 unless a validator opts
# into format assertion; schemathesis's coverage phase then takes "" for a date-time. The
# document names the format; the server holds clients to it.
_FORMAT = {"Invalid RFC3339 encoded datetime", "not a YYYY-MM-DD date"}
_SDP = "an SDP offer is a grammar (RFC 8866) that aiortc checks; a schema states only its first line"
_TAGS = "a tag's rule is Python's Unicode \\w after lower-casing; ECMA's \\w is ASCII"
_SNIFFED = "the bytes decide the type (audio, or an accepted document): no schema states what bytes are"

# Rules no JSON Schema can state, by operation: what a 400 may name in `details` for the
# finding to be schemathesis's. "cursor": a schema-valid cursor is not one the server issued
# (cursors are opaque: base64 of a position the server wrote and checks).
_UNSTATABLE: dict[str, dict[str, str]] = {
    "POST /api/v1/marketplace/orders": {
        "items": "lines of one product are merged (their quantities add up to at most 100) and share one currency: "
                 "rules across items and the products they name"},
    "POST /api/v1/developer/api-keys": {"api_keys": "at most N keys per user: the account's state, not the body"},
    "POST /api/v1/live/streams/{id}/whep": {"body": _SDP},
    "POST /api/v1/live/whip": {"body": _SDP},
    "POST /api/v1/tracks": {"title": "required only when the file part has no file name", "file": _SNIFFED,
                            "allowed_types": _SNIFFED, "tags": _TAGS},
    "POST /api/v1/admin/announcements": {"ends_at": "after starts_at (by default now): a rule across fields and the "
                                                    "clock"},
    "POST /api/v1/cloud/files": {"name": "required only when the file part has no file name"},
    "POST /api/v1/inventory/gear/{id}/documents": {"file": _SNIFFED, "accepted_types": _SNIFFED},
    "GET /api/v1/tracks": {
        "cursor": "opaque cursors; and cursor with page is refused (parameters cannot exclude each other)",
        "page": "(page - 1) * limit is bounded: a rule across two parameters",
    },
    "GET /api/v1/social/feed": {"cursor": "opaque cursors (a personalized feed's only in one)"},
    "GET /api/v1/social/posts/{id}/comments": {"cursor": "opaque cursors"},
    "GET /api/v1/cloud/files": {"cursor": "opaque cursors"},
    "GET /api/v1/conversations/{id}/history": {"cursor": "opaque cursors"},
    "POST /api/v1/users/{id}/follow": {"id": "nobody follows themselves: the path names the caller"},
    "POST /api/v1/reports": {"content_id": "the reported content must exist, of the type named beside it"},
    "PUT /api/v1/live/streams/{id}/products": {"product_ids": "only the streamer's own active products"},
    "POST /api/v1/marketplace/products": {"track_id": "names an existing track of the seller's"},
    "PUT /api/v1/marketplace/products/{id}": {"track_id": "names an existing track of the seller's"},
    "POST /api/v1/conversations": {
        "members": "members are existing users; a direct conversation has exactly one other",
        "user_id": "a direct conversation's other user exists and is not the caller",
    },
    "POST /api/v1/social/posts": {"tags": _TAGS},
    "PUT /api/v1/tracks/{id}": {"tags": _TAGS},
}


def _details(response: Any) -> dict[str, Any] | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    details = body.get("details")
    return details if isinstance(details, dict) else {}


def _why_schemathesis_is_wrong(code: str, case: Any, response: Any) -> str | None:
    """The reason a finding is not the document's, or None: then it fails the run."""
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    details = _details(response)
    if details is None or code != POSITIVE:
        return None
    if operation == "GET /api/v1/ws" and response.status_code == 400:
        return "WebSocket handshake"  # OpenAPI cannot describe one; schemathesis cannot send one
    if response.status_code not in (400, 415) or not details:
        return None
    reasons = [str(v) for v in details.values()]
    for label, matches in (("integral float", lambda r: _INTEGRAL_FLOAT.match(r)), ("NUL", lambda r: r == _NUL),
                           ("format annotation", lambda r: r in _FORMAT)):
        if all(matches(r) or r == _NUL for r in reasons):
            return label
    if set(details) <= set(_UNSTATABLE.get(operation, {})):
        return f"{operation}: {', '.join(sorted(details))}"
    return None


def _closed_by_the_run(failure: Any) -> bool:
    """The admin run switches features off and maintenance on (PUT /admin/feature-flags/{name},
    PUT /admin/maintenance), and admins pass: the probe without credentials then meets the
    503 a closed feature answers before authentication, as the document says for every
    operation it closes. The 503 is the fuzzer's own doing (the probe's body is not kept:
    its status is in the message)."""
    return failure.code == NO_AUTH and "got `503 " in failure.message


@schemathesis.hook
def filter_failure(ctx: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep a finding unless it is one of the cases above."""
    why = "the run's own 503" if _closed_by_the_run(failure) else _why_schemathesis_is_wrong(failure.code, case,
                                                                                               response)
    if why is not None:
        DROPPED[why] += 1
    return why is None


# What was dropped and why, printed when schemathesis ends (the run's figures).
DROPPED: collections.Counter[str] = collections.Counter()


@atexit.register
def _report() -> None:
    if DROPPED:
        lines = "".join(f"  {count:5d}  {why}\n" for why, count in DROPPED.most_common())
        sys.stderr.write(f"filter_failure dropped {sum(DROPPED.values())}:\n{lines}")

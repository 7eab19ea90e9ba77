"""The feature flags the server knows and the routes each one closes.

A known flag is on until an admin turns it off (`PUT /admin/feature-flags/{name}`); off,
its routes answer 503 `feature_disabled` to everyone but admins. Which routes a flag
closes is decided from the method and path template once, at registration (the route's
`RoutePolicy.feature`), so routes that land later under a gated prefix are covered
without a change here; the per-request cost is a dict lookup in this node's in-memory
`PlatformState`, which the control plane keeps in step on every node.

- `registrations`: new accounts (`POST /auth/register`).
- `uploads`: every route that takes a multipart file upload (track uploads today).
- `marketplace`: everything under `/marketplace` and `/sell`. Payment webhooks
  (`/webhooks/*`) are never closed: a paid order must still be recorded.
- `live`: everything under `/live`, except what ends a stream (DELETE of a WHIP/WHEP
  session, the media servers' publish_done/unpublish hooks), so that streams live when
  the flag goes off still end cleanly. Heartbeats are refused: RTMP streams then end at
  the ingest timeout.
- `chat`: conversations (`/conversations`: rooms, their history and REST sends). Not the
  socket token (`/chat/token`): the one socket also carries notifications and live
  viewing, which must keep working; chat frames on the socket are not closed by it.
"""

from __future__ import annotations

import dataclasses

API = "/api/v1"


@dataclasses.dataclass(frozen=True, slots=True)
class Feature:
    name: str
    description: str
    prefixes: tuple[str, ...] = ()  # path templates at or under these (after the API prefix)
    routes: tuple[tuple[str, str], ...] = ()  # exact (method, path) pairs
    uploads: bool = False  # multipart upload routes


REGISTRATIONS = Feature("registrations", "New accounts can be created (POST /auth/register)",
                        routes=(("POST", "/auth/register"),))
UPLOADS = Feature("uploads", "File uploads (track uploads and every other multipart upload route)", uploads=True)
MARKETPLACE = Feature("marketplace", "The marketplace: browsing, orders and selling (/marketplace, /sell)",
                      prefixes=("/marketplace", "/sell"))
LIVE = Feature("live", "Live streaming: streams, stream keys, ingest hooks, WHIP/WHEP (/live)", prefixes=("/live",))
CHAT = Feature("chat", "Chat: conversations and their messages over REST (/conversations)",
               prefixes=("/conversations",))

KNOWN: dict[str, Feature] = {f.name: f for f in (REGISTRATIONS, UPLOADS, MARKETPLACE, LIVE, CHAT)}
NEVER_GATED = ("/webhooks",)
# What ends a live stream stays open (see the module doc).
_LIVE_ENDINGS = ("/live/hooks/rtmp/publish_done", "/live/hooks/mediamtx/unpublish")


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def feature_of(method: str, path: str, *, upload: bool = False) -> str | None:
    """The flag that closes `method path` (a template or an actual path), if any."""
    if path.startswith(API + "/"):
        path = path[len(API):]
    if any(_under(path, p) for p in NEVER_GATED):
        return None
    if upload:
        return UPLOADS.name
    for feature in KNOWN.values():
        if (method, path) in feature.routes or any(_under(path, p) for p in feature.prefixes):
            if feature is LIVE and (method == "DELETE" or path in _LIVE_ENDINGS):
                return None
            return feature.name
    return None

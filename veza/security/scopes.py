"""What an API key's scopes let it call (DEV1); a user's own token may call everything.

- Levels: `read` lets a key call the routes that only read (GET, HEAD); `write` every
  route of its areas, reads included.
- Areas: `tracks`, `chat`, `live`, `marketplace`. A key that names any area is held to
  the routes of those areas; a key that names none may use every area but admin.
- `admin` is the admin routes' area, and enough on its own for them (they also need the
  admin role): an admin's automation key need not also carry a level.
- An area only narrows a level, it grants nothing by itself: a key naming an area must
  also name `read` or `write` (`missing_level` says so; POST /developer/api-keys refuses
  such a key with a 400 instead of minting one that every route would refuse).

A route's `Access` is worked out once, when it is registered, from its method, its
router's tag and an area it names itself (`scope="admin"` on the admin routes).
"""

from __future__ import annotations

import dataclasses

from veza.domain.errors import Forbidden

LEVELS = ("read", "write")
AREAS = ("tracks", "chat", "live", "marketplace")
ADMIN = "admin"
SCOPES = LEVELS + AREAS + (ADMIN,)

# Routers whose routes belong to an area (by their OpenAPI tag).
_AREA_OF_TAG = {
    "tracks": "tracks", "uploads": "tracks",
    "chat": "chat", "conversations": "chat",
    "live": "live", "live-webrtc": "live",
    "marketplace": "marketplace",
}
_READS = frozenset({"GET", "HEAD"})

# For the OpenAPI document's X-API-Key scheme.
DESCRIPTION = ("`veza_sk_...` from POST /developer/api-keys. Scopes: `read` (GET routes) or `write` "
               "(every method); areas `tracks`, `chat`, `live`, `marketplace` hold a key to those areas "
               "(none named: every area but admin) and need `read` or `write` beside them; `admin` for the "
               "admin routes, enough on its own. `GET /chat/token` and `GET /live/streams/me/key` need "
               "`write`. Keys cannot manage keys.")


def missing_level(scopes: frozenset[str] | set[str]) -> bool:
    """True for scopes that name an area but no level: such a key could call nothing."""
    return any(area in scopes for area in AREAS) and not any(level in scopes for level in LEVELS)


@dataclasses.dataclass(frozen=True, slots=True)
class Access:
    """What one route asks of an API key."""

    level: str
    area: str | None

    @classmethod
    def of(cls, method: str, tag: str, area: str | None = None) -> Access:
        if area is not None and area not in AREAS + (ADMIN,):
            raise ValueError(f"unknown area {area!r}")
        return cls("read" if method in _READS else "write", area or _AREA_OF_TAG.get(tag))

    def check(self, scopes: frozenset[str]) -> None:
        """Raise 403 unless a key with `scopes` may call the route."""
        if self.area == ADMIN:
            if ADMIN not in scopes:
                raise Forbidden("API key lacks the scope 'admin'", details={"required": ADMIN})
            return
        if self.level not in scopes and "write" not in scopes:
            raise Forbidden(f"API key lacks the scope {self.level!r}", details={"required": self.level})
        held = [area for area in AREAS if area in scopes]
        if held and self.area not in held:
            raise Forbidden("API key is limited to other areas",
                            details={"required": self.area or "a key without area scopes", "areas": ", ".join(held)})

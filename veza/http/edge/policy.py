"""What the edge does for one route, decided once when the route is registered.

Which paths are rate limited, audited, closed during maintenance or behind a feature flag
depends only on the method and the path (and, for uploads, the route's declared body), so a route's answers are worked out from its path template at
start-up rather than by prefix matching on every request. Requests no route matched
(404/405, CORS preflights) get theirs from the actual path.
"""

from __future__ import annotations

from typing import NamedTuple

from veza.controls.audit import audited
from veza.controls.features import feature_of
from veza.http.edge import maintenance, rate_limit

UNMATCHED = "unmatched"


class RoutePolicy(NamedTuple):
    method: str
    label: str  # the metrics label: the path template (bounded cardinality), or "unmatched"
    limited: bool  # counted by the DDoS rate limiter
    audited: bool  # recorded in the audit trail
    closable: bool  # refused to non-admins during maintenance
    feature: str | None = None  # the flag that closes it when off (`veza.controls.features`)

    @classmethod
    def of(cls, method: str, path: str, label: str | None = None, *, upload: bool = False) -> RoutePolicy:
        """`path` is a route's template (`/api/v1/tracks/{id}`) or a request's actual path;
        `upload`: the route takes a multipart file upload."""
        return cls(method, label or path, not rate_limit.is_exempt(path), audited(method, path),
                   maintenance.applies_to(path), feature_of(method, path, upload=upload))

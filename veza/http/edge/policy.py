"""What the edge does for one route, decided once when the route is registered.

Which paths are rate limited, audited or closed during maintenance depends only on the
method and the path, so a route's answers are worked out from its path template at
start-up rather than by prefix matching on every request. Requests no route matched
(404/405, CORS preflights) get theirs from the actual path.
"""

from __future__ import annotations

from typing import NamedTuple

from veza.controls.audit import audited
from veza.http.edge import maintenance, rate_limit

UNMATCHED = "unmatched"


class RoutePolicy(NamedTuple):
    method: str
    label: str  # the metrics label: the path template (bounded cardinality), or "unmatched"
    limited: bool  # counted by the DDoS rate limiter
    audited: bool  # recorded in the audit trail
    closable: bool  # refused to non-admins during maintenance

    @classmethod
    def of(cls, method: str, path: str, label: str | None = None) -> RoutePolicy:
        """`path` is a route's template (`/api/v1/tracks/{id}`) or a request's actual path."""
        return cls(method, label or path, not rate_limit.is_exempt(path), audited(method, path),
                   maintenance.applies_to(path))

"""Who is calling: the Principal of a request, resolved once by the app's authenticators.

Authenticators are tried in order (`app[keys.authenticators]`); each looks at its own
header and returns a Principal, None when its header is absent, or raises Unauthorized
when its header is present but wrong. Bearer JWTs come first; API keys plug in the same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from uuid import UUID

from aiohttp import web

from veza import keys
from veza.http.errors import Forbidden, Unauthorized


@dataclasses.dataclass(frozen=True, slots=True)
class Principal:
    user_id: UUID
    role: str
    session_id: UUID | None = None
    # None means every scope (a user's own JWT); API keys carry an explicit set.
    scopes: frozenset[str] | None = None
    via: str = "jwt"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require_role(self, *roles: str) -> None:
        # Admins may do anything a narrower role may.
        if self.role not in roles and not self.is_admin:
            raise Forbidden("This action requires the role: " + " or ".join(roles))

    def require_scope(self, scope: str) -> None:
        if self.scopes is not None and scope not in self.scopes:
            raise Forbidden(f"API key lacks the scope {scope!r}")


Authenticator = Callable[[web.Request], Awaitable[Principal | None]]

_UNSET = object()


async def get_principal(request: web.Request) -> Principal | None:
    """The caller, or None when anonymous. Resolved once per request and cached."""
    cached = request.get(keys.principal, _UNSET)
    if cached is not _UNSET:
        return cached  # type: ignore[return-value]
    principal = None
    try:
        for authenticator in request.app[keys.authenticators]:
            principal = await authenticator(request)
            if principal is not None:
                break
    except Unauthorized:
        request[keys.principal] = None
        raise
    request[keys.principal] = principal
    return principal


async def require_principal(request: web.Request) -> Principal:
    principal = await get_principal(request)
    if principal is None:
        raise Unauthorized("Authentication required")
    return principal


def bearer_token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()

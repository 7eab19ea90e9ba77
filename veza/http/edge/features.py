"""A route whose feature flag is off answers 503 `feature_disabled`, admins excepted
(`veza.controls.features` says which flag closes which route; the edge calls `check` only
when the route has a flag and this node's state holds it off)."""

from __future__ import annotations

from aiohttp import web

from veza.controls.features import KNOWN
from veza.http.auth import get_principal
from veza.http.errors import ApiError, FeatureDisabled


async def check(request: web.Request, name: str) -> None:
    """Raise the 503 unless the caller is an admin."""
    try:
        principal = await get_principal(request)
    except ApiError:  # a bad token is not an admin
        principal = None
    if principal is not None and principal.is_admin:
        return
    feature = KNOWN.get(name)
    what = feature.description.split(" (")[0] if feature else name
    raise FeatureDisabled(f"This feature is turned off for now: {what}", details={"feature": name})

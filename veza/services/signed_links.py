"""Short-lived links that work without an Authorization header: a path plus `expires` and
an HMAC `signature` over both, keyed from the server's secret. What a link grants is
re-checked when it is used (a refund revokes a purchase's link at once)."""

from __future__ import annotations

import hashlib
import hmac
import time
from urllib.parse import urlencode


class SignedLinks:
    def __init__(self, secret: str) -> None:
        # A key of its own: a link signature can never double as a token or CSRF signature.
        self._key = hmac.new(secret.encode(), b"veza signed links v1", hashlib.sha256).digest()

    def _signature(self, path: str, expires: int) -> str:
        return hmac.new(self._key, f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, ttl: int) -> tuple[str, int]:
        """(path?expires=..&signature=.., expires as a Unix time)."""
        expires = int(time.time()) + ttl
        return f"{path}?{urlencode({'expires': expires, 'signature': self._signature(path, expires)})}", expires

    def valid(self, path: str, expires: str | None, signature: str | None) -> bool:
        if not expires or not signature or not expires.isdigit() or int(expires) < time.time():
            return False
        return hmac.compare_digest(signature.encode(), self._signature(path, int(expires)).encode())

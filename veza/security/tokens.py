"""JWTs: access (1 h), refresh (rotating, stored hashed), and short-lived chat tokens.

HS256 only: `alg: none` and any other algorithm are refused by the explicit allow-list.
Every token carries `typ`, so a chat or refresh token is never accepted as an access token.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import binascii

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.api_jws import PyJWS
from jwt.api_jwt import PyJWT
from jwt.utils import base64url_decode, base64url_encode

log = logging.getLogger("veza.tokens")

ISSUER = "veza"
ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is expired, forged, malformed or of the wrong type."""


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    expires_in: int
    jti: str


_BASE64URL = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "typ"]


class _KeyedHS256(HMACAlgorithm):
    """HS256 with our key prepared once: PyJWT prepares it on every decode (bytes, then a
    sniff for PEM and SSH key shapes), a tenth of a decode. Any other key is prepared as usual."""

    def __init__(self, secret: str) -> None:
        super().__init__(HMACAlgorithm.SHA256)
        self._secret = secret
        self._prepared = super().prepare_key(secret)

    def prepare_key(self, key: str | bytes) -> bytes:  # type: ignore[override]
        return self._prepared if key is self._secret else super().prepare_key(key)


class _JWS(PyJWS):
    """PyJWS with its segment check done in C: the same rules as PyJWT 2.15's (at most two
    `=`, only where they make a length of a multiple of 4; nothing outside the base64url
    alphabet; canonical encoding), but the alphabet test is one `bytes.translate` instead of
    a Python generator over every character: that generator was half of a decode, the largest
    share of a WebSocket upgrade's own work (BENCHMARKS.md, issue 19)."""

    @staticmethod
    def _decode_base64url_segment(segment: bytes, name: str) -> bytes:
        stripped = segment.rstrip(b"=")
        padding = len(segment) - len(stripped)
        if (padding > 2 or (padding and len(segment) % 4 != 0) or len(stripped) % 4 == 1
                or stripped.translate(None, _BASE64URL)):
            raise jwt.DecodeError(f"Invalid {name} padding")
        try:
            decoded = base64url_decode(stripped)
        except (TypeError, binascii.Error) as err:
            raise jwt.DecodeError(f"Invalid {name} padding") from err
        if base64url_encode(decoded) != stripped:
            raise jwt.DecodeError(f"Invalid {name} padding")
        return decoded


def _verifier(secret: str) -> PyJWT:
    """PyJWT's decoder with its options merged once (PyJWT merges per-call options on every
    call), HS256 alone on the allow-list, and the key prepared once."""
    verifier = PyJWT(options={"require": REQUIRED_CLAIMS})
    jws = _JWS(algorithms=[])
    jws.register_algorithm(ALGORITHM, _KeyedHS256(secret))
    verifier._jws = jws
    return verifier


def hash_token(token: str) -> str:
    """Refresh tokens are stored as their SHA-256: a database leak does not leak sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def uuid_claim(claims: dict[str, Any], name: str) -> uuid.UUID:
    """A UUID claim of a verified token; anything else makes the token invalid, never a crash."""
    value = claims.get(name)
    if not isinstance(value, str):
        raise InvalidToken(f"claim {name!r} is not a UUID")
    try:
        return uuid.UUID(value)
    except ValueError:
        raise InvalidToken(f"claim {name!r} is not a UUID") from None


class TokenService:
    def __init__(self, secret: str, *, access_ttl: int, refresh_ttl: int, chat_ttl: int) -> None:
        self._secret = secret
        self._verifier = _verifier(secret)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self.chat_ttl = chat_ttl

    def _issue(self, typ: str, sub: str, ttl: int, *, at: int | None = None, jti: str | None = None,
               **claims: Any) -> IssuedToken:
        now = int(time.time())
        issued = now if at is None else at
        jti = jti or uuid.uuid4().hex
        payload = {"iss": ISSUER, "sub": sub, "typ": typ, "iat": issued, "exp": issued + ttl, "jti": jti, **claims}
        return IssuedToken(jwt.encode(payload, self._secret, algorithm=ALGORITHM), max(issued + ttl - now, 0), jti)

    def issue_access(self, user_id: uuid.UUID, role: str, session_id: uuid.UUID, *, at: int | None = None,
                     jti: str | None = None) -> IssuedToken:
        return self._issue("access", str(user_id), self.access_ttl, at=at, jti=jti, role=role, sid=str(session_id))

    def issue_refresh(self, user_id: uuid.UUID, session_id: uuid.UUID, *, at: int | None = None,
                      jti: str | None = None) -> IssuedToken:
        return self._issue("refresh", str(user_id), self.refresh_ttl, at=at, jti=jti, sid=str(session_id))

    def successor_jti(self, token: str, typ: str) -> str:
        """The `jti` of the `typ` token a rotation of `token` issues: derived with our key, so
        that the same token rotated at the same second yields the very same tokens (HS256 is
        deterministic), and no one without the key can predict it."""
        return hmac.new(self._secret.encode(), f"successor:{typ}:{token}".encode(), hashlib.sha256).hexdigest()[:32]

    def issue_chat(self, user_id: uuid.UUID, role: str, session_id: uuid.UUID | None, username: str) -> IssuedToken:
        sid = str(session_id) if session_id else None
        return self._issue("chat", str(user_id), self.chat_ttl, role=role, sid=sid, name=username)

    def decode(self, token: str, typ: str) -> dict[str, Any]:
        """The claims of a token we signed, of type `typ`, not expired, issued by us; else InvalidToken."""
        try:
            claims = self._verifier.decode(token, self._secret, algorithms=[ALGORITHM], issuer=ISSUER)
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None
        if claims.get("typ") != typ:
            raise InvalidToken(f"expected a {typ} token")
        return claims


def load_or_create_dev_secret(data_dir: Path, name: str = "jwt_secret", variable: str = "JWT_SECRET") -> str:
    """A development secret (the JWT key by default), generated once and kept in the data
    directory as `name`; `variable` is the setting that replaces it in production."""
    path = data_dir / name
    if path.exists():
        secret = path.read_text().strip()
        if secret:
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret)
    path.chmod(0o600)
    log.warning("%s is not set: generated a development secret in %s (set %s in production)", variable, path, variable)
    return secret

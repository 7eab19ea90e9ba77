"""The token verifier keeps every check PyJWT makes, with the key prepared once and the
segment check in C (veza/security/tokens.py): each refusal here is PyJWT's own rule."""

from __future__ import annotations

import base64
import json
import time
import uuid

import jwt
import pytest

from veza.security.tokens import ALGORITHM, ISSUER, InvalidToken, TokenService

SECRET = "s" * 64


@pytest.fixture()
def tokens() -> TokenService:
    return TokenService(SECRET, access_ttl=3600, refresh_ttl=3600, chat_ttl=300)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _claims(**extra: object) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "sub": str(uuid.uuid4()), "typ": "chat", "iat": now, "exp": now + 60, **extra}


def _signed(claims: dict, key: str = SECRET, algorithm: str = ALGORITHM) -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def test_a_chat_token_we_issued_decodes_with_its_claims(tokens: TokenService) -> None:
    user, session = uuid.uuid4(), uuid.uuid4()
    claims = tokens.decode(tokens.issue_chat(user, "creator", session, "ada").token, "chat")
    assert (claims["sub"], claims["sid"], claims["role"], claims["name"]) == (str(user), str(session), "creator", "ada")


def test_a_token_of_another_type_is_refused(tokens: TokenService) -> None:
    access = tokens.issue_access(uuid.uuid4(), "user", uuid.uuid4()).token
    with pytest.raises(InvalidToken):
        tokens.decode(access, "chat")
    assert tokens.decode(access, "access")["typ"] == "access"


def test_an_expired_token_is_refused(tokens: TokenService) -> None:
    old = tokens.issue_chat(uuid.uuid4(), "user", uuid.uuid4(), "ada")
    expired = tokens._issue("chat", str(uuid.uuid4()), 10, at=int(time.time()) - 60)
    tokens.decode(old.token, "chat")
    with pytest.raises(InvalidToken, match="expired"):
        tokens.decode(expired.token, "chat")


@pytest.mark.parametrize("missing", ["exp", "iat", "sub", "typ"])
def test_a_token_without_a_required_claim_is_refused(tokens: TokenService, missing: str) -> None:
    claims = _claims()
    del claims[missing]
    with pytest.raises(InvalidToken):
        tokens.decode(_signed(claims), "chat")


def test_another_issuer_is_refused(tokens: TokenService) -> None:
    with pytest.raises(InvalidToken):
        tokens.decode(_signed(_claims(iss="elsewhere")), "chat")


def test_another_key_is_refused(tokens: TokenService) -> None:
    with pytest.raises(InvalidToken, match="Signature"):
        tokens.decode(_signed(_claims(), key="k" * 64), "chat")


def test_another_key_verifies_with_its_own_preparation() -> None:
    # The prepared key serves our secret only: a service with another secret checks with its own.
    other = TokenService("o" * 64, access_ttl=60, refresh_ttl=60, chat_ttl=60)
    assert other.decode(_signed(_claims(), key="o" * 64), "chat")["iss"] == ISSUER
    with pytest.raises(InvalidToken):
        other.decode(_signed(_claims()), "chat")


@pytest.mark.parametrize("algorithm", ["HS512", "HS384"])
def test_another_algorithm_is_refused_even_with_our_key(tokens: TokenService, algorithm: str) -> None:
    with pytest.raises(InvalidToken, match="alg"):
        tokens.decode(_signed(_claims(), algorithm=algorithm), "chat")


def test_alg_none_is_refused(tokens: TokenService) -> None:
    header = _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    payload = _b64(json.dumps(_claims()).encode())
    with pytest.raises(InvalidToken):
        tokens.decode(f"{header}.{payload}.", "chat")


def test_a_changed_payload_is_refused(tokens: TokenService) -> None:
    header, _, signature = _signed(_claims()).split(".")
    forged = _b64(json.dumps(_claims(role="admin")).encode())
    with pytest.raises(InvalidToken, match="Signature"):
        tokens.decode(f"{header}.{forged}.{signature}", "chat")


@pytest.mark.parametrize("junk", ["!!!!", "a b", "ab+/", "\u00e9"])
def test_a_segment_with_characters_outside_base64url_is_refused(tokens: TokenService, junk: str) -> None:
    header, payload, signature = _signed(_claims()).split(".")
    for token in (f"{header}.{payload}{junk}.{signature}", f"{header}.{payload}.{signature}{junk}",
                  f"{junk}{header}.{payload}.{signature}"):
        with pytest.raises(InvalidToken):
            tokens.decode(token, "chat")


def test_padding_is_taken_only_where_it_is_correct(tokens: TokenService) -> None:
    header, payload, signature = _signed(_claims()).split(".")
    assert len(signature) % 4 == 3  # 32 bytes: 43 characters, one "=" would pad it
    # Issuers that pad (e.g. AWS ALB) are accepted, as by PyJWT:
    assert tokens.decode(f"{header}.{payload}.{signature}=", "chat")["typ"] == "chat"
    for bad in (f"{signature}==", f"{signature}===", f"{signature}=x", f"{signature[:-1]}="):
        with pytest.raises(InvalidToken):
            tokens.decode(f"{header}.{payload}.{bad}", "chat")


def test_a_non_canonical_encoding_is_refused(tokens: TokenService) -> None:
    header, payload, signature = _signed(_claims()).split(".")
    # The last character of 43 carries 2 unused bits: setting them decodes to the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    twin = alphabet[last ^ 1]
    with pytest.raises(InvalidToken):
        tokens.decode(f"{header}.{payload}.{signature[:-1]}{twin}", "chat")


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c.d", "...."])
def test_malformed_tokens_are_refused(tokens: TokenService, token: str) -> None:
    with pytest.raises(InvalidToken):
        tokens.decode(token, "chat")

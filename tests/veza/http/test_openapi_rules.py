"""What a route declares beyond its schemas reaches the document (errors=, success_also=,
body_optional=, content_schema=, path_schemas=), a required body is required, and the rules
the schemas state are the server's own, character for character."""

from __future__ import annotations

import random
import uuid

import jsonschema_rs
import pytest

from tests.support import ApiClient
from veza import validation
from veza.api.cloud_schemas import NAME_PATTERN
from veza.api.inventory import _ANY_CASE_CODES
from veza.domain import inventory
from veza.domain.cloud import clean_name
from veza.domain.errors import Invalid
from veza.http.routing import RouteSpec


async def _noop(request):  # type: ignore[no-untyped-def]
    raise AssertionError("never called")


async def _paths(client: ApiClient) -> dict:
    return (await client.get("/openapi.json")).body["paths"]


async def test_declared_statuses_are_documented(client: ApiClient) -> None:
    paths = await _paths(client)
    leave = paths["/api/v1/conversations/{id}/members/{user_id}"]["delete"]["responses"]
    assert leave["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    add = paths["/api/v1/conversations/{id}/members"]["post"]["responses"]
    assert add["200"] == add["201"]  # one body, two statuses
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert login["401"]["description"] == "Wrong email or password" and "403" in login and "429" in login
    assert "404" in paths["/api/v1/live/streams/me/key"]["get"]["responses"]  # ?stream_id= names nothing
    assert "403" in paths["/api/v1/live/hooks/srs"]["post"]["responses"]
    publish = paths["/api/v1/live/hooks/rtmp/publish"]["post"]["responses"]
    assert "content" not in publish["302"]  # a redirect has no envelope
    assert list(leave) == sorted(leave)


async def test_optional_and_required_bodies_are_documented(client: ApiClient) -> None:
    paths = await _paths(client)
    assert paths["/api/v1/auth/logout"]["post"]["requestBody"]["required"] is False
    assert paths["/api/v1/sessions/logout-all"]["post"]["requestBody"]["required"] is False
    for method, path in (("put", "/users/me"), ("post", "/users/me/privacy/opt-out"), ("put", "/live/streams/{id}")):
        assert paths["/api/v1" + path][method]["requestBody"]["required"] is True, path


async def test_a_missing_body_is_a_400_naming_it(client: ApiClient) -> None:
    user = await client.register()
    stream = await client.post("/live/streams", json={"title": "Night set"}, user=user)
    for method, path in (("PUT", "/users/me"), ("POST", "/users/me/privacy/opt-out"),
                         ("PUT", f"/live/streams/{stream.data['id']}")):
        for blank in (None, b"", b"  \n"):
            reply = await client.call(method, path, user=user, data=blank,
                                      headers={"Content-Type": "application/json"} if blank is not None else None)
            assert reply.status == 400, (path, blank, reply.body)
            assert reply.body["code"] == "invalid" and "body" in reply.body["details"], reply.body
    # The opt-out did not happen on its own.
    assert (await client.get("/users/me/privacy", user=user)).data["do_not_sell"] is False
    assert (await client.put("/users/me", json={}, user=user)).status == 200  # an empty change is still a body
    assert (await client.post("/auth/logout", user=user)).status == 200  # body_optional: no body at all


async def test_forms_offers_path_rules_and_media_ranges_are_documented(client: ApiClient) -> None:
    paths = await _paths(client)
    upload = paths["/api/v1/cloud/files"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["required"] == ["file"] and {"file", "folder_id", "name"} <= set(upload["properties"])
    assert "propertyNames" in upload
    whep = paths["/api/v1/live/streams/{id}/whep"]["post"]["requestBody"]["content"]["application/sdp"]["schema"]
    assert whep["pattern"] == "^v=0"
    flag = paths["/api/v1/admin/feature-flags/{name}"]["put"]["parameters"][0]["schema"]
    assert flag["pattern"].startswith("^[a-z0-9]")
    document = paths["/api/v1/inventory/gear/{id}/documents/{docId}/download"]["get"]["responses"]["200"]
    assert set(document["content"]) == set(inventory.ACCEPTED_TYPES)


@pytest.mark.parametrize("options", [
    {"errors": (200,)}, {"errors": ((302, "no"),)}, {"success_also": (200,)}, {"success_also": (404,)},
    {"body_optional": True}, {"content_schema": {"type": "string"}},
])
def test_route_declarations_are_checked(options: dict) -> None:
    with pytest.raises(ValueError):
        RouteSpec(method="POST", path="/x", handler=_noop, tag="t", summary="s", **options)


def _same_verdicts(schema: dict, accepts, samples: list[str]) -> list[str]:  # type: ignore[no-untyped-def]
    validator = jsonschema_rs.validator_for({"type": "string", **schema})
    return [s for s in samples if validator.is_valid(s) != accepts(s)]


def _samples(seed: int, alphabet: str, n: int = 3000, longest: int = 12) -> list[str]:
    rnd = random.Random(seed)
    return ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, longest))) for _ in range(n)]


def test_validation_schemas_say_what_validation_checks() -> None:
    nasty = "aZ9_.-@ !\n\t\x00\x1c\x85\u3000é٣/:."
    usernames = _samples(1, nasty) + ["abc", "ab", "a" * 30, "a" * 31, "abc\n"]
    assert _same_verdicts(validation.USERNAME_SCHEMA, lambda s: not validation.username_problems(s), usernames) == []
    emails = _samples(2, "a@b.-_+ \n\x00é") + ["a@b.co", "a@b", "a@b.co\n", "x" * 250 + "@b.co"]
    assert _same_verdicts(validation.EMAIL_SCHEMA, lambda s: not validation.email_problems(s), emails) == []
    passwords = _samples(3, "aZ9!\n é٣", longest=14) + ["SecureP@ssw0rd", "aA1!" * 32, "aA1!" * 33]
    assert _same_verdicts(validation.PASSWORD_SCHEMA, lambda s: not validation.password_problems(s), passwords) == []
    urls = ["http://" + s for s in _samples(4, "a/.?#$ \n\t\x1c\x85\u3000\ufeff")] + ["https://x", "ftp://x", ""]
    assert _same_verdicts(validation.URL_SCHEMA, lambda s: not validation.url_problems(s), urls) == []
    assert _same_verdicts(validation.URL_OR_EMPTY_SCHEMA, lambda s: s == "" or not validation.url_problems(s),
                          urls) == []


async def test_the_document_states_them_where_msgspec_bounds_differ(client: ApiClient) -> None:
    """A Meta's own max_length is written over a rule's maxLength: `documented` keeps both."""
    schemas = (await client.get("/openapi.json")).body["components"]["schemas"]
    register = schemas["RegisterIn"]["properties"]
    rules = (("username", validation.username_problems, "aZ9_.-@ \n"), ("email", validation.email_problems, "a@b.-"),
             ("password", validation.password_problems, "aZ9!\n\x00"))
    for field, problems, alphabet in rules:
        samples = _samples(6, alphabet, longest=140) + ["SecureP@ssw0rd" + "x" * 115, "a" * 31]
        assert _same_verdicts(register[field], lambda s, p=problems: not p(s) and "\x00" not in s, samples) == [], field
    profile = schemas["ProfileIn"]["properties"]["username"]["anyOf"][0]
    assert _same_verdicts(profile, lambda s: not validation.username_problems(s), ["a" * 31, "abc", "a" * 64]) == []


def test_cloud_name_pattern_is_clean_name() -> None:
    def accepted(value: str) -> bool:
        try:
            clean_name(value)
        except Invalid:
            return False
        return True

    names = _samples(5, " .a/\\\t\n\x1c\x7f\x00\x85\u3000é", longest=6) + ["x" * 255, " " + "x" * 254 + "\n"]
    assert _same_verdicts({"pattern": NAME_PATTERN}, accepted, names) == []


def test_currency_pattern_is_the_iso_list_in_any_case() -> None:
    codes = sorted(inventory.CURRENCIES)
    samples = codes + [c.lower() for c in codes] + ["Eur", "EURO", "ABC", "", uuid.uuid4().hex[:3]]

    def accepted(value: str) -> bool:
        try:
            return inventory.currency(value) is not None
        except Invalid:
            return False

    assert _same_verdicts({"pattern": f"^(?:{_ANY_CASE_CODES})$"}, accepted, samples) == []

"""Route declarations: each route states its schemas and auth once, next to its handler.

    router = ApiRouter("auth")

    @router.post("/auth/register", body=RegisterIn, response=AuthOut, status=201)
    async def register(request: web.Request, body: RegisterIn) -> web.Response: ...

The wrapper validates before the handler runs, so handlers never re-validate:
- `body`: a msgspec Struct (or `Annotated[Struct, msgspec.Meta(extra_json_schema=...)]` to
  document a rule across its fields); JSON only (415 otherwise), malformed JSON or a schema
  violation is a 400 naming the field. The handler gets `body=`. A missing or empty body
  is a 400 too, unless `body_optional=True` (then it reads as `{}`: a token in a cookie...).
- `query`: a msgspec Struct built from the query string (strings converted), handler gets `query=`.
- `auth`: "none" (default for public routes), "optional" or "required"; `roles` implies
  "required". The handler gets `principal=` unless auth is "none". A caller with an API
  key must also hold the route's scopes (`veza.security.scopes`; `scope=` names an area).
- `errors`: the statuses the route itself answers beyond those the edge and the declaration
  imply (`veza.http.openapi`): `errors=(409,)`, or `(409, "why")` for a description of its own.
  `success_also`: other success statuses, same body (`success_also=(200,)` beside 201).
The same declaration feeds the OpenAPI document (`veza.http.openapi`).
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Awaitable, Callable
from typing import Any, Literal
from uuid import UUID

import msgspec
from aiohttp import web

from veza import keys
from veza.http.auth import get_principal, require_principal
from veza.http.errors import BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType
from veza.security.scopes import Access

AuthMode = Literal["none", "optional", "required"]
Handler = Callable[..., Awaitable[web.StreamResponse]]


@dataclasses.dataclass(frozen=True, slots=True)
class RouteSpec:
    method: str
    path: str
    handler: Handler
    tag: str
    summary: str
    body: Any = None  # a Struct type, or one Annotated with documentation
    query: type | None = None
    response: Any = None
    status: int = 200
    auth: AuthMode = "none"
    roles: tuple[str, ...] = ()
    scope: str | None = None  # the API-key area of a route its tag does not place ("admin")
    # Non-JSON bodies (multipart, SDP, ...) are read by the handler; this documents them.
    content_type: str | None = None
    # The JSON Schemas of path parameters the handler checks itself (others are documented as text).
    path_schemas: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    # The JSON Schema of such a body, for the document: a form's fields, an SDP offer's first line.
    content_schema: dict[str, Any] | None = None
    # Non-JSON responses (PDF, audio, HTML); documented as this media type (a range such as
    # "audio/*", or a tuple of them, when the stored file decides).
    produces: str | tuple[str, ...] | None = None
    aliases: tuple[str, ...] = ()
    deprecated: bool = False
    include_in_schema: bool = True
    # Statuses the handler answers that nothing above implies: a status, or (status, description).
    errors: tuple[int | tuple[int, str], ...] = ()
    # Other success statuses than `status`, with the same body (an idempotent add: 200 beside 201);
    # a 3xx (here or as `status`) is documented as a redirect without a body.
    success_also: tuple[int, ...] = ()
    # The body may be left out (then it reads as `{}`); otherwise a missing body is a 400.
    body_optional: bool = False

    def __post_init__(self) -> None:
        for entry in self.errors:
            status = entry[0] if isinstance(entry, tuple) else entry
            if not 400 <= status < 600:
                raise ValueError(f"{self.method} {self.path}: errors= takes 4xx/5xx statuses, not {status}")
        for status in self.success_also:
            if not 200 <= status < 400 or status == self.status:
                raise ValueError(f"{self.method} {self.path}: success_also= takes other 2xx/3xx, not {status}")
        if self.content_schema is not None and self.content_type is None:
            raise ValueError(f"{self.method} {self.path}: content_schema describes a content_type body")
        if self.body_optional and self.body is None:
            raise ValueError(f"{self.method} {self.path}: body_optional needs a body")


_FIELD_AT = re.compile(r" - at `\$\.?([^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `([^`]*)`")
_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]*)`")


def validation_details(exc: msgspec.ValidationError) -> tuple[str, dict[str, str]]:
    """Turn msgspec's message ("Expected `str` - at `$.email`") into (text, {field: text})."""
    text = str(exc)
    match = _FIELD_AT.search(text)
    parent = match.group(1) if match else ""
    missing = _MISSING.match(text)
    if missing:
        field = f"{parent}.{missing.group(1)}" if parent else missing.group(1)
        return f"Missing required field '{field}'", {field: "required"}
    unknown = _UNKNOWN.match(text)
    if unknown:
        field = f"{parent}.{unknown.group(1)}" if parent else unknown.group(1)
        return f"Unknown field '{field}'", {field: "unknown field"}
    if match:
        field = match.group(1) or "body"
        reason = text[: match.start()]
        return f"Invalid field '{field}': {reason}", {field: reason}
    return text, {"body": text}


# PostgreSQL text cannot hold U+0000, so every text input is refused with it at the edge.
# Valid JSON can only carry it as this escape (a raw NUL byte is malformed JSON).
_NUL_ESCAPE = b"\\u0000"
NUL_PROBLEM = "must not contain NUL characters"


def reject_nul(value: str, field: str, kind: str = "field") -> str:
    """`value`, unless it holds a NUL: then a 400 naming `field` (a `kind`: field, query parameter, ...)."""
    if "\x00" in value:
        field = field.replace("\x00", "\\u0000") or "body"
        raise BadRequest(f"Invalid {kind} '{field}': {NUL_PROBLEM}", details={field: NUL_PROBLEM})
    return value


def _reject_nul_in_json(raw: bytes) -> None:
    """Walk the decoded document, keys and values, for a NUL (the escape seen may be an escaped backslash + "u0000")."""
    try:
        document = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return  # the typed decode reports malformed JSON
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:  # iterative: nesting depth is the client's choice
        path, value = stack.pop()
        if isinstance(value, str):
            reject_nul(value, path)
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                field = f"{path}.{key}" if path else key
                reject_nul(key, field)
                stack.append((field, item))


BODY_REQUIRED = "required: send a JSON object"


async def read_json_body(request: web.Request, body_type: type, *, optional: bool = False) -> Any:
    """The body decoded as `body_type`; a missing or blank body is a 400 unless `optional` (then `{}`)."""
    if request.body_exists:
        ctype = request.content_type
        if ctype != "application/json" and not ctype.endswith("+json"):
            raise UnsupportedMediaType("Content-Type must be application/json")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise PayloadTooLarge(f"Request body exceeds {request.client_max_size} bytes") from None
    else:
        raw = b""
    if not raw.strip():
        if not optional:
            raise BadRequest("Request body required", details={"body": BODY_REQUIRED})
        raw = b"{}"
    if _NUL_ESCAPE in raw:  # rare: only then decode untyped and walk it
        _reject_nul_in_json(raw)
    try:
        return msgspec.json.decode(raw, type=body_type)
    except msgspec.ValidationError as exc:
        message, details = validation_details(exc)
        raise BadRequest(message, details=details) from None
    except msgspec.DecodeError:
        raise BadRequest("Malformed JSON body", details={"body": "not valid JSON"}) from None


def parse_query(request: web.Request, query_type: type) -> Any:
    query = request.query
    # The decoded query string holds a NUL whenever a name or value does (both come from
    # its %00s): one C search per request, the walk naming the field only when it has one.
    if "\x00" in request.query_string:
        for name, value in query.items():
            reject_nul(name, name, "query parameter")
            reject_nul(value, name, "query parameter")
    try:
        return msgspec.convert(dict(query), query_type, strict=False)
    except msgspec.ValidationError as exc:
        message, details = validation_details(exc)
        raise BadRequest(message.replace("Invalid field", "Invalid query parameter"), details=details) from None


def path_uuid(request: web.Request, name: str = "id") -> UUID:
    """A UUID path parameter; a malformed one cannot name anything, so it is a 404."""
    raw = request.match_info.get(name, "")
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No resource with {name} {raw!r}") from None


class ApiRouter:
    """The routes of one domain; `add_to(app)` mounts them under the API prefix."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.specs: list[RouteSpec] = []

    def route(self, method: str, path: str, **options: Any) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            summary = options.pop("summary", None) or (handler.__doc__ or handler.__name__).strip().splitlines()[0]
            roles = tuple(options.pop("roles", ()))
            auth: AuthMode = options.pop("auth", "required" if roles else "none")
            if roles and auth == "none":
                raise ValueError(f"{method} {path}: roles need authentication")
            spec = RouteSpec(method=method, path=path, handler=handler, tag=options.pop("tag", self.tag),
                             summary=summary, roles=roles, auth=auth, **options)
            self.specs.append(spec)
            return handler

        return decorate

    def get(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **options)

    def post(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **options)

    def put(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **options)

    def patch(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **options)

    def delete(self, path: str, **options: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **options)

    def add_to(self, app: web.Application, prefix: str = "/api/v1") -> None:
        """Every route, and HEAD beside each GET: the same handler, auth and headers (the
        same scopes too: `Access` is the GET's), aiohttp sends no body (RFC 9110 9.3.2)."""
        edge = app[keys.edge]
        for spec in self.specs:
            endpoint = _wrap(spec)
            upload = spec.content_type == "multipart/form-data"
            for path in (prefix + spec.path, *spec.aliases):
                app.router.add_route(spec.method, path, edge.route(spec.method, path, endpoint, upload=upload))
                if spec.method == "GET":
                    app.router.add_route("HEAD", path, edge.route("HEAD", path, endpoint))
        if keys.openapi in app:
            app[keys.openapi].add(self.specs, prefix)


def _wrap(spec: RouteSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """The handler behind its declaration's checks. A public route has no principal to
    find, so it gets no generic wrapper: its handler as it is, or one call that parses the
    query (each coroutine and keyword dict is a visible share of a cheap request)."""
    handler = spec.handler
    if spec.auth == "none" and spec.body is None:
        query_type = spec.query
        if query_type is None:
            return handler

        @functools.wraps(handler)
        async def public_endpoint(request: web.Request) -> web.StreamResponse:
            return await handler(request, query=parse_query(request, query_type))

        return public_endpoint
    access = Access.of(spec.method, spec.tag, spec.scope)

    @functools.wraps(handler)
    async def endpoint(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        if spec.auth == "required":
            principal = await require_principal(request)
            if spec.roles:
                principal.require_role(*spec.roles)
            if principal.scopes is not None:
                access.check(principal.scopes)
            kwargs["principal"] = principal
        elif spec.auth == "optional":
            principal = await get_principal(request)
            if principal is not None and principal.scopes is not None:
                access.check(principal.scopes)
            kwargs["principal"] = principal
        if spec.query is not None:
            kwargs["query"] = parse_query(request, spec.query)
        if spec.body is not None:
            kwargs["body"] = await read_json_body(request, spec.body, optional=spec.body_optional)
        return await handler(request, **kwargs)

    return endpoint

"""The OpenAPI 3 document, generated from the routes' own declarations."""

from __future__ import annotations

import copy
import re
from typing import Any

import msgspec

from protocols.frames import NO_NUL
from veza import __version__
from veza.controls.features import feature_of
from veza.http.edge import maintenance, rate_limit
from veza.http.routing import RouteSpec
from veza.security import scopes

_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")

_ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error", "code"],
    "properties": {
        "success": {"type": "boolean", "enum": [False]},
        "error": {"type": "string"},
        "code": {"type": "string"},
        "details": {"type": "object"},
        "request_id": {"type": "string"},
    },
}


class OpenApiRegistry:
    def __init__(self, title: str = "Veza API") -> None:
        self.title = title
        self._routes: list[tuple[str, RouteSpec]] = []
        self._cache: dict[str, Any] | None = None

    def add(self, specs: list[RouteSpec], prefix: str) -> None:
        self._routes.extend((prefix, spec) for spec in specs if spec.include_in_schema)
        self._cache = None

    def document(self, server_url: str = "/") -> dict[str, Any]:
        if self._cache is None:
            self._cache = self._build()
        return {**self._cache, "servers": [{"url": server_url}]}

    def _build(self) -> dict[str, Any]:
        types: list[Any] = []
        for _, spec in self._routes:
            types.extend(t for t in (spec.body, spec.query, spec.response) if t is not None)
        schemas, components = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
        by_type = dict(zip(types, schemas))
        for schema in components.values():
            _state_no_nul(schema)
        components["Error"] = _ERROR_SCHEMA
        paths: dict[str, dict[str, Any]] = {}
        for prefix, spec in self._routes:
            path = _PARAM.sub(r"{\1}", prefix + spec.path)
            paths.setdefault(path, {})[spec.method.lower()] = self._operation(spec, path, by_type, components)
        return {
            # 3.1: its schemas are JSON Schema 2020-12, exactly what msgspec generates.
            "openapi": "3.1.0",
            "info": {"title": self.title, "version": __version__},
            "paths": paths,
            "components": {
                "schemas": components,
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
                    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                               "description": scopes.DESCRIPTION},
                },
            },
        }

    def _operation(self, spec: RouteSpec, path: str, by_type: dict[Any, Any],
                   components: dict[str, Any]) -> dict[str, Any]:
        op: dict[str, Any] = {
            "tags": [spec.tag],
            "summary": spec.summary,
            "operationId": f"{spec.method.lower()}_{spec.handler.__module__.rsplit('.', 1)[-1]}_{spec.handler.__name__}",
        }
        params = [{"name": n, "in": "path", "required": True, "schema": spec.path_schemas.get(n, {"type": "string"})}
                  for n in _PARAM.findall(path)]
        if spec.query is not None:
            params.extend(_query_params(by_type[spec.query], spec.query))
        if params:
            op["parameters"] = params
        if spec.body is not None:
            op["requestBody"] = {"required": not spec.body_optional,
                                 "content": {"application/json": {"schema": by_type[spec.body]}}}
        elif spec.content_type:
            schema = copy.deepcopy(spec.content_schema) or {"type": "string", "format": "binary"}
            _state_no_nul(schema)
            op["requestBody"] = {"required": True, "content": {spec.content_type: {"schema": schema}}}
        data_schema = by_type[spec.response] if spec.response is not None else {}
        if spec.produces:
            media = (spec.produces,) if isinstance(spec.produces, str) else spec.produces
            success = {"description": "OK",
                       "content": {m: {"schema": {"type": "string", "format": "binary"}} for m in media}}
        else:
            success = {
                "description": "OK",
                "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["success", "data"],
                    "properties": {"success": {"type": "boolean", "enum": [True]}, "data": data_schema},
                }}},
            }
        redirect = {"description": "Redirect: see Location"}
        responses: dict[str, Any] = {str(status): redirect if 300 <= status < 400 else success
                                     for status in (spec.status, *spec.success_also)}
        body_schema = _resolve(by_type[spec.body], components) if spec.body is not None else {}
        for status, description in _error_answers(spec, path, _names_ids(body_schema)):
            responses[status] = {"description": description,
                                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if spec.auth != "none":
            op["security"] = [{"bearer": []}, {"apiKey": []}] + ([{}] if spec.auth == "optional" else [])
        op["responses"] = responses
        if spec.deprecated:
            op["deprecated"] = True
        return op


_NESTED = ("properties", "$defs")
_SUBSCHEMAS = ("items", "additionalProperties", "not", "contains")
_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")


def _state_no_nul(schema: Any) -> None:
    """The edge refuses U+0000 in every string of a request (PostgreSQL text cannot hold it),
    and no answer holds one: say so on every free-text string schema (one with a pattern,
    a format or fixed values of its own already says what it takes)."""
    if not isinstance(schema, dict):
        return
    types = schema.get("type")
    if (types == "string" or (isinstance(types, list) and "string" in types)) and not (
            {"pattern", "format", "enum", "const"} & schema.keys()):
        schema["pattern"] = NO_NUL
    for key in _NESTED:
        for sub in schema.get(key, {}).values():
            _state_no_nul(sub)
    for key in _SUBSCHEMAS:
        _state_no_nul(schema.get(key))
    for key in _LISTS:
        for sub in schema.get(key, ()):
            _state_no_nul(sub)


def _query_params(schema: dict[str, Any], query_type: type) -> list[dict[str, Any]]:
    # Query structs are flat; inline their fields as parameters.
    info = msgspec.inspect.type_info(query_type)
    required = {f.encode_name for f in getattr(info, "fields", ()) if f.required}
    _, components = msgspec.json.schema_components([query_type])
    props = components.get(query_type.__name__, {}).get("properties", {})
    for sub in props.values():
        _state_no_nul(sub)
    return [{"name": name, "in": "query", "required": name in required, "schema": sub} for name, sub in props.items()]


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref", "")
    return components.get(ref.rsplit("/", 1)[-1], {}) if ref else schema


def _names_ids(schema: dict[str, Any]) -> bool:
    """The body names a resource by id (a UUID field), which may name nothing."""
    for prop in schema.get("properties", {}).values():
        options = prop.get("anyOf", [prop])
        if any(option.get("format") == "uuid" for option in options):
            return True
    return False


# What a status a route declares (`errors=(409,)`) means when it gives no words of its own.
ERROR_DESCRIPTIONS = {
    401: "Missing, invalid or expired credentials",
    403: "Forbidden: wrong owner, role or secret",
    404: "No such resource",
    409: "Conflict with the resource's current state",
    410: "Gone: expired or revoked",
    416: "Range not satisfiable",
    429: "Rate limited: see Retry-After",
    502: "An upstream service failed",
    503: "Unavailable",
    507: "Storage quota exceeded",
}


def _error_answers(spec: RouteSpec, prefix_path: str, body_ids: bool = False) -> list[tuple[str, str]]:
    """The error statuses the edge and the route's declaration can produce, worked out from
    the same rules the server applies (so the document cannot drift from them), then those
    the route declares itself (`errors=`), which the handler alone knows."""
    answers = dict(_implied_answers(spec, prefix_path, body_ids))
    for entry in spec.errors:
        if isinstance(entry, tuple):  # its own words win over the implied ones
            answers[str(entry[0])] = entry[1]
        else:
            answers.setdefault(str(entry), ERROR_DESCRIPTIONS.get(entry, "Error"))
    return sorted(answers.items())


def _implied_answers(spec: RouteSpec, prefix_path: str, body_ids: bool) -> list[tuple[str, str]]:
    answers = [("400", "Invalid input: the offending fields are in `details`")]
    if spec.auth != "none":
        answers.append(("401", "Missing, invalid or expired credentials"))
        answers.append(("403", "Wrong owner or role, or an API key without the route's scope"))
    if _PARAM.search(prefix_path) or body_ids:
        answers.append(("404", "No such resource, in the path or named in the body (a malformed id names "
                               "nothing either)"))
    if spec.body is not None or spec.content_type:
        answers.append(("413", "Request body too large"))
        answers.append(("415", "Unsupported Content-Type"))
    if not rate_limit.is_exempt(prefix_path):
        answers.append(("429", "Rate limited: see Retry-After and X-RateLimit-*"))
    closable = maintenance.applies_to(prefix_path)
    feature = feature_of(spec.method, prefix_path, upload=spec.content_type == "multipart/form-data")
    if closable or feature:
        why = "maintenance mode" if closable else ""
        if feature:
            why = f"{why} or " if why else ""
            why += f"the feature flag `{feature}` is off (code feature_disabled)"
        answers.append(("503", f"Unavailable: {why}; admins pass"))
    return answers

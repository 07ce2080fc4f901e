"""The published contract: ``/openapi.json`` as the hub really answers.

FastAPI documents what it can see in the route signatures; this module adds, once for every
operation, what it cannot:

* the **error answers** each operation can give, all with the one ``ErrorResponse`` shape
  (``hub.contract.errors``): 400 (a missing justification), 401 (only where a bearer token is
  required), 403, 404, 409, 413, 422, 429 and 503, as applicable (``error_statuses``);
* the **request bodies read as raw bytes** (signed connector pushes are verified over the exact
  bytes, so the route cannot declare a pydantic body): the lead batch (``LeadBatch`` of
  ``Lead``) and the connector run record, registered in ``components.schemas`` from the
  contract's pydantic models, and the four signature headers;
* the hub-wide answers that are not operations: an unknown path is 404, a method a path does
  not have (``OPTIONS`` included: the hub serves no CORS) is 405 with an ``Allow`` header listing
  the methods it has; both with ``ErrorResponse``.

The interactive documentation (``/docs``) is served with its Swagger UI assets from the hub
itself when the ``swagger-ui-bundle`` package is installed (no CDN: the hub runs offline).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from hub.contract.errors import ErrorResponse

REF = "#/components/schemas/{model}"

ERROR_DESCRIPTIONS_FR: dict[int, str] = {
    400: "Justification absente ou trop courte (`missing_justification`, champ `justification`)",
    401: "Authentification requise : jeton absent, inconnu, expiré ou révoqué, ou requête de "
         "connecteur mal signée (`not_authenticated`, en-tête `WWW-Authenticate: Bearer`)",
    403: "Rôle ou service non autorisé pour cette opération (`forbidden`), ou second facteur "
         "requis (`second_factor_required`, `second_factor_not_enrolled`, "
         "`second_factor_session_required`)",
    404: "Ressource inconnue ou que vous ne pouvez pas connaître (`not_found`)",
    409: "Conflit avec l'état actuel : état attendu périmé, doublon, nonce déjà vu (`conflict`, "
         "`replay_detected`)",
    413: "Requête trop volumineuse (`payload_too_large`)",
    422: "Requête invalide : chaque champ en cause avec sa raison (`invalid_input`)",
    429: "Trop de tentatives : réessayer après le délai de l'en-tête `Retry-After` "
         "(`too_many_requests`)",
    503: "Graphe ou journal d'audit indisponible : réessayer après le délai de l'en-tête "
         "`Retry-After` (`graph_unavailable`, `audit_unavailable`)",
}

# Answers an operation can give that its signature does not show, by (method, path).
EXTRA_ERRORS: dict[tuple[str, str], set[int]] = {
    ("post", "/api/v1/auth/login"): {429},  # throttled after repeated failures
    ("post", "/api/v1/auth/logout"): {422},  # an API token has no session to close
    # Wrong second-factor codes are throttled like logins.
    ("post", "/api/v1/second-factor/enrolment"): {429},
    ("post", "/api/v1/second-factor/enrolment/confirm"): {429},
    ("post", "/api/v1/second-factor/verify"): {429},
}

# Operations whose body the route reads as raw bytes (signature verification): the pydantic
# model (or a builder of its schema) documenting it.
SIGNED_BODIES: dict[tuple[str, str], str] = {
    ("post", "/api/v1/leads"): "LeadBatch",
    ("post", "/api/v1/connectors/{name}/runs"): "RunRecord",
}

SIGNATURE_HEADERS_DOC: list[tuple[str, str, str]] = [
    ("X-CrossHub-Key-Id", r"^[0-9a-f]{16}$",
     "Identifiant de la clé de signature du connecteur (16 hex de sha256 de la clé publique)"),
    ("X-CrossHub-Timestamp", r"^[0-9]{1,12}$", "Heure de signature (secondes Unix)"),
    ("X-CrossHub-Nonce", r"^[0-9a-f]{32}$", "Valeur aléatoire de 128 bits, jamais réutilisée"),
    ("X-CrossHub-Signature", r"^[A-Za-z0-9+/]{86}==$",
     "Signature Ed25519 (base64) de la méthode, du chemin, de l'heure, du nonce et du corps"),
]


def iter_api_routes(app: FastAPI) -> Iterator[APIRoute]:
    """Every operation route of the app, with its effective (prefixed) path, whether FastAPI
    flattens included routers (``app.routes`` holds ``APIRoute``s) or keeps them as included
    routers resolved on demand (``fastapi.routing.iter_route_contexts``, FastAPI ≥ 0.13x)."""
    try:
        from fastapi.routing import RouteContext, iter_route_contexts
    except ImportError:  # older FastAPI: included routes are flattened
        yield from (r for r in app.routes if isinstance(r, APIRoute))
        return
    for context in iter_route_contexts(app.routes):
        if isinstance(context, RouteContext) and isinstance(context.original_route, APIRoute):
            yield context  # type: ignore[misc]  # an APIRoute-like view with the effective path
        elif isinstance(context, APIRoute):
            yield context


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method some route of the app answers on ``path`` (FastAPI declares one route per
    operation, so the router's own 405 names only the methods of the first route it tried)."""
    from starlette.routing import compile_path

    methods: set[str] = set()
    candidates = [*iter_api_routes(app), *(r for r in app.routes if not isinstance(r, APIRoute))]
    for route in candidates:
        route_methods, path_format = getattr(route, "methods", None), getattr(route, "path_format", None)
        if not route_methods or not path_format:
            continue
        regex, _, _ = compile_path(path_format)
        if regex.match(path):
            methods |= set(route_methods)
    return sorted(methods)


def _calls(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _calls(sub)


def _uses(route: APIRoute, func: Callable[..., Any]) -> bool:
    return any(d.call is func for d in _calls(route.dependant))


def _names_something(route: APIRoute) -> bool:
    """A path parameter, or a query parameter naming an entity, a lead or a place (``key``,
    ``from_key``, ``location_key``…): what it names may not exist (404)."""
    return any(d.path_params or any(p.name == "key" or p.name.endswith("_key") for p in d.query_params)
               for d in _calls(route.dependant))


def _has_inputs(route: APIRoute) -> bool:
    return any(d.path_params or d.query_params or d.header_params or d.cookie_params or d.body_params
               for d in _calls(route.dependant))


def _body_field_names(route: APIRoute) -> set[str]:
    names: set[str] = set()
    for d in _calls(route.dependant):
        for param in d.body_params:
            annotation = getattr(param.field_info, "annotation", None)
            fields = getattr(annotation, "model_fields", None)
            names |= set(fields or {param.name: None})
    return names


def error_statuses(route: APIRoute, method: str) -> set[int]:
    """The error statuses an operation can answer, from what it depends on."""
    from hub import deps

    key = (method, route.path_format)
    statuses: set[int] = set(EXTRA_ERRORS.get(key, set()))
    authenticated = _uses(route, deps.get_caller)
    has_body = bool(route.body_field) or key in SIGNED_BODIES
    if authenticated:
        statuses |= {401, 403}
    if _uses(route, deps.justification_param) or "justification" in _body_field_names(route):
        statuses.add(400)
    if _has_inputs(route) or key in SIGNED_BODIES:
        statuses.add(422)
    if _names_something(route) or has_body:
        statuses.add(404)  # a path naming something, or a body referring to a lead, an entity…
    if method in ("post", "put", "patch", "delete"):
        statuses.add(409)
    if has_body:
        statuses.add(413)
    if _uses(route, deps.get_graph) or _uses(route, deps.get_audit):
        if authenticated or route.path_format != "/healthz":
            statuses.add(503)
    return statuses


def _with_unix_instants(schema: dict[str, Any]) -> bool:
    """Query instants: pydantic reads a number as Unix seconds (``until=1767225600``) besides
    ISO 8601, so the contract says both. True when ``schema`` held such an instant."""
    if schema.get("type") == "string" and schema.get("format") == "date-time":
        instant = {k: schema.pop(k) for k in ("type", "format")}
        schema["anyOf"] = [instant, {"type": "number", "description": "secondes Unix (UTC)"}]
        return True
    return any([_with_unix_instants(s) for s in schema.get("anyOf", []) if isinstance(s, dict)])


def _error_response_doc(status: int) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "description": ERROR_DESCRIPTIONS_FR.get(status, "Erreur"),
        "content": {"application/json": {"schema": {"$ref": REF.format(model="ErrorResponse")}}},
    }
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = {"description": "Schéma attendu : Bearer",
                                       "schema": {"type": "string"}}
    if status in (429, 503):
        headers["Retry-After"] = {"description": "Secondes avant de réessayer",
                                  "schema": {"type": "string", "pattern": "^[0-9]+$"}}
    if headers:
        doc["headers"] = headers
    return doc


def _walk_refs(node: Any, rename: dict[str, str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
                name = v.rsplit("/", 1)[1]
                out[k] = REF.format(model=rename.get(name, name))
            else:
                out[k] = _walk_refs(v, rename)
        return out
    if isinstance(node, list):
        return [_walk_refs(v, rename) for v in node]
    return node


def register_models(schemas: dict[str, Any], models: list[type[BaseModel]],
                    suffix: str = "-Input") -> dict[str, str]:
    """Add the validation JSON schemas of ``models`` (and of every model they use) to
    ``components.schemas``; a name already taken by a different schema gets ``suffix`` (as
    FastAPI names a model's input schema when it differs from its output one).
    Returns each model's component name."""
    refs, defs = models_json_schema([(m, "validation") for m in models], ref_template=REF)
    found = defs.get("$defs", {})
    rename = {name: f"{name}{suffix}" for name, schema in found.items()
              if name in schemas and schemas[name] != schema}
    for name, schema in found.items():
        schemas[rename.get(name, name)] = _walk_refs(schema, rename)
    names = {}
    for model in models:
        ref = refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]
        names[model.__name__] = rename.get(ref, ref)
    return names


def _lead_batch_schema(lead_ref: str, max_batch: int) -> dict[str, Any]:
    return {
        "title": "LeadBatch",
        "type": "object",
        "description": "Corps de `POST /api/v1/leads` : un lot de pistes au schéma 1.0. Chaque "
                       "piste est validée séparément ; une piste invalide est rejetée seule "
                       "(résultat `rejected` avec le chemin exact de chaque champ et la raison).",
        "properties": {"leads": {"type": "array", "minItems": 1, "maxItems": max_batch,
                                 "items": {"$ref": REF.format(model=lead_ref)}}},
        "required": ["leads"],
        "additionalProperties": False,
    }


def build_openapi(app: FastAPI) -> dict[str, Any]:
    from hub.contract.lead import Lead
    from hub.contract.runs import RunRecord

    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, tags=app.openapi_tags, servers=app.servers)
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    names = register_models(schemas, [ErrorResponse, Lead, RunRecord])
    settings = getattr(app.state, "settings", None)
    max_batch = getattr(settings, "max_batch_size", 5000)
    schemas["LeadBatch"] = _lead_batch_schema(names["Lead"], max_batch)
    body_refs = {"LeadBatch": "LeadBatch", "RunRecord": names["RunRecord"]}

    routes = {(m.lower(), r.path_format): r for r in iter_api_routes(app) for m in r.methods}
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            route = routes.get((method, path))
            if route is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's own shape; ours below when it applies
            declared = {int(code) for code in responses if code.isdigit() and int(code) >= 400}
            for status in sorted(error_statuses(route, method) | declared):
                doc = _error_response_doc(status)
                # A route's own description of an error (``responses=``) says it best.
                if str(status) in responses and responses[str(status)].get("description"):
                    doc["description"] = responses[str(status)]["description"]
                responses[str(status)] = doc
            for param in operation.get("parameters", []):
                if param.get("in") == "query" and _with_unix_instants(param.get("schema", {})):
                    param["description"] = (param.get("description", "") +
                                            " ; ou secondes Unix (UTC)").lstrip(" ;")
            body = SIGNED_BODIES.get((method, path))
            if body is not None:
                operation["requestBody"] = {"required": True, "content": {"application/json": {
                    "schema": {"$ref": REF.format(model=body_refs[body])}}}}
                params = operation.setdefault("parameters", [])
                for name, pattern, description in SIGNATURE_HEADERS_DOC:
                    params.append({"name": name, "in": "header", "required": True,
                                   "description": description,
                                   "schema": {"type": "string", "pattern": pattern}})
    for unused in ("HTTPValidationError", "ValidationError"):
        if unused in schemas and f'"{REF.format(model=unused)}"' not in _dump(schema, unused):
            schemas.pop(unused)
    return schema


def _dump(schema: dict[str, Any], without: str) -> str:
    import json

    trimmed = copy.copy(schema)
    trimmed["components"] = {**schema["components"], "schemas": {
        k: v for k, v in schema["components"]["schemas"].items() if k != without}}
    return json.dumps(trimmed)


def install_openapi(app: FastAPI) -> None:
    """``app.openapi`` builds (once) and returns the contract above."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# --- interactive documentation, served offline ---------------------------------------------------

DOCS_ASSETS = {  # served name -> (file of the fastapi-offline package, media type)
    "swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript"),
    "swagger-ui.css": ("swagger-ui.css", "text/css"),
    "redoc.standalone.js": ("redoc.standalone.js", "text/javascript"),
    "favicon.png": ("favicon.png", "image/png"),
}
ASSETS_PATH = "/docs/assets"


def _assets_dir() -> Any:
    """Where Swagger UI 5 and ReDoc are installed: the ``fastapi-offline`` package's static files
    (a locked dependency). No CDN fallback: the hub's pages never make a request leave it."""
    from importlib.resources import files

    directory = files("fastapi_offline") / "static"
    if not (directory / "swagger-ui-bundle.js").is_file():
        raise RuntimeError("fastapi-offline is installed without its static files")
    return directory


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
_INLINE_STYLE = re.compile(r"<style>(.*?)</style>", re.S)


def _with_own_csp(response: Any, *, inline_styles: bool = False) -> Any:
    """The documentation pages' own Content-Security-Policy: the hub's, plus the hash of each
    inline start-up script FastAPI writes into them (nothing else inline runs)."""
    import base64
    import hashlib

    from hub.web.security import CSP

    html = bytes(response.body).decode()

    def hashes(pattern: re.Pattern[str]) -> str:
        return " ".join("'sha256-" + base64.b64encode(hashlib.sha256(m.encode()).digest()).decode()
                        + "'" for m in pattern.findall(html))

    scripts = hashes(_INLINE_SCRIPT)
    styles = "'unsafe-inline'" if inline_styles else hashes(_INLINE_STYLE)
    policy = CSP.replace("script-src 'self'", f"script-src 'self' {scripts}".rstrip())
    policy = policy.replace("style-src 'self'", f"style-src 'self' {styles}".rstrip())
    response.headers["Content-Security-Policy"] = policy
    return response


def install_docs(app: FastAPI) -> None:
    """``/docs`` (Swagger UI) and ``/redoc``, their scripts and styles served by the hub."""
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
    from fastapi.responses import HTMLResponse, Response

    from hub.contract.errors import NotFound

    assets = _assets_dir()
    local = {name: f"{ASSETS_PATH}/{name}" for name in DOCS_ASSETS}
    title = f"{app.title} — documentation"
    swagger_kwargs = {"swagger_js_url": local["swagger-ui-bundle.js"],
                      "swagger_css_url": local["swagger-ui.css"],
                      "swagger_favicon_url": local["favicon.png"]}
    redoc_kwargs = {"redoc_js_url": local["redoc.standalone.js"],
                    "redoc_favicon_url": local["favicon.png"], "with_google_fonts": False}

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return _with_own_csp(get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title, **swagger_kwargs))

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        # ReDoc styles itself with <style> elements it creates: inline styles on this page only.
        return _with_own_csp(get_redoc_html(
            openapi_url=app.openapi_url or "/openapi.json", title=title, **redoc_kwargs),
            inline_styles=True)

    contents: dict[str, bytes] = {}

    @app.get(ASSETS_PATH + "/{name}", include_in_schema=False)
    async def docs_asset(name: str) -> Response:
        entry = DOCS_ASSETS.get(name)
        if entry is None:
            raise NotFound(f"ressource inconnue : {ASSETS_PATH}/{name}")
        if name not in contents:
            contents[name] = (assets / entry[0]).read_bytes()
        return Response(contents[name], media_type=entry[1],
                        headers={"Cache-Control": "public, max-age=86400"})

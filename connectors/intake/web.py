"""The intake service's web face (French, DSFR): sign in with one's hub account, enter one lead
in a form, or import a spreadsheet — propose a column mapping, let the person confirm it, check
every row, and write the good rows only once the person confirms (ADR 0014).

It runs in the intake connector's process, not in the hub, so what a person types (a name
above all) is turned into a pseudonym here and never reaches the hub.

* Session: the hub's access token from ``POST /api/v1/auth/login``, in this service's own
  cookie (``HttpOnly``, ``SameSite=Strict``, ``Secure`` behind https). Its claims are read here
  unverified, for display and the leads' service only: the hub verifies the token on each push.
* Anti-CSRF: every form carries an HMAC of the session (or of a pre-session cookie for the
  sign-in form) under a secret of this process; a foreign ``Origin`` is refused.
* An uploaded file lives in memory only, for ``PENDING_TTL_S``, tied to the person who sent it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import SecretStr
from starlette.concurrency import run_in_threadpool
from starlette.formparsers import MultiPartParser

from connectors.intake import sheets
from connectors.intake.connector import IntakeSettings, Person, RowCheck, new_ref, submit, validate
from connectors.intake.fields import BY_KEY, FIELDS, IGNORE, check_mapping, propose_mapping
from hub.contract.errors import InvalidInput
from hub.contract.lead import AGENCY_LABELS_FR, Agency

HERE = Path(__file__).resolve().parent
DSFR = HERE.parents[1] / "hub" / "web" / "static" / "dsfr"  # the hub's own copy, served as is
COOKIE, PRE_COOKIE = "crosshub_intake", "crosshub_intake_pre"
PENDING_TTL_S = 1800
# The hub's policy (hub/web/security.py) less scripts: these pages run none. DSFR draws its
# icons from data: SVG.
HEADERS = {"Content-Security-Policy": "default-src 'self'; script-src 'none'; style-src 'self'; "
                                      "img-src 'self' data:; font-src 'self'; object-src 'none'; "
                                      "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
           "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
           "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}


@dataclass
class Pending:
    user_id: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]
    created: float = field(default_factory=time.monotonic)
    mapping: list[str] = field(default_factory=list)
    good: list[tuple[int, dict[str, str], str]] = field(default_factory=list)


def _claims(token: str) -> dict[str, Any] | None:
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        Agency(claims["agency"])
        return claims if claims["exp"] > time.time() else None
    except (IndexError, ValueError, KeyError, TypeError):
        return None


def create_app(settings: IntakeSettings, *, transport: httpx.BaseTransport | None = None) -> FastAPI:
    """``transport``: how this service reaches the hub (tests record every byte sent)."""
    app = FastAPI(title="CROSS Hub — saisie", docs_url=None, redoc_url=None, openapi_url=None)
    # An upload holds names: starlette spools a part past 1 MB to a temporary file; in this
    # process (the intake service only) it stays in memory up to the upload bound.
    MultiPartParser.spool_max_size = max(MultiPartParser.spool_max_size, settings.max_upload_bytes + 1)
    secret = (settings.csrf_secret.get_secret_value() if settings.csrf_secret else secrets.token_hex(32)).encode()
    pending: dict[str, Pending] = {}
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
    if DSFR.is_dir():
        app.mount("/static/dsfr", StaticFiles(directory=DSFR), name="dsfr")

    def hub() -> httpx.Client:
        return httpx.Client(base_url=settings.hub_url, transport=transport, timeout=20)

    def csrf_of(value: str) -> str:
        return hmac.new(secret, value.encode(), hashlib.sha256).hexdigest()[:40]

    def person_of(request: Request) -> Person | None:
        token = request.cookies.get(COOKIE)
        claims = _claims(token) if token else None
        if claims is None:
            return None
        return Person(user_id=claims["sub"], agency=Agency(claims["agency"]), role=claims["role"],
                      token=SecretStr(token))

    def page(name: str, request: Request, status: int = 200, **ctx: Any) -> HTMLResponse:
        person = person_of(request)
        ctx.setdefault("csrf", csrf_of(person.token.get_secret_value()) if person else "")
        html = env.get_template(name).render(person=person, agency_label=AGENCY_LABELS_FR.get(
            person.agency) if person else None, fields=FIELDS, by_key=BY_KEY, **ctx)
        return HTMLResponse(html, status_code=status)

    async def form_of(request: Request, pre: bool = False) -> dict[str, Any]:
        """The posted form, once its origin and anti-CSRF token are checked."""
        form = await request.form()
        origin = request.headers.get("origin")
        expected = (request.cookies.get(PRE_COOKIE) or "-") if pre else (request.cookies.get(COOKIE) or "-")
        if (origin is not None and origin != f"{request.url.scheme}://{request.url.netloc}") or \
                not hmac.compare_digest(str(form.get("csrf", "")), csrf_of(("login:" if pre else "") + expected)):
            raise InvalidInput("formulaire refusé : jeton anti-CSRF manquant ou invalide, recharger la page",
                               details=[{"field": "csrf", "reason": "jeton de la session attendu"}])
        return dict(form)

    @app.exception_handler(InvalidInput)
    async def refused(request: Request, exc: InvalidInput) -> Response:
        return page("erreur.html", request, 400, message=exc.message)  # said in French, nothing done

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.update(HEADERS)
        return response

    def signed_in(request: Request) -> Person | Response:
        return person_of(request) or RedirectResponse("/connexion", status_code=303)

    @app.get("/connexion", response_class=HTMLResponse)
    async def login_page(request: Request) -> Response:
        pre = request.cookies.get(PRE_COOKIE) or secrets.token_urlsafe(24)
        response = page("connexion.html", request, csrf=csrf_of("login:" + pre))
        response.set_cookie(PRE_COOKIE, pre, httponly=True, samesite="strict", secure=settings.secure_cookie)
        return response

    @app.post("/connexion")
    async def login(request: Request) -> Response:
        form = await form_of(request, pre=True)
        user_id = str(form.get("identifiant", "")).strip()
        def sign_in() -> httpx.Response:
            with hub() as client:
                return client.post("/api/v1/auth/login", json={
                    "user_id": user_id, "password": str(form.get("mot_de_passe", ""))})

        try:
            resp = await run_in_threadpool(sign_in)
        except httpx.HTTPError:
            resp = httpx.Response(503, content=b"")
        if resp.status_code != 200:
            try:
                message = resp.json().get("message", "connexion refusée")
            except ValueError:
                message = "le hub est injoignable : réessayer plus tard"
            pre = request.cookies.get(PRE_COOKIE, "-")
            return page("connexion.html", request, 401, error=message, user_id=user_id,
                        csrf=csrf_of("login:" + pre))
        token = resp.json()["access_token"]
        redirect = RedirectResponse("/", status_code=303)
        redirect.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=settings.secure_cookie,
                            max_age=max(60, int(_claims(token)["exp"] - time.time())) if _claims(token) else 60)
        redirect.delete_cookie(PRE_COOKIE)
        return redirect

    @app.post("/deconnexion")
    async def logout(request: Request) -> Response:
        await form_of(request)
        def sign_out() -> None:
            with hub() as client:
                client.post("/api/v1/auth/logout",
                            headers={"Authorization": f"Bearer {request.cookies.get(COOKIE)}"})

        try:
            await run_in_threadpool(sign_out)
        except httpx.HTTPError:
            pass  # the hub's session lapses with its token; the cookie goes anyway
        response = RedirectResponse("/connexion", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    @app.get("/", response_class=HTMLResponse)
    async def form_page(request: Request) -> Response:
        who = signed_in(request)
        return who if isinstance(who, Response) else page("saisie.html", request, values={}, errors={})

    @app.post("/saisie")
    async def enter_one(request: Request) -> Response:
        who = signed_in(request)
        if isinstance(who, Response):
            return who
        form = await form_of(request)
        row = {f.key: str(form.get(f.key, "")) for f in FIELDS}
        check = (await run_in_threadpool(validate, settings, who, [(1, row, new_ref())]))[0]
        if check.errors:
            return page("saisie.html", request, 422, values=row, errors=check.errors)
        outcome = await run_in_threadpool(lambda: submit(settings, who, [(1, row, check.lead.source_ref)],
                                                         transport=transport))
        return page("resultat.html", request, 200 if outcome.pushed else 502, outcome=outcome, bad=[])

    @app.get("/import", response_class=HTMLResponse)
    async def import_page(request: Request) -> Response:
        who = signed_in(request)
        return who if isinstance(who, Response) else page("import.html", request)

    def mine(request: Request, who: Person, import_id: str) -> Pending:
        now = time.monotonic()
        for key in [k for k, p in pending.items() if now - p.created > PENDING_TTL_S]:
            del pending[key]
        found = pending.get(import_id)
        if found is None or found.user_id != who.user_id:
            raise InvalidInput("import inconnu ou expiré : déposer le fichier à nouveau",
                               details=[{"field": "import", "reason": "introuvable"}])
        return found

    @app.post("/import")
    async def upload(request: Request) -> Response:
        who = signed_in(request)
        if isinstance(who, Response):
            return who
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > settings.max_upload_bytes + 65536:
            return page("import.html", request, 413, error="fichier trop volumineux")
        form = await form_of(request)
        upload = form.get("fichier")
        if upload is None or not hasattr(upload, "read"):
            return page("import.html", request, 422, error="choisir un fichier .csv ou .xlsx")
        data = await upload.read()
        if len(data) > settings.max_upload_bytes:
            return page("import.html", request, 413, error="fichier trop volumineux : "
                        f"{settings.max_upload_bytes // 1_000_000} Mo au plus, découper le fichier")
        try:
            table = await run_in_threadpool(sheets.read_table, upload.filename or "", data)
        except InvalidInput as exc:
            return page("import.html", request, 422, error=exc.message)
        import_id = secrets.token_urlsafe(16)
        pending[import_id] = Pending(who.user_id, table.headers, table.rows)
        return page("correspondance.html", request, import_id=import_id, headers=table.headers,
                    proposed=propose_mapping(table.headers), sample=table.rows[:3], problems=[])

    @app.post("/import/{import_id}/correspondance")
    async def confirm_mapping(request: Request, import_id: str) -> Response:
        who = signed_in(request)
        if isinstance(who, Response):
            return who
        form = await form_of(request)
        job = mine(request, who, import_id)
        mapping = [str(form.get(f"colonne-{i}", IGNORE)) for i in range(len(job.headers))]
        problems = check_mapping(mapping)
        if problems:
            return page("correspondance.html", request, 422, import_id=import_id, headers=job.headers,
                        proposed=mapping, sample=job.rows[:3], problems=problems)
        rows = [(line, {key: cells[i] for i, key in enumerate(mapping) if key}, new_ref())
                for line, cells in job.rows]
        checks = await run_in_threadpool(validate, settings, who, rows)
        column = {key: job.headers[i] for i, key in enumerate(mapping) if key}
        bad = [f"ligne {c.line}, colonne « {column.get(k, BY_KEY[k].label if k in BY_KEY else k)} » : {reason}"
               for c in checks for k, reason in c.errors.items()]
        job.mapping, job.good = mapping, [r for r, c in zip(rows, checks, strict=True) if c.lead is not None]
        return page("rapport.html", request, 200 if not bad else 422, import_id=import_id,
                    good=len(job.good), total=len(rows), bad=bad, bad_rows=_bad_rows(checks))

    @app.post("/import/{import_id}/verser")
    async def write(request: Request, import_id: str) -> Response:
        who = signed_in(request)
        if isinstance(who, Response):
            return who
        await form_of(request)
        job = mine(request, who, import_id)
        if not job.good:
            return page("erreur.html", request, 422, message="aucune ligne valide à verser")
        del pending[import_id]  # one confirmation, one write
        outcome = await run_in_threadpool(lambda: submit(settings, who, job.good, transport=transport))
        return page("resultat.html", request, 200 if outcome.pushed else 502, outcome=outcome, bad=[])

    return app


def _bad_rows(checks: list[RowCheck]) -> int:
    return sum(1 for c in checks if c.errors)


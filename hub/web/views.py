"""The web application's pages: sign in and out, the motif of consultation, and the page shells
of the analysts' tools (search, lead sheet, entity, link chart, timeline, map, triage,
deconfliction, disclosure, meetings, administration, audit).

Wiring only, like the API routers, and on the same policy: a page is a DSFR shell rendered here
(who is signed in, the motif, the navigation the role may use) whose data the browser asks of
the JSON API (``/api/v1``) with the same session (ADR 0010). No page reads the graph for data,
so no page can show more than the API would; the pages a role may not use answer 403 through
the same ``permission`` the API asks. Sign-in and sign-out call the API's own handlers, so the
throttle, the sessions and the audit trail are the API's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from graph.identity import Principal
from hub.contract.errors import CrossHubError, InvalidInput, NotAuthenticated, TooManyRequests
from hub.contract.lead import AGENCY_LABELS_FR
from hub.deps import (
    MAX_JUSTIFICATION,
    MIN_JUSTIFICATION,
    get_caller,
    require_justification,
)
from hub.contract.identifiers import control_chars_in
from hub.web.session import (
    CSRF_FIELD,
    LOGIN_COOKIE,
    LOGIN_NONCE_TTL_S,
    MOTIF_COOKIE,
    SESSION_COOKIE,
    cookie_args,
    csrf_keys_for,
    new_login_nonce,
    safe_next,
)
from hub.web.signin import (
    REFRESH_PAGE,
    REFRESHABLE_COOKIE,
    clear_session_cookies,
    set_session_cookies,
)
from policies.permissions import Action, permission

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)

# Form bodies are small (the limits middleware caps people's bodies at 64 KiB already).
_FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class Page:
    """A tool of the application: its path, title, the page module that fills it, the action
    its data needs (None: any signed-in user), and whether it consults personal data (then the
    motif is asked first)."""

    path: str
    title: str
    module: str
    action: Action | None
    consults: bool = True
    in_menu: bool = True
    # Or: any one of these actions opens the page (its sections show what each allows).
    any_of: tuple[Action, ...] = ()
    # Settings the page's module needs, handed over as data-* attributes (never a secret).
    settings_data: tuple[str, ...] = ()
    # A boolean setting without which the page stays out of the menu (it still opens and says
    # the feature is off): « Fédération » on a hub outside the federation.
    menu_setting: str | None = None


PAGES: tuple[Page, ...] = (
    Page("/", "Recherche", "search", None),
    Page("/graphe", "Graphe de liens", "chart", Action.RUN_ANALYSES),
    Page("/carte", "Carte", "map", Action.RUN_ANALYSES),
    Page("/tri", "Tri des pistes", "triage", Action.WORK_LEADS),
    Page("/deconfliction", "Déconfliction", "deconfliction", Action.WORK_LEADS),
    Page("/communications", "Communications", "disclosures", Action.REQUEST_DISCLOSURE),
    Page("/veilles", "Veilles", "watches", Action.WATCH),
    Page("/dossiers", "Dossiers", "dossiers", Action.WORK_DOSSIERS),  # shared dossiers (ADR 0019)
    Page("/rapprochements", "Rapprochements", "resolution", Action.RESOLVE_ENTITIES),
    # Federation tickets of the agency's leads, both sides, and the holder's answer (issue 16).
    Page("/federation", "Fédération", "federation", Action.WORK_LEADS,
         menu_setting="federation_enabled"),
    Page("/reunions", "Réunion CROSS", "meetings", Action.ATTEND_MEETINGS,
         settings_data=("cross_departement",)),
    Page("/administration", "Administration", "admin", None, consults=False,
         any_of=(Action.MANAGE_CONNECTORS, Action.LIST_GRANTS, Action.REVOKE_SESSIONS)),
    Page("/journal", "Journal d'audit", "audit", Action.READ_AUDIT, consults=False),
    # One's own TOTP second factor: enrol, verify the session (policies/second_factor.py).
    Page("/second-facteur", "Second facteur", "second_factor", None, consults=False),
)
# Pages reached from another (a lead, an entity, a timeline), not from the menu.
DETAIL_PAGES: tuple[Page, ...] = (
    Page("/pistes/{lead_id}", "Fiche de piste", "lead", None, in_menu=False),
    Page("/entites/{kind}/{key}", "Fiche d'entité", "entity", None, in_menu=False),
    Page("/chronologie", "Chronologie", "timeline", Action.RUN_ANALYSES, in_menu=False),
)


def _may(request: Request, principal: Principal, action: Action | None) -> bool:
    return action is None or permission(request.app.state.rulebook.policy, principal.role,
                                        action).allowed


def _may_open(request: Request, principal: Principal, page: Page) -> bool:
    if page.any_of:
        return any(_may(request, principal, a) for a in page.any_of)
    return _may(request, principal, page.action)


def _role_label(request: Request, role: str) -> str:
    for info in request.app.state.rulebook.policy.roles:
        if info.role.value == role:
            return info.label_fr
    return role


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


async def _principal(request: Request) -> Principal | None:
    """The signed-in user of this browser (its session cookie, read by the API's own
    ``get_caller``), or None. On a form post, a failed anti-CSRF check is raised (CsrfRefused),
    never taken for signed out."""
    if not request.cookies.get(SESSION_COOKIE):
        return None
    try:
        return await get_caller(request, request.app.state.graph, request.app.state.settings, None)
    except NotAuthenticated:
        return None


def _to_login(request: Request, *, expired: bool) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.cookies.get(REFRESHABLE_COOKIE):  # renew silently first (hub/routers/refresh.py)
        return RedirectResponse(REFRESH_PAGE + "?" + urlencode({"suite": target}),
                                status_code=303)
    query = {"suite": target}
    if expired:
        query["raison"] = "expiree"
    response = RedirectResponse("/connexion?" + urlencode(query), status_code=303)
    if expired:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _motif(request: Request) -> str | None:
    value = unquote(request.cookies.get(MOTIF_COOKIE) or "")
    if not value or control_chars_in(value):
        return None
    try:
        return require_justification(value)
    except CrossHubError:
        return None


def _context(request: Request, principal: Principal, **extra: Any) -> dict[str, Any]:
    claims = getattr(request.state, "access_claims", None)
    csrf = csrf_keys_for(request.app.state.settings.keys_dir).for_session(claims.sid) if claims else ""
    return {
        "user": principal,
        "agency_label": AGENCY_LABELS_FR.get(principal.agency, principal.agency),
        "role_label": _role_label(request, principal.role),
        "motif": _motif(request),
        "csrf_token": csrf,
        "csrf_field": CSRF_FIELD,
        "menu": [p for p in PAGES if p.in_menu and _may_open(request, principal, p)
                 and (p.menu_setting is None
                      or getattr(request.app.state.settings, p.menu_setting, False))],
        "current_path": request.url.path,
        **extra,
    }


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, template, context, status_code=status_code)


async def _page(request: Request, page: Page, **params: str) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login(request, expired=bool(request.cookies.get(SESSION_COOKIE)))
    if not _may_open(request, principal, page):
        return render(request, "refused.html", 403, **_context(request, principal, page=page))
    if page.consults and _motif(request) is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/motif?" + urlencode({"suite": target}), status_code=303)
    settings = request.app.state.settings
    data = {**{name.removeprefix("cross_"): str(getattr(settings, name))
               for name in page.settings_data}, **params}
    return render(request, "page.html", **_context(request, principal, page=page, params=data))


def _register(page: Page) -> None:
    async def view(request: Request) -> Response:
        return await _page(request, page, **{k: str(v) for k, v in request.path_params.items()})

    view.__name__ = f"page_{page.module}"
    router.add_api_route(page.path, view, methods=["GET"], response_class=HTMLResponse,
                         name=f"page:{page.module}")


for _page_def in (*PAGES, *DETAIL_PAGES):
    _register(_page_def)


# --- Sign in, sign out -------------------------------------------------------------------------

async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != _FORM:
        raise InvalidInput("formulaire attendu", details=[
            {"field": "Content-Type", "reason": f"{_FORM} attendu"}])
    body = (await request.body()).decode("utf-8", errors="replace")
    fields = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
    return fields


def _login_page(request: Request, *, status: int = 200, error: str | None = None,
                user_id: str = "", nonce: str | None = None) -> HTMLResponse:
    nonce = nonce or new_login_nonce()
    notice = {"expiree": "Votre session a expiré : reconnectez-vous pour reprendre là où vous "
                         "étiez.",
              "deconnecte": "Vous êtes déconnecté."}.get(request.query_params.get("raison", ""))
    from hub.auth.oidc import providers_of  # the agencies' OIDC providers

    response = render(request, "login.html", status, error=error, notice=notice, user_id=user_id,
                      providers=providers_of(request).providers,
                      suite=safe_next(request.query_params.get("suite")),
                      csrf_field=CSRF_FIELD,
                      csrf_token=csrf_keys_for(request.app.state.settings.keys_dir).for_login(nonce))
    response.set_cookie(LOGIN_COOKIE, nonce,
                        **cookie_args(_secure(request), max_age=LOGIN_NONCE_TTL_S))
    return response


@router.get("/connexion", response_class=HTMLResponse, name="web:login")
async def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/connexion", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    from pydantic import ValidationError

    from hub.routers import auth as auth_api

    form = await _form(request)
    user_id = form.get("user_id", "").strip()[:200]
    keys = csrf_keys_for(request.app.state.settings.keys_dir)
    if not keys.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get(CSRF_FIELD)):
        return _login_page(request, status=403, user_id=user_id, error=(
            "Le formulaire de connexion a expiré ou ne vient pas de cette page : "
            "recommencez la saisie."))
    try:
        body = auth_api.LoginRequest(user_id=user_id, password=form.get("password", ""))
    except ValidationError:
        return _login_page(request, status=422, user_id=user_id, error=(
            "Saisissez votre identifiant (service:nom) et votre mot de passe."))
    clock = request.app.dependency_overrides.get(auth_api.login_clock, auth_api.login_clock)()
    state = request.app.state
    try:
        issued = await auth_api.login(request, body, state.graph, state.settings, state.audit, clock)
    except TooManyRequests as exc:
        return _login_page(request, status=429, user_id=user_id, error=(
            "Trop de tentatives de connexion depuis ce poste : réessayez dans "
            f"{exc.retry_after_s} secondes."))
    except NotAuthenticated:
        return _login_page(request, status=401, user_id=user_id,
                           error="Identifiant ou mot de passe incorrect.")
    target = safe_next(form.get("suite"))
    response = RedirectResponse(target, status_code=303)
    set_session_cookies(response, secure=_secure(request), access_token=issued.access_token,
                        access_expires_at=issued.expires_at, refresh_token=issued.refresh_token,
                        session_expires_at=issued.session_expires_at or issued.expires_at,
                        now=clock())
    response.delete_cookie(LOGIN_COOKIE, path="/")
    return response


@router.post("/deconnexion", name="web:logout")
async def logout_submit(request: Request) -> Response:
    from hub.routers import auth as auth_api

    form = await _form(request)
    request.state.csrf_form_token = form.get(CSRF_FIELD)
    try:  # the anti-CSRF token is checked by get_caller (a mutation by cookie)
        principal = await _principal(request)
    except CrossHubError as exc:
        return HTMLResponse(_plain_refusal(exc.message), status_code=403)
    if principal is not None:
        state = request.app.state
        await auth_api.logout(request, principal, state.graph, state.audit)
    response = RedirectResponse("/connexion?raison=deconnecte", status_code=303)
    clear_session_cookies(response)
    response.delete_cookie(MOTIF_COOKIE, path="/")
    return response


# --- The motif of consultation -----------------------------------------------------------------

@router.get("/motif", response_class=HTMLResponse, name="web:motif")
async def motif_form(request: Request) -> Response:
    principal = await _principal(request)
    if principal is None:
        return _to_login(request, expired=bool(request.cookies.get(SESSION_COOKIE)))
    return render(request, "motif.html", **_context(
        request, principal, suite=safe_next(request.query_params.get("suite")), error=None,
        value=_motif(request) or "", min_length=MIN_JUSTIFICATION, max_length=MAX_JUSTIFICATION))


@router.post("/motif", response_class=HTMLResponse)
async def motif_submit(request: Request) -> Response:
    form = await _form(request)
    request.state.csrf_form_token = form.get(CSRF_FIELD)
    try:
        principal = await _principal(request)
    except CrossHubError as exc:
        return HTMLResponse(_plain_refusal(exc.message), status_code=403)
    if principal is None:
        return _to_login(request, expired=True)
    value = form.get("motif", "")
    suite = safe_next(form.get("suite"))
    error = None
    if control_chars_in(value):
        error = "Le motif contient un caractère de contrôle : saisissez-le à nouveau."
    elif len(value.strip()) < MIN_JUSTIFICATION:
        error = (f"Indiquez un motif d'au moins {MIN_JUSTIFICATION} caractères, par exemple un "
                 "numéro de procédure.")
    elif len(value) > MAX_JUSTIFICATION:
        error = f"Le motif dépasse {MAX_JUSTIFICATION} caractères."
    if error:
        return render(request, "motif.html", 422, **_context(
            request, principal, suite=suite, error=error, value=value[:MAX_JUSTIFICATION],
            min_length=MIN_JUSTIFICATION, max_length=MAX_JUSTIFICATION))
    response = RedirectResponse(suite, status_code=303)
    response.set_cookie(MOTIF_COOKIE, quote(value.strip(), safe=""), **cookie_args(_secure(request)))
    return response


def _plain_refusal(message: str) -> str:
    from html import escape

    return ("<!doctype html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Requête "
            f"refusée</title></head><body><main><h1>Requête refusée</h1><p>{escape(message)}</p>"
            "<p><a href=\"/\">Revenir à l'accueil</a></p></main></body></html>")

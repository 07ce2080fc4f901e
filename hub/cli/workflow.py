"""``crosshub workflow``: triage, lead lifecycle and deconfliction from a terminal, through the
hub's HTTP API.

The commands call the API with the caller's own token (``--token`` or ``CROSSHUB_TOKEN``), so
the caller's policy, roles and audit apply exactly as from the web; nothing here reads the graph.
Output is rich tables in French.

Commands: ``queue``, ``triage LEAD``, ``status LEAD STATE``, ``operations list``,
``operations add``, ``alerts`` (deconfliction and cross-agency links), ``ack ALERT``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.markup import escape
from rich.table import Table

from hub.cli.api import DEFAULT_URL, Justif, Token, Url, call, paris_time
from hub.cli.common import console

app = typer.Typer(help="Triage des pistes, suivi de leur état et déconfliction des opérations, "
                       "via l'API du hub.", no_args_is_help=True)
operations_app = typer.Typer(help="Opérations prévues de votre service.", no_args_is_help=True)
app.add_typer(operations_app, name="operations")

STATE_FR = {"new": "nouvelle", "under_assessment": "en cours d'évaluation", "assigned": "attribuée",
            "acted_on": "exploitée", "closed": "clôturée", "dismissed": "écartée"}


def make_client(url: str) -> httpx.Client:
    """The HTTP client of every command (tests swap it for the app's TestClient)."""
    return httpx.Client(base_url=url, timeout=60.0)


def _call(url: str, token: str, method: str, path: str, *, params: dict[str, Any] | None = None,
          body: dict[str, Any] | None = None) -> Any:
    return call(make_client(url), url, token, method, path, params=params, body=body)


def _lead_path(lead_id: str, tail: str) -> str:
    return f"/api/v1/leads/{quote(lead_id, safe=':')}/{tail}"


_when = paris_time


def _score_style(score: int | None) -> str:
    if score is None:
        return "—"
    colour = "green" if score >= 70 else "yellow" if score >= 40 else "red"
    return f"[{colour}]{score}[/]"


# --- triage -------------------------------------------------------------------------------------


@app.command("queue")
def queue(
    token: Token,
    state: Annotated[str, typer.Option(help="État des pistes (new, under_assessment, assigned…)")] = "new",
    order: Annotated[str, typer.Option(help="score, received ou updated")] = "score",
    agency: Annotated[str | None, typer.Option(help="Seulement les pistes de ce service")] = None,
    limit: Annotated[int, typer.Option(help="Nombre de pistes")] = 50,
    url: Url = DEFAULT_URL,
) -> None:
    """File de triage : les pistes à traiter, les plus précises d'abord."""
    items = _call(url, token, "GET", "/api/v1/triage/queue",
                  params={"state": state, "order": order, "agency": agency, "limit": limit})
    table = Table("Piste", "Service", "Nature", "Score", "Doublons", "Canal", "Commune", "Reçue",
                  title=f"Pistes « {STATE_FR.get(state, state)} » : {len(items)}")
    for i in items:
        table.add_row(escape(i["lead_id"]), i["agency"], i["kind"], _score_style(i.get("score")),
                      str(i.get("duplicate_count") or "") or "", i.get("channel") or "—",
                      i.get("insee_code") or "—", _when(i.get("received_at")))
    console.print(table)


@app.command("triage")
def triage(
    lead: Annotated[str, typer.Argument(help="Identifiant de la piste (service:référence)")],
    justification: Justif,
    token: Token,
    url: Url = DEFAULT_URL,
) -> None:
    """Score de précision d'une piste, avec ses raisons, et ses doublons probables."""
    view = _call(url, token, "GET", _lead_path(lead, "triage"), params={"justification": justification})
    console.print(f"[bold]{escape(view['lead_id'])}[/bold] — état : {STATE_FR.get(view['state'], view['state'])}"
                  f" — précision : {_score_style(view.get('score'))}/100", highlight=False)
    table = Table("Critère", "Points", "Raison")
    for c in (view.get("precision") or {}).get("criteria", []):
        mark = "[green]✓[/green]" if c["met"] else "[dim]–[/dim]"
        table.add_row(f"{mark} {c['label_fr']}", f"{c['points']}/{c['max_points']}", escape(c["reason_fr"]))
    console.print(table)
    if view.get("duplicates"):
        dups = Table("Piste antérieure", "Service", "Similarité", "Pourquoi", title="Doublons probables")
        for d in view["duplicates"]:
            why = ", ".join(d["reasons_fr"]) if d["access"] != "hit" else (
                f"hit — contacter {d['contact']}" if d.get("contact") else "hit")
            dups.add_row(escape(d["lead_id"]), d["agency"], f"{d['similarity']} %", escape(why))
        console.print(dups)
    else:
        console.print("Aucun doublon probable.")


@app.command("status")
def status(
    lead: Annotated[str, typer.Argument(help="Identifiant de la piste")],
    state: Annotated[str, typer.Argument(help="Nouvel état : under_assessment, assigned, acted_on, closed, dismissed")],
    expected: Annotated[str, typer.Option("--expected", help="État que vous avez vu (contrôle de concurrence)")],
    token: Token,
    outcome: Annotated[str | None, typer.Option(help="Issue pour clôturer : arrest, seizure, no_follow_up, transferred, other")] = None,
    reason: Annotated[str | None, typer.Option(help="Motif pour écarter : imprecise, duplicate, out_of_scope, malicious, other")] = None,
    assignee: Annotated[str | None, typer.Option("--assignee", help="Service attributaire (pour attribuer)")] = None,
    unit: Annotated[str | None, typer.Option(help="Unité attributaire (pour attribuer)")] = None,
    note: Annotated[str, typer.Option(help="Commentaire")] = "",
    url: Url = DEFAULT_URL,
) -> None:
    """Faire avancer une piste dans son cycle (code de sortie 4 si elle a changé entre-temps)."""
    body = {"expected_state": expected, "state": state, "outcome": outcome, "reason": reason,
            "assignee_agency": assignee, "unit": unit, "note": note}
    result = _call(url, token, "POST", _lead_path(lead, "status"),
                   body={k: v for k, v in body.items() if v is not None})
    extra = ""
    if result.get("assignee_agency"):
        extra = f" — attribuée à {result['assignee_agency']} / {result.get('unit') or '?'}"
    if result.get("outcome"):
        extra = f" — issue : {result['outcome']}"
    if result.get("reason"):
        extra = f" — motif : {result['reason']}"
    console.print(f"[green]{escape(result['lead_id'])}[/green] : {STATE_FR.get(expected, expected)} → "
                  f"[bold]{STATE_FR.get(result['state'], result['state'])}[/bold]{escape(extra)} "
                  f"(changement n° {result['seq']})", highlight=False)


# --- operations ---------------------------------------------------------------------------------


def _ops_table(ops: list[dict[str, Any]], title: str) -> Table:
    table = Table("Opération", "Nature", "Unité", "Début", "Fin", "Commune", "Cibles", title=title)
    for o in ops:
        table.add_row(escape(o.get("title") or o["operation_id"]), o["kind"], escape(o["unit"]),
                      _when(o["starts_at"]), _when(o["ends_at"]), o["place"]["insee_code"],
                      escape(", ".join(o.get("targets") or []) or "—"))
    return table


@operations_app.command("list")
def operations_list(
    justification: Justif,
    token: Token,
    past: Annotated[bool, typer.Option("--past", help="Inclure les opérations terminées")] = False,
    url: Url = DEFAULT_URL,
) -> None:
    """Les opérations déclarées par votre service."""
    ops = _call(url, token, "GET", "/api/v1/operations",
                params={"justification": justification, "include_past": past})
    console.print(_ops_table(ops, f"Opérations de mon service : {len(ops)}"))


def _iso(value: str, option: str) -> str:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"date invalide « {value} » (ISO 8601, p. ex. 2025-08-05T18:00:00+02:00)",
                                 param_hint=option) from None
    if parsed.tzinfo is None:
        parsed = parsed.astimezone()  # local time of the officer's machine
    return parsed.isoformat()


@operations_app.command("add")
def operations_add(
    kind: Annotated[str, typer.Option(help="surveillance, controlled_delivery, arrest ou search")],
    start: Annotated[str, typer.Option(help="Début (ISO 8601 ; heure locale si sans fuseau)")],
    end: Annotated[str, typer.Option(help="Fin (ISO 8601)")],
    insee: Annotated[str, typer.Option(help="Code INSEE de la commune")],
    unit: Annotated[str, typer.Option(help="Unité qui conduit l'opération")],
    token: Token,
    target: Annotated[list[str] | None, typer.Option(
        "--target", help="Cible « type:clé » (répétable), p. ex. vehicle:AB-123-CD")] = None,
    commune: Annotated[str | None, typer.Option(help="Nom de la commune")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude du lieu")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude du lieu")] = None,
    radius: Annotated[float, typer.Option(help="Rayon d'action (m)")] = 200,
    location_key: Annotated[str | None, typer.Option("--location-key", help="Clé de lieu du graphe")] = None,
    title: Annotated[str | None, typer.Option(help="Intitulé (jamais montré aux autres services)")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Déclarer une opération ; affiche les conflits qu'elle ouvre avec d'autres services."""
    if (lat is None) != (lon is None):
        raise typer.BadParameter("préciser --lat et --lon ensemble", param_hint="--lat/--lon")
    place: dict[str, Any] = {"insee_code": insee, "commune": commune, "radius_m": radius,
                             "location_key": location_key}
    if lat is not None:
        place["point"] = {"lat": lat, "lon": lon}
    body = {"kind": kind, "title": title, "unit": unit, "starts_at": _iso(start, "--start"),
            "ends_at": _iso(end, "--end"), "place": {k: v for k, v in place.items() if v is not None},
            "targets": target or []}
    result = _call(url, token, "POST", "/api/v1/operations", body={k: v for k, v in body.items() if v is not None})
    op = result["operation"]
    console.print(f"[green]Opération déclarée[/green] : {escape(op['operation_id'])}", highlight=False)
    if result["alerts"]:
        console.print(f"[bold red]{len(result['alerts'])} conflit(s) avec d'autres services — se coordonner "
                      "avant d'agir :[/bold red]")
        _deconfliction_table(result["alerts"])
    else:
        console.print("Aucun conflit avec les opérations déclarées par les autres services.")


# --- alerts -------------------------------------------------------------------------------------


def _deconfliction_table(alerts: list[dict[str, Any]]) -> None:
    table = Table("Alerte", "État", "Autre service", "Son opération", "Motifs", "Attendu de",
                  title="Déconfliction")
    for a in alerts:
        other = a["other_operation"]
        contact = f"\n{other['contact']}" if other.get("contact") else ""
        table.add_row(escape(a["alert_id"]), "ouverte" if a["status"] == "open" else "close",
                      escape(other["agency_label_fr"] + contact),
                      f"{other['kind_label_fr']}\n{_when(other['starts_at'])} → {_when(other['ends_at'])}",
                      escape("\n".join(a["reasons_fr"])), ", ".join(a["awaiting"]) or "—")
    console.print(table)


@app.command("alerts")
def alerts(
    justification: Justif,
    token: Token,
    all_: Annotated[bool, typer.Option("--all", help="Inclure les alertes de déconfliction closes")] = False,
    links: Annotated[bool, typer.Option("--links/--no-links", help="Afficher aussi les liens entre services")] = True,
    url: Url = DEFAULT_URL,
) -> None:
    """Alertes de déconfliction de votre service (ouvertes par défaut) et liens entre services."""
    decon = _call(url, token, "GET", "/api/v1/deconfliction/alerts",
                  params={"justification": justification, "open": not all_})
    if decon:
        _deconfliction_table(decon)
    else:
        console.print("Aucune alerte de déconfliction" + (" ouverte." if not all_ else "."))
    if not links:
        return
    link_alerts = _call(url, token, "GET", "/api/v1/link-alerts", params={"justification": justification})
    if not link_alerts:
        console.print("Aucun lien avec les pistes d'autres services.")
        return
    table = Table("Levée le", "Entité", "Mes pistes", "Message", title="Liens entre services")
    for a in link_alerts:
        table.add_row(_when(a["created_at"]), escape(f"{a['entity_kind']}:{a['entity_key']}"),
                      escape(", ".join(a["own_lead_ids"])), escape(a["message_fr"]))
    console.print(table)


@app.command("ack")
def ack(
    alert: Annotated[str, typer.Argument(help="Identifiant de l'alerte de déconfliction")],
    token: Token,
    note: Annotated[str, typer.Option(help="Ce qui a été convenu avec l'autre service")] = "",
    url: Url = DEFAULT_URL,
) -> None:
    """Acquitter une alerte de déconfliction au nom de votre service."""
    result = _call(url, token, "POST", f"/api/v1/deconfliction/alerts/{quote(alert, safe='')}/acknowledge",
                   body={"note": note})
    a = result["alert"]
    if not result["changed"]:
        console.print("Votre service avait déjà acquitté cette alerte.")
    if a["status"] == "closed":
        console.print(f"[green]Alerte {escape(a['alert_id'])} close[/green] : tous les services ont acquitté.",
                      highlight=False)
    else:
        console.print(f"Alerte {escape(a['alert_id'])} acquittée ; en attente de : {', '.join(a['awaiting'])}.",
                      highlight=False)

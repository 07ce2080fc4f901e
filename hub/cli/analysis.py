"""``crosshub analysis``: the linked-lead analyses from a terminal, through the hub's HTTP API.

The commands call the API with the caller's own token (``--token`` or ``CROSSHUB_TOKEN``), so
the caller's policy applies and every consultation is justified and audited exactly as from the
web; nothing here reads the graph directly. Output is rich tables in French.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import httpx
import typer
from rich.table import Table

from hub.cli.api import DEFAULT_URL, Justif, Token, Url, call, paris_time
from hub.cli.common import console

app = typer.Typer(help="Analyses des pistes liées (recherche, chemins, co-présence, points chauds, "
                       "chronologie, acteurs centraux) via l'API du hub.", no_args_is_help=True)

def make_client(url: str) -> httpx.Client:
    """The HTTP client of every command (tests swap it for the app's TestClient)."""
    return httpx.Client(base_url=url, timeout=120.0)


def _get(url: str, token: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    return call(make_client(url), url, token, "GET", path, params=params)


_when = paris_time


def _hits(hits: list[dict[str, Any]]) -> None:
    for h in hits:
        contact = f" — contact : {h['contact']}" if h.get("contact") else ""
        console.print(f"[yellow]Hit[/yellow] {h['entity']} : {h['lead_count']} piste(s) détenue(s) "
                      f"par {h['agency']}{contact}")


@app.command("search")
def search(
    q: Annotated[str, typer.Argument(help="Immatriculation, numéro, lieu ou texte")],
    justification: Justif,
    token: Token,
    kind: Annotated[str, typer.Option(help="plate, phone, place ou text")] = "plate",
    fuzzy: Annotated[str, typer.Option(help="Immatriculations approchées : off, confusable, any")] = "off",
    limit: Annotated[int, typer.Option(help="Nombre de résultats")] = 20,
    url: Url = DEFAULT_URL,
) -> None:
    """Rechercher une immatriculation, un téléphone, un lieu ou un texte."""
    body = _get(url, token, "/api/v1/search", {"q": q, "kind": kind, "fuzzy": fuzzy, "limit": limit,
                                               "justification": justification})
    if kind == "text":
        table = Table("piste", "service", "type", "score", "récit", title=f"Récits : « {q} »")
        for m in body["leads"]:
            props = m["lead"]["properties"]
            table.add_row(m["lead"]["key"], props.get("agency", ""), props.get("kind", ""),
                          f"{m['score']:.2f}", (props.get("narrative") or "")[:80])
    else:
        table = Table("entité", "correspondance", "pistes", "vue en dernier", "motif", "hits",
                      title=f"Recherche : « {q} »")
        for m in body["entities"]:
            hits = ", ".join(f"{h['agency']} ({h['lead_count']})" for h in m["hits"])
            table.add_row(m["node"]["label"], m["match"], str(m["lead_count"]),
                          _when(m["last_seen"]), m.get("reason") or "", hits)
    console.print(table)
    if body.get("truncated"):
        console.print("[yellow]Résultats tronqués : préciser la recherche.[/yellow]")


@app.command("paths")
def paths(
    from_kind: Annotated[str, typer.Argument(help="Type de départ (vehicle, person, phone...)")],
    from_key: Annotated[str, typer.Argument(help="Clé de départ")],
    to_kind: Annotated[str, typer.Argument(help="Type d'arrivée")],
    to_key: Annotated[str, typer.Argument(help="Clé d'arrivée")],
    justification: Justif,
    token: Token,
    max_hops: Annotated[int, typer.Option(help="Pistes au plus le long du chemin")] = 4,
    time_ordered: Annotated[bool, typer.Option(help="Respecter l'ordre chronologique")] = False,
    max_gap_hours: Annotated[float | None, typer.Option(help="Écart maximal entre pistes (h)")] = None,
    limit: Annotated[int, typer.Option(help="Chemins rendus")] = 3,
    url: Url = DEFAULT_URL,
) -> None:
    """Plus courts chemins entre deux entités, à travers les pistes consultables."""
    body = _get(url, token, "/api/v1/analysis/paths", {
        "from_kind": from_kind, "from_key": from_key, "to_kind": to_kind, "to_key": to_key,
        "max_hops": max_hops, "time_ordered": time_ordered, "max_gap_hours": max_gap_hours,
        "limit": limit, "justification": justification})
    if not body["paths"]:
        console.print(f"Aucun chemin de {body['source']} à {body['target']} en {max_hops} saut(s) "
                      "au plus.")
    for n, path in enumerate(body["paths"], start=1):
        table = Table("étape", "nœud", "détail",
                      title=f"Chemin {n} — {path['hops']} saut(s), de {_when(path['first_at'])} "
                            f"à {_when(path['last_at'])}")
        for i, node in enumerate(path["nodes"]):
            detail = _when(node["properties"].get("observed_at") or node["properties"].get("reported_at")) \
                if node["kind"] == "lead" else node["kind"]
            table.add_row(str(i), node["label"], detail)
        console.print(table)
    if body.get("truncated"):
        console.print("[yellow]Exploration tronquée à sa borne : réduire max_hops.[/yellow]")


@app.command("copresence")
def copresence(
    since: Annotated[str, typer.Option(help="Début (ISO 8601, heure de Paris par défaut)")],
    until: Annotated[str, typer.Option(help="Fin (exclue)")],
    justification: Justif,
    token: Token,
    insee: Annotated[str | None, typer.Option(help="Code INSEE de la commune")] = None,
    location_key: Annotated[str | None, typer.Option(help="Clé d'un lieu")] = None,
    lat: Annotated[float | None, typer.Option(help="Latitude du centre")] = None,
    lon: Annotated[float | None, typer.Option(help="Longitude du centre")] = None,
    radius_m: Annotated[float | None, typer.Option(help="Rayon (m)")] = None,
    window_min: Annotated[int, typer.Option(help="Fenêtre (minutes)")] = 30,
    fuzzy_plates: Annotated[bool, typer.Option(help="Rapprocher les plaques mal lues")] = True,
    url: Url = DEFAULT_URL,
) -> None:
    """Entités vues au même lieu à moins de window_min minutes d'écart."""
    body = _get(url, token, "/api/v1/analysis/copresence", {
        "since": since, "until": until, "insee": insee, "location_key": location_key, "lat": lat,
        "lon": lon, "radius_m": radius_m, "window_min": window_min,
        "fuzzy_plates": fuzzy_plates, "justification": justification})
    table = Table("entité A", "entité B", "relation", "fois", "écart min (min)", "première",
                  title=f"Co-présence — {body['place']}")
    for p in body["pairs"]:
        relation = "même véhicule probable" if p["relation"] == "plate_variant" else "co-présence"
        table.add_row(p["a"]["label"], p["b"]["label"], relation, str(p["occurrences"]),
                      f"{p['min_gap_minutes']:g}", _when(p["first_at"]))
    console.print(table)
    _hits(body["hits"])


@app.command("hotspots")
def hotspots(
    token: Token,
    departement: Annotated[str | None, typer.Option(help="Département (« tous » : France)")] = None,
    days: Annotated[int, typer.Option(help="Période récente (jours)")] = 30,
    compare_days: Annotated[int | None, typer.Option(help="Période de comparaison (jours)")] = None,
    limit: Annotated[int, typer.Option(help="Lignes par tableau")] = 20,
    as_of: Annotated[str | None, typer.Option(help="Fin de la période récente (ISO 8601)")] = None,
    url: Url = DEFAULT_URL,
) -> None:
    """Lieux et communes classés par pistes récentes, avec la tendance."""
    body = _get(url, token, "/api/v1/analysis/hotspots", {
        "departement": departement, "days": days, "compare_days": compare_days, "limit": limit,
        "as_of": as_of})
    arrows = {"up": "↑ hausse", "down": "↓ baisse", "flat": "→ stable", "new": "★ nouveau"}
    for title, rows in (("Lieux", body["places"]), ("Communes", body["communes"])):
        table = Table("rang", "nom", "récentes", "précédentes", "variation", "tendance",
                      title=f"{title} — du {_when(body['recent_from'])} au {_when(body['recent_to'])}")
        for i, e in enumerate(rows, start=1):
            change = f"{e['change_pct']:+.0f} %" if e["change_pct"] is not None else "—"
            table.add_row(str(i), e["label"], str(e["recent"]), str(e["previous"]), change,
                          arrows[e["trend"]])
        console.print(table)


@app.command("timeline")
def timeline(
    kind: Annotated[str, typer.Argument(help="Type d'entité (vehicle, person, phone...)")],
    key: Annotated[str, typer.Argument(help="Clé de l'entité")],
    justification: Justif,
    token: Token,
    limit: Annotated[int, typer.Option(help="Pistes rendues (les plus récentes)")] = 200,
    url: Url = DEFAULT_URL,
) -> None:
    """Chronologie des pistes qui citent une entité."""
    body = _get(url, token, f"/api/v1/entities/{quote(kind, safe='')}/{quote(key, safe='')}/timeline",
                {"limit": limit, "justification": justification})
    table = Table("date", "piste", "service", "lien", "rôle", "lieu",
                  title=f"Chronologie — {body['entity']['label']}")
    for e in body["entries"]:
        props = e["lead"]["properties"]
        table.add_row(_when(e["at"]), e["lead"]["key"], props.get("agency", ""), e["relation"],
                      e.get("role") or "", e.get("place") or "")
    console.print(table)
    _hits(body["hits"])
    if body.get("truncated"):
        console.print(f"[yellow]Seules les {limit} pistes les plus récentes sont affichées.[/yellow]")


@app.command("central")
def central(
    kind: Annotated[str, typer.Argument(help="Type d'entité")],
    key: Annotated[str, typer.Argument(help="Clé de l'entité")],
    justification: Justif,
    token: Token,
    depth: Annotated[int, typer.Option(help="Sauts de piste (1 à 3)")] = 2,
    limit: Annotated[int, typer.Option(help="Acteurs rendus")] = 10,
    url: Url = DEFAULT_URL,
) -> None:
    """Acteurs centraux (intermédiarité, degré) du voisinage d'une entité."""
    body = _get(url, token, "/api/v1/analysis/central", {
        "kind": kind, "key": key, "depth": depth, "limit": limit, "justification": justification})
    table = Table("rang", "acteur", "type", "intermédiarité", "degré",
                  title=f"Acteurs centraux — {body['node_count']} nœuds, {body['edge_count']} liens")
    for a in body["actors"]:
        table.add_row(str(a["rank"]), a["node"]["label"], a["node"]["kind"],
                      f"{a['betweenness']:.3f}", str(a["degree"]))
    console.print(table)
    _hits(body["hits"])

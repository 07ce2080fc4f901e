"""``crosshub dev --federation N``: N demo CROSS (Doubs, Jura, Haute-Saône…) and an OFAST antenna on
this machine (hub/dev/federation.py), with demo data that crosses borders, demo users on each
hub, and a querier round of every hub at start and every few minutes.

Doubs holds the usual demo story (connectors/demo/story). Jura and Haute-Saône hold a few leads
of their own along the A36/N57 and the Swiss border that name some of Doubs's plates and phones
— customs at Morez, gendarmerie at Dole, police at Vesoul — at several handling codes, so the
demo shows hits, a lead that never federates (H3) and a deadline to meet.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hub.cli.common import console, enrol_demo_approvers, print_second_factors

MEMBERS = ("cross-25", "cross-39", "cross-70", "cross-90", "cross-21")
# Places of the neighbours' demo leads: (INSEE code, commune, lat, lon).
PLACES = {
    "cross-39": [("39198", "Dole", 47.0920, 5.4900), ("39368", "Morez", 46.5220, 6.0250),
                 ("39300", "Lons-le-Saunier", 46.6740, 5.5550)],
    "cross-70": [("70550", "Vesoul", 47.6220, 6.1550), ("70310", "Lure", 47.6830, 6.4970),
                 ("70285", "Héricourt", 47.5780, 6.7620)],
    "cross-90": [("90010", "Belfort", 47.6380, 6.8630)],
    "cross-21": [("21231", "Dijon", 47.3220, 5.0410)],
}
AGENCY_CODES = [("douanes", "H0"), ("gendarmerie", "H1"), ("police", "H0"), ("douanes", "H2"),
                ("gendarmerie", "H3")]
NARRATIVES = [
    "Contrôle routier à la sortie de l'autoroute, véhicule déjà signalé pour des allers-retours "
    "vers la Suisse.",
    "Renseignement de voisinage : livraisons nocturnes dans un garage loué.",
    "Surveillance d'un point de revente, va-et-vient en soirée.",
]


def neighbour_leads(member: str, doubs: list, seed: int) -> list:
    """A dozen leads of ``member`` naming plates and phones that Doubs's demo leads name."""
    import random

    from hub.contract.lead import Lead

    rng = random.Random(f"{seed}:{member}")
    plates = sorted({v.plate for lead in doubs for v in lead.vehicles if v.plate})
    phones = sorted({p for lead in doubs for p in lead.phones})
    out = []
    for i in range(12):
        agency, code = AGENCY_CODES[i % len(AGENCY_CODES)]
        insee, commune, lat, lon = PLACES[member][i % len(PLACES[member])]
        observed = datetime.now(UTC) - timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 23))
        payload = {
            "source_agency": agency, "source_ref": f"{member.upper()}-DEMO-{i:03d}", "version": 1,
            "kind": "field_intelligence", "channel": "patrol",
            "observed_at": observed.isoformat(), "reported_at": (observed + timedelta(hours=9)).isoformat(),
            "location": {"insee_code": insee, "commune": commune,
                         "point": {"lat": lat + rng.uniform(-0.01, 0.01),
                                   "lon": lon + rng.uniform(-0.01, 0.01)}},
            "narrative": NARRATIVES[i % len(NARRATIVES)], "handling_code": code,
            "source_reliability": "B", "information_credibility": "2",
        }
        if plates and i % 3 != 2:
            payload["vehicles"] = [{"plate": rng.choice(plates)}]
        if phones and i % 3 != 0:
            payload["phones"] = [rng.choice(phones)]
        out.append(Lead.model_validate(payload))
    return out


def _users(settings, graph) -> list[tuple[str, str]]:
    from graph import identity
    from graph import sessions as graph_sessions
    from hub.cli.common import DEMO_AGENCIES, DEMO_ROLES
    from policies.auth import passwords

    made = []
    for agency in DEMO_AGENCIES:
        for role in DEMO_ROLES:
            user = identity.upsert_user(graph, agency=agency, role=role, name=f"demo-{role}",
                                        contact=f"Permanence {settings.federation_cross_id} — {agency}")
            password = secrets.token_urlsafe(12)
            graph_sessions.set_password_hash(graph, user.user_id, passwords.hash_password(password))
            made.append((user.user_id, password))
    return made


def run_federation_demo(n: int, *, leads: int, seed: int, base_dir: Path,
                        round_every_s: float = 300) -> None:
    from connectors.demo.story import generate_demo_leads
    from graph.driver import open_driver
    from graph.handle import Graph
    from graph.leads import write_leads
    from hub.dev.federation import DevFederation

    members = MEMBERS[:n]
    base_dir.mkdir(parents=True, exist_ok=True)
    run_dir = base_dir / datetime.now(UTC).strftime("run-%Y%m%dT%H%M%S")
    fed = DevFederation(run_dir, members, log_level="warning", heap="384m")
    with console.status(f"Démarrage de {n} CROSS (un Neo4j chacun) et de l'antenne…"):
        fed.start()
    try:
        doubs = generate_demo_leads(seed=seed, n=leads)
        people: dict[str, list[tuple[str, str]]] = {}
        second_factors: dict[str, list[tuple[str, str, str]]] = {}
        for member in members:
            settings = fed.hubs[member].settings
            driver = open_driver(settings.graph_config)
            try:
                graph = Graph(driver, settings.neo4j_database)
                batch = doubs if member == "cross-25" else neighbour_leads(member, doubs, seed)
                for start in range(0, len(batch), 200):
                    write_leads(graph, batch[start:start + 200], mark_for_triage=True)
                people[member] = _users(settings, graph)
                second_factors[member] = enrol_demo_approvers(settings, graph,
                                                              [uid for uid, _ in people[member]])
            finally:
                driver.close()
        _rounds(fed)
        for member in members:
            h = fed.hubs[member]
            console.print(f"[bold]{member}[/bold] — application web {h.api_url} "
                          f"(écoute de fédération {h.peer_url}, TLS mutuel)")
            for uid, password in people[member]:
                print(f"  {uid:<34} {password}")
            print_second_factors(second_factors[member])
        console.print(f"Antenne : {fed.antenna_url}/rollup.html (certificat client de la "
                      f"fédération : {fed.pki_dir}) ; journaux : {run_dir / 'logs'}")
        console.print("Ctrl-C pour tout arrêter.")
        while True:
            time.sleep(round_every_s)
            _rounds(fed)
    except KeyboardInterrupt:
        pass
    finally:
        import signal

        # A second Ctrl-C must not cut the stop short: the processes run in their own sessions
        # and would outlive this one.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        with console.status("Arrêt de la fédération…"):
            fed.stop()


def _rounds(fed) -> None:
    from hub.contract.errors import ConfigurationError

    for member in fed.members:
        try:
            result = fed.run_round(member)
        except ConfigurationError as exc:
            console.print(f"Tour de fédération de {member} : [red]échec[/red] {exc.message}")
            continue
        new = sum(p.get("new_tickets", 0) for p in result.get("peers", {}).values())
        console.print(f"Tour de fédération de {member} : [green]ok[/green], {new} nouveau(x) "
                      "ticket(s)")

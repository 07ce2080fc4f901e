"""Demo data through the real connectors: each connector's sample source (police CSV exports,
the gendarmerie feed on its stand-in server, customs XML reports, the citizens' platform JSON
lines) is written under a work directory and read by the connector itself, which pushes to a
running hub over HTTP — the same path as production, signatures and outbox included.

This module owns no identity: connectors never touch the graph, so the caller registers each
connector's public key and issues its token at the hub first (``graph.identity`` or
``crosshub connectors register``) and passes them in ``credentials``. ``DEMO_CONNECTORS`` says
under which agency each one must be registered.

Persons are pseudonymized under the public demo linkage key of ``connectors.demo.story``, so the
connectors' leads and the generated demo leads share one pseudonym space.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from connectors.base import Connector, RunRecord
from connectors.citizen.connector import CitizenConnector, CitizenSettings
from connectors.demo.gendarmerie_feed import RecordStore, StandIn, serve_in_thread
from connectors.demo.sources.citizen import write_samples as write_citizen
from connectors.demo.sources.douanes import write_samples as write_douanes
from connectors.demo.sources.gendarmerie import write_samples as write_gendarmerie
from connectors.demo.sources.police import write_samples as write_police
from connectors.demo.story.model import DEMO_KEY_ID, DEMO_KEY_SECRET
from connectors.douanes.connector import DouanesConnector, DouanesSettings
from connectors.gendarmerie.connector import GendarmerieConnector, GendarmerieSettings
from connectors.police.connector import PoliceConnector, PoliceSettings
from hub.contract.errors import ConfigurationError

# Connector name → the agency its key and token must be registered under at the hub. The
# citizens' platform is run here as the police's deployment.
DEMO_CONNECTORS: dict[str, str] = {
    "police": "police", "gendarmerie": "gendarmerie", "douanes": "douanes", "citizen": "police",
}
# Source records written per connector (each sample set adds its malformed records on top).
DEFAULT_SIZES: dict[str, int] = {"police": 40, "gendarmerie": 60, "douanes": 30, "citizen": 40}

Credentials = tuple[str, Path]  # (API token, path of the Ed25519 private key)
Progress = Callable[[str, RunRecord], None]


def _settings(name: str, hub_url: str, creds: Credentials, work_dir: Path) -> dict[str, Any]:
    token, key_path = creds
    return {
        "hub_url": hub_url, "hub_token": SecretStr(token), "agency": DEMO_CONNECTORS[name],
        "state_dir": str(work_dir / name / "state"), "signing_key_path": str(key_path),
        "linkage_key_id": DEMO_KEY_ID, "linkage_key": SecretStr(DEMO_KEY_SECRET),
        "schedule_interval_s": None,
    }


def run_demo_connectors(
    hub_url: str,
    credentials: Mapping[str, Credentials],
    work_dir: Path | str,
    seed: int = 2025,
    *,
    sizes: Mapping[str, int] | None = None,
    on_run: Progress | None = None,
) -> dict[str, RunRecord]:
    """Write each named connector's sample source under ``work_dir/<name>/source`` and run the
    connector once against ``hub_url`` from a fresh state (``work_dir/<name>/state``); return its
    run record by name (``on_run`` is called after each run). Only the connectors named in
    ``credentials`` run.

    ``work_dir/<name>/`` is wiped first: a demo load always sends every sample lead, so it fills a
    graph that was just reset, and loading twice is harmless because the hub's ingest is
    idempotent (the second load comes back « unchanged »). Keep the keys elsewhere. Raises
    ``ConfigurationError`` for an unknown connector name or a missing key file; a source, hub or
    record failure is in the run record, never raised."""
    unknown = sorted(set(credentials) - set(DEMO_CONNECTORS))
    if unknown:
        raise ConfigurationError(f"connecteur(s) de démonstration inconnu(s) : {', '.join(unknown)} "
                                 f"(connus : {', '.join(DEMO_CONNECTORS)})")
    for name, (_, key_path) in credentials.items():
        if not Path(key_path).is_file():
            raise ConfigurationError(f"clé de signature du connecteur « {name} » introuvable : {key_path}")
    work = Path(work_dir)
    n = {**DEFAULT_SIZES, **(sizes or {})}
    records: dict[str, RunRecord] = {}

    def run(name: str, connector: Connector[Any]) -> None:
        records[name] = connector.run()
        if on_run is not None:
            on_run(name, records[name])

    for name in DEMO_CONNECTORS:  # a fixed order: same seed, same graph
        creds = credentials.get(name)
        if creds is None:
            continue
        # A stale cursor would skip the freshly written samples: start over.
        shutil.rmtree(work / name, ignore_errors=True)
        common = _settings(name, hub_url, creds, work)
        source = work / name / "source"
        if name == "police":
            write_police(source, seed=seed, n=n[name])
            run(name, PoliceConnector(PoliceSettings(**common, inbox_dir=source, settle_s=0)))
        elif name == "douanes":
            write_douanes(source, seed=seed, n=n[name])
            run(name, DouanesConnector(DouanesSettings(**common, reports_dir=source, settle_s=0)))
        elif name == "citizen":
            write_citizen(source, seed=seed, n=n[name])
            run(name, CitizenConnector(CitizenSettings(**common, export_dir=source)))
        elif name == "gendarmerie":
            # The feed is served for the run only, from memory, on a free loopback port.
            store = RecordStore()
            write_gendarmerie(store, seed=seed, n=n[name])
            with serve_in_thread(StandIn(store).app) as base_url:
                run(name, GendarmerieConnector(GendarmerieSettings(**common, base_url=base_url)))
    return records

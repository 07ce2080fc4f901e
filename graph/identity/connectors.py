"""What the graph keeps of connectors: their public signing keys, the request nonces already seen
(a replay is refused atomically across hub processes by the uniqueness of ``Nonce.value``), and
their run records.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j

from graph.handle import Graph
from graph.identity.models import ConnectorKey
from graph.records import plain
from hub.contract.errors import Conflict, ReplayDetected


def register_connector_key(graph: Graph, key: ConnectorKey) -> ConnectorKey:
    records = graph.query(
        "MERGE (k:ConnectorKey {key_id: $key_id}) "
        "ON CREATE SET k.connector = $connector, k.agency = $agency, k.public_key_pem = $pem, "
        "              k.registered_at = datetime() "
        "RETURN k {.*} AS k",
        key_id=key.key_id, connector=key.connector, agency=key.agency, pem=key.public_key_pem,
    )
    stored = records[0]["k"]
    if stored["connector"] != key.connector or stored["agency"] != key.agency:
        raise Conflict(f"clé {key.key_id} déjà enregistrée pour un autre connecteur")
    return ConnectorKey(key_id=stored["key_id"], connector=stored["connector"],
                        agency=stored["agency"], public_key_pem=stored["public_key_pem"])


def get_connector_key(graph: Graph, key_id: str) -> ConnectorKey | None:
    records = graph.query(
        "MATCH (k:ConnectorKey {key_id: $key_id}) WHERE k.revoked_at IS NULL RETURN k {.*} AS k",
        key_id=key_id, read_=True,
    )
    if not records:
        return None
    k = records[0]["k"]
    return ConnectorKey(key_id=k["key_id"], connector=k["connector"], agency=k["agency"],
                        public_key_pem=k["public_key_pem"])


def consume_nonce(graph: Graph, nonce: str, key_id: str,
                  keep_for: timedelta) -> None:
    """Record a request nonce; raise ReplayDetected if it was seen. The uniqueness constraint on
    Nonce.value makes this atomic across hub processes. Nonces older than ``keep_for`` (beyond
    the accepted clock skew, so a replay would be refused as stale anyway) are purged."""
    try:
        graph.query(
            "CREATE (:Nonce {value: $value, key_id: $key_id, seen_at: datetime()})",
            value=nonce, key_id=key_id,
        )
    except neo4j.exceptions.ConstraintError as exc:
        raise ReplayDetected("requête rejouée : nonce déjà utilisé",
                             details=[{"field": "X-CrossHub-Nonce", "reason": "déjà utilisé"}]) from exc
    if secrets.randbelow(100) == 0:  # amortized purge
        graph.query(
            "MATCH (n:Nonce) WHERE n.seen_at < $before WITH n LIMIT 10000 DELETE n",
            before=datetime.now(UTC) - keep_for,
        )


# --- connector runs --------------------------------------------------------------------------------


def record_connector_run(graph: Graph, connector: str, agency: str,
                         run: dict[str, Any]) -> None:
    # Keyed by connector and run id; the run's own fields are stored as they came (nulls are
    # not stored by Neo4j and come back as null through the record model).
    props = {k: v for k, v in run.items() if k not in {"run_id", "connector", "agency"}}
    graph.query(
        "MERGE (r:ConnectorRun {run_id: $key}) "
        "SET r += $props, r.connector = $connector, r.agency = $agency, r.source_run_id = $run_id, "
        "    r.received_at = datetime()",
        key=f"{connector}:{run['run_id']}", run_id=run["run_id"], props=props,
        connector=connector, agency=agency,
    )


def connector_runs(graph: Graph, per_connector: int = 5) -> list[dict[str, Any]]:
    """Each connector's last runs, newest first, as ``RunRecord`` fields."""
    records = graph.query(
        "MATCH (r:ConnectorRun) WITH r ORDER BY r.received_at DESC "
        "WITH r.connector AS connector, collect(r {.*, run_id: r.source_run_id})[..$n] AS runs "
        "RETURN connector, runs ORDER BY connector",
        n=per_connector, read_=True,
    )
    return [{"connector": r["connector"], "runs": [plain(x) for x in r["runs"]]} for r in records]

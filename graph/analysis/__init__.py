"""Linked-lead analysis: search, shortest paths, co-presence, hotspots, timelines and central
actors — one module each, all reading through the caller's ``AccessFilter``.

Shared rules (see each module for its own):

- leads the caller may not read are never used: no path passes through one, no pair, count or
  order is derived from one; leads at ``hit`` level surface only as hit counts per agency, the
  way ``graph.read.network`` shows them;
- lead properties come only through ``AccessFilter.projection()``; a lead's times are used to
  order, window or count only when its level may read them, its narrative is searched only when
  its level may read it;
- every read is one read transaction bounded in time (``QUERY_TIMEOUT_S``); parameters are
  bounded by the constants of ``models`` (beyond → 422 naming the field), and the work of a
  search is bounded too (past it the answer says ``truncated``).

Public API: ``search``, ``shortest_paths``, ``copresence``, ``hotspots``, ``timeline``,
``central_actors``, ``betweenness``, ``map_layers`` (the département map as GeoJSON), and the
models of ``graph.analysis.models``.
"""

from __future__ import annotations

from graph.analysis.central import betweenness, central_actors
from graph.analysis.copresence import copresence
from graph.analysis.geo import map_layers
from graph.analysis.hotspots import hotspots
from graph.analysis.paths import shortest_paths
from graph.analysis.search import FULLTEXT_INDEX, search
from graph.analysis.timeline import timeline

# Applied at start-up by graph/setup.py (MODULE_SCHEMAS). The french analyzer (Lucene's
# FrenchAnalyzer: elision, stop words, light stemming) is listed by
# db.index.fulltext.listAvailableAnalyzers() in Neo4j 5.26.
SCHEMA: list[str] = [
    (f"CREATE FULLTEXT INDEX {FULLTEXT_INDEX} IF NOT EXISTS FOR (n:Lead) ON EACH [n.narrative] "
     "OPTIONS {indexConfig: {`fulltext.analyzer`: 'french'}}"),
    # Time ranges without a département (hotspots): observed_at, else reported_at (indexed by
    # the numbered migrations).
    "CREATE INDEX lead_observed_at IF NOT EXISTS FOR (n:Lead) ON (n.observed_at)",
    # Partial plate, phone and place searches (CONTAINS) through trigram text indexes.
    "CREATE TEXT INDEX vehicle_plate_text IF NOT EXISTS FOR (n:Vehicle) ON (n.plate)",
    "CREATE TEXT INDEX phone_number_text IF NOT EXISTS FOR (n:Phone) ON (n.number)",
    "CREATE TEXT INDEX location_key_text IF NOT EXISTS FOR (n:Location) ON (n.key)",
    "CREATE TEXT INDEX deal_point_key_text IF NOT EXISTS FOR (n:DealPoint) ON (n.key)",
    # Hotspots of one département start from its communes.
    "CREATE INDEX commune_departement IF NOT EXISTS FOR (n:Commune) ON (n.departement)",
]

__all__ = [
    "SCHEMA", "betweenness", "central_actors", "copresence", "hotspots", "map_layers", "search",
    "shortest_paths", "timeline",
]

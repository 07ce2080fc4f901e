"""Search: plates (exact, partial, fuzzy), phones (exact, partial), places (communes, Locations,
deal points) and full text over sanitized narratives.

Entities come back with what the caller may know of them: the number of leads they may read
that cite the entity and when it was last seen in those, plus hit counts per agency for leads
they may only know exist. An entity known only through leads the caller may not even know of is
not returned — its existence alone would disclose them. One known only through hit-level leads
is returned only for the exact key the caller typed, as that key and its hits (no property): a
partial or approximate match would hand out a key only those leads hold (ADR 0002, "Amendment:
entity marking").

Full text runs on the ``lead_narrative`` index and matches only leads whose access level may
read ``narrative``: a lead whose narrative is withheld is never matched and never counted, since
a count of hidden matches would leak the hidden text.
"""

from __future__ import annotations

import re
from typing import Any

import neo4j

from graph.access import HIT, AccessFilter
from graph.analysis import plates
from graph.analysis._common import (
    LEAD_TIME,
    access_params,
    as_utc,
    entity_node,
    hit_counter,
    hits_of,
    lead_node,
    run_read,
)
from graph.analysis.models import (
    EntityMatch,
    FuzzyMode,
    LeadMatch,
    SearchKind,
    SearchParams,
    SearchResult,
)
from graph.handle import Graph
from graph.labels import EntityKind
from hub.contract.errors import InvalidInput
from hub.contract.normalize import (
    INSEE_CODE,
    normalize_foreign_plate,
    normalize_phone,
    normalize_plate,
    place_key,
)

FULLTEXT_INDEX = "lead_narrative"
MIN_PARTIAL = 3  # characters of a partial plate, phone or place: fewer would match too much
MAX_PARTIAL_CANDIDATES = 1000  # entities a partial search considers before ranking
MAX_TEXT_TERMS = 20

# Lead → entity links through which an entity is "cited" by a lead.
CITED_BY = "AT|MENTIONS_VEHICLE|INVOLVES|MENTIONS_PHONE|CONCERNS"

# Accent folding for commune names in Cypher (names are stored as written: « Besançon »).
_FOLD = {"é": "e", "è": "e", "ê": "e", "ë": "e", "à": "a", "â": "a", "ä": "a", "î": "i", "ï": "i",
         "ô": "o", "ö": "o", "ù": "u", "û": "u", "ü": "u", "ç": "c", "œ": "oe", "-": " ", "'": " "}


def _folded(expr: str) -> str:
    out = f"toLower({expr})"
    for a, b in _FOLD.items():
        out = f'replace({out}, "{a}", "{b}")'
    return out


def search(graph: Graph, access: AccessFilter,
           params: SearchParams) -> SearchResult:
    if params.kind is SearchKind.TEXT:
        return _search_text(graph, access, params)
    exact, fuzzy, partial = _candidates(params)

    def work(tx: neo4j.ManagedTransaction) -> SearchResult:
        found: dict[str, tuple[str, str | None, int]] = {}  # eid -> (match, reason, steps)
        for eid in _lookup_exact(tx, params.kind, exact):
            found[eid] = ("exact", None, 0)
        if fuzzy:
            for eid, plate in _lookup_exact_with_key(tx, list(fuzzy)):
                found.setdefault(eid, ("fuzzy", fuzzy[plate].reason, fuzzy[plate].steps))
        truncated = False
        if partial is not None:
            eids = _lookup_partial(tx, params.kind, partial)
            truncated = len(eids) >= MAX_PARTIAL_CANDIDATES
            for eid in eids:
                found.setdefault(eid, ("partial", None, 3))
        ranked = _summaries(tx, access, found)
        ranked.sort(key=lambda x: (x[0], -x[1].lead_count,
                                   -(x[1].last_seen.timestamp() if x[1].last_seen else 0),
                                   x[1].node.key))
        matches = [m for _, m in ranked]
        truncated = truncated or len(matches) > params.limit
        return SearchResult(q=params.q, kind=params.kind, entities=matches[: params.limit],
                            truncated=truncated)

    return run_read(graph, work, field="q")


# --- candidates ----------------------------------------------------------------------------------


def _bad_q(reason: str) -> InvalidInput:
    return InvalidInput("recherche invalide", details=[{"field": "q", "reason": reason}])


def _candidates(params: SearchParams) -> tuple[list[str], dict[str, plates.Candidate], str | None]:
    """(exact keys, fuzzy plate → reason, partial fragment) for an entity search."""
    q = params.q.strip()
    if params.kind is SearchKind.PLATE:
        foreign = re.match(r"^([A-Za-z]{2})\s*:\s*(.+)$", q)
        if foreign:
            try:
                return [normalize_foreign_plate(foreign.group(2), foreign.group(1).upper())], {}, None
            except ValueError as exc:
                raise _bad_q(str(exc)) from exc
        if params.fuzzy is FuzzyMode.OFF:
            try:
                exact, fuzzy = normalize_plate(q), {}
            except ValueError:
                exact, fuzzy = None, {}
        else:
            exact, fuzzy = plates.candidates(q, params.fuzzy.value)
        if exact is not None:
            return [exact], fuzzy, None
        if fuzzy:
            return [], fuzzy, None
        fragment = plates.compact(q)
        if len(fragment) < MIN_PARTIAL or not fragment.isalnum():
            raise _bad_q(f"immatriculation ou fragment d'au moins {MIN_PARTIAL} lettres ou chiffres")
        return [], {}, plates.dashed_fragment(q)
    if params.kind is SearchKind.PHONE:
        try:
            return [normalize_phone(q)], {}, None
        except ValueError:
            pass
        digits = re.sub(r"\D", "", q)
        if len(digits) < MIN_PARTIAL + 1:
            raise _bad_q(f"numéro ou fragment d'au moins {MIN_PARTIAL + 1} chiffres")
        # A national prefix typed as such ("0612") is "+33612" in E.164.
        return [], {}, ("+33" + digits[1:]) if q.startswith("0") else digits
    # Places.
    if INSEE_CODE.match(q.upper()):
        return [q.upper()], {}, None
    folded = place_key(q)
    if len(folded) < MIN_PARTIAL:
        raise _bad_q(f"lieu d'au moins {MIN_PARTIAL} lettres ou chiffres, ou code INSEE")
    return [], {}, folded


def _lookup_exact(tx: neo4j.ManagedTransaction, kind: SearchKind, keys: list[str]) -> list[str]:
    if not keys:
        return []
    if kind is SearchKind.PLATE:
        return [eid for eid, _ in _lookup_exact_with_key(tx, keys)]
    if kind is SearchKind.PHONE:
        query = "UNWIND $keys AS k MATCH (ent:Phone {number: k}) RETURN elementId(ent) AS eid"
    else:
        query = "UNWIND $keys AS k MATCH (ent:Commune {insee_code: k}) RETURN elementId(ent) AS eid"
    return [r["eid"] for r in tx.run(query, keys=keys)]


def _lookup_exact_with_key(tx: neo4j.ManagedTransaction, plates_: list[str]) -> list[tuple[str, str]]:
    # Each candidate is one seek in the uniqueness index on Vehicle.plate: no scan.
    return [(r["eid"], r["plate"]) for r in tx.run(
        "UNWIND $keys AS k MATCH (ent:Vehicle {plate: k}) RETURN elementId(ent) AS eid, ent.plate AS plate",
        keys=plates_)]


def _lookup_partial(tx: neo4j.ManagedTransaction, kind: SearchKind, fragment: str) -> list[str]:
    # CONTAINS on the TEXT indexes declared in graph.analysis.SCHEMA.
    if kind is SearchKind.PLATE:
        query = ("MATCH (ent:Vehicle) WHERE ent.plate CONTAINS $f "
                 "RETURN elementId(ent) AS eid ORDER BY ent.plate LIMIT $cap")
    elif kind is SearchKind.PHONE:
        query = ("MATCH (ent:Phone) WHERE ent.number CONTAINS $f "
                 "RETURN elementId(ent) AS eid ORDER BY ent.number LIMIT $cap")
    else:
        query = (
            "CALL () { "
            "  MATCH (ent:Location) WHERE ent.key CONTAINS $f RETURN ent "
            "  UNION MATCH (ent:DealPoint) WHERE ent.key CONTAINS $f RETURN ent "
            f"  UNION MATCH (ent:Commune) WHERE {_folded('ent.name')} CONTAINS $f RETURN ent "
            "} RETURN elementId(ent) AS eid LIMIT $cap"
        )
    return [r["eid"] for r in tx.run(query, f=fragment, cap=MAX_PARTIAL_CANDIDATES)]


# An entity known only as a hit: its key, nothing else (key properties from the allow-list).
_KEY_ONLY = "{" + ", ".join(f"{p}: ent.{p}" for p in sorted({k.key_property for k in EntityKind})) + "}"


def _summaries(tx: neo4j.ManagedTransaction, access: AccessFilter,
               found: dict[str, tuple[str, str | None, int]]) -> list[tuple[int, EntityMatch]]:
    """What the caller may know of each entity; entities they may know nothing of are dropped."""
    if not found:
        return []
    rows = tx.run(
        f"UNWIND $eids AS eid MATCH (ent) WHERE elementId(ent) = eid "
        f"CALL (ent) {{ "
        f"  MATCH (ent)<-[:{CITED_BY}]-(l:Lead) RETURN DISTINCT l "
        f"  UNION MATCH (ent)<-[:IN_COMMUNE]-(:Location)<-[:AT]-(l:Lead) WHERE ent:Commune RETURN l "
        f"}} "
        f"WITH ent, l WHERE l.version > 0 "
        f"WITH ent, l, {access.case_expression} AS access "
        f"WHERE access IN $an_visible OR access = '{HIT}' "
        f"WITH ent, access IN $an_visible AS readable, l.agency AS agency, "
        f"  CASE WHEN access IN $an_timed THEN {LEAD_TIME} END AS t "
        f"RETURN elementId(ent) AS eid, labels(ent) AS labels, "
        f"  CASE WHEN readable THEN properties(ent) ELSE {_KEY_ONLY} END AS props, readable, agency, "
        f"count(*) AS n, max(t) AS last",
        eids=list(found), **access_params(access),
    )
    by_entity: dict[str, dict[str, Any]] = {}
    for r in rows:
        entry = by_entity.setdefault(r["eid"], {"labels": r["labels"], "props": r["props"], "n": 0,
                                                "last": None, "hits": hit_counter()})
        if r["readable"]:
            entry["props"] = r["props"]
            entry["n"] += r["n"]
            last = as_utc(r["last"])
            if last and (entry["last"] is None or last > entry["last"]):
                entry["last"] = last
        else:
            entry["hits"][("", r["agency"])] += r["n"]
    out = []
    for eid, entry in by_entity.items():
        match, reason, steps = found[eid]
        node = entity_node(entry["labels"], entry["props"])
        if entry["n"] == 0:  # known only as a hit
            if match != "exact":
                continue
            node = node.model_copy(update={"properties": {}})
        hits = hits_of({(node.id, agency): n for (_, agency), n in entry["hits"].items()}, access)
        out.append((steps, EntityMatch(node=node, match=match, reason=reason, lead_count=entry["n"],
                                       last_seen=entry["last"], hits=hits)))
    return out


# --- full text -----------------------------------------------------------------------------------

_LUCENE_SPECIAL = re.compile(r'([+\-!(){}\[\]^"~*?:\\/&|])')


def _escape(term: str) -> str:
    return _LUCENE_SPECIAL.sub(r"\\\1", term)


def lucene_query(text: str) -> str:
    """A safe Lucene query from what an analyst typed: every word must appear (AND), a quoted
    group is a phrase, a trailing ``*`` after at least three characters is a prefix. Any other
    Lucene syntax is escaped, and words are lower-cased so AND/OR/NOT stay words."""
    clauses: list[str] = []
    for phrase in re.findall(r'"([^"]*)"', text):
        words = [_escape(w.lower()) for w in phrase.split() if any(c.isalnum() for c in w)]
        if words:
            clauses.append('"' + " ".join(words) + '"')
    for token in re.sub(r'"[^"]*"?', " ", text).split():
        core = token.rstrip("*").lower()
        if not any(c.isalnum() for c in core):
            continue
        if token.endswith("*") and len(core) >= 3:
            clauses.append(_escape(core) + "*")
        else:
            clauses.append(_escape(core))
    if len(clauses) > MAX_TEXT_TERMS:
        raise _bad_q(f"au plus {MAX_TEXT_TERMS} mots ou expressions")
    return " AND ".join(clauses)


def _search_text(graph: Graph, access: AccessFilter,
                 params: SearchParams) -> SearchResult:
    query = lucene_query(params.q)
    if not query:
        raise _bad_q("au moins un mot à rechercher")

    def work(tx: neo4j.ManagedTransaction) -> SearchResult:
        # The index yields by descending score; filtering before LIMIT means hidden leads never
        # take a place in the results, and the scan stops as soon as enough readable ones came.
        rows = list(tx.run(
            f"CALL db.index.fulltext.queryNodes($index, $lucene) YIELD node AS l, score "
            f"WHERE l.version > 0 "
            f"WITH l, score, {access.case_expression} AS access WHERE access IN $an_narrative "
            f"RETURN access, score, {access.projection()} AS lead LIMIT $limit",
            index=FULLTEXT_INDEX, lucene=query, limit=params.limit + 1, **access_params(access),
        ))
        leads = [LeadMatch(lead=lead_node(r["lead"], r["access"]), score=r["score"])
                 for r in rows[: params.limit]]
        return SearchResult(q=params.q, kind=params.kind, leads=leads,
                            truncated=len(rows) > params.limit)

    return run_read(graph, work, field="q")

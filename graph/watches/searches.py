"""What a watch follows, compiled from what the person typed: an entity (policies/watches.py
normalizes its key) or a saved search, taken exactly as ``GET /api/v1/search`` takes it (its
own candidate logic, graph/analysis/search.py) and turned into what matching tests:

* an exact plate, phone or INSEE code → one key, matched through the index (mode ``key``);
* an approximate plate (``fuzzy``) → the exact plate and its candidates (scan ``keys``);
* a partial plate or phone, or a place's text → a fragment of the keys of that kind
  (scan ``fragment``; place text is matched on addresses, place labels and deal points);
* full text → its words, folded, all present in the narrative (scan ``text``), told only to a
  watcher who may read the narrative.

Nothing here reads the graph: compiling is the same whether anything matches or not.
"""

from __future__ import annotations

import re

from graph.analysis.models import FuzzyMode, SearchKind, SearchParams
from graph.analysis.search import _candidates as search_candidates  # the search's own reading
from graph.watches.matching import fold
from graph.watches.models import WatchMode, WatchTarget
from hub.contract.errors import InvalidInput
from policies.watches import WATCH_KINDS, normalize_target, target_label_fr

MAX_TEXT_WORDS = 20


def entity_target(kind: str, raw: str) -> WatchTarget:
    field = "value" if kind in WATCH_KINDS else "entity_kind"
    try:
        key = normalize_target(kind, raw)
    except ValueError as exc:
        raise InvalidInput("veille invalide", details=[{"field": field, "reason": str(exc)}]) from exc
    return WatchTarget(kind="entity", label=target_label_fr(key), mode=WatchMode.KEY, match_key=key)


def search_target(q: str, kind: SearchKind, fuzzy: FuzzyMode = FuzzyMode.OFF) -> WatchTarget:
    q = q.strip()
    common = {"kind": "search", "search_q": q, "search_kind": kind.value, "fuzzy": fuzzy.value,
              "label": f"recherche « {q} »"}
    if kind is SearchKind.TEXT:
        words = [w for w in (fold(t) for t in re.findall(r"[\w'-]+", q)) if w]
        if not words:
            raise InvalidInput("veille invalide", details=[{"field": "q", "reason": "au moins un mot"}])
        return WatchTarget(**common, mode=WatchMode.SCAN, scan="text", terms=words[:MAX_TEXT_WORDS])
    try:
        exact, approximate, fragment = search_candidates(SearchParams(q=q, kind=kind, fuzzy=fuzzy))
    except InvalidInput as exc:
        raise InvalidInput("veille invalide", details=exc.details) from exc
    entity = {SearchKind.PLATE: "vehicle", SearchKind.PHONE: "phone", SearchKind.PLACE: "commune"}[kind]
    keys = [f"{entity}:{k}" for k in exact]
    if approximate:
        return WatchTarget(**common, mode=WatchMode.SCAN, scan="keys",
                           terms=keys + [f"{entity}:{k}" for k in approximate])
    if len(keys) == 1:
        return WatchTarget(**common, mode=WatchMode.KEY, match_key=keys[0])
    if fragment is None:  # nothing could ever match: still a watch, as a search answers empty
        return WatchTarget(**common, mode=WatchMode.SCAN, scan="keys", terms=[])
    kinds = ["location", "deal_point"] if kind is SearchKind.PLACE else [entity]
    return WatchTarget(**common, mode=WatchMode.SCAN, scan="fragment",
                       terms=[f"{k}:{fragment}" for k in kinds])

"""The data protection officer's (DPD) watch on the audit trail: what is unusual in a week of it.

Owns:

* ``DpdWatchRules`` — the data of ``policies/data/dpd_watch.yaml``: the thresholds of each rule
  and the French reason auditors read;
* ``TrailRecord`` — what the watch reads of one trail entry (the hub converts its stored entries,
  hub/dpd/; policies never import the hub), and ``EntryRef``, how a finding names the entries
  behind it: the writer's segment and the entry's number in it (unique, indexed by the trail's
  index) with the entry's hash (so a reference can be checked against the chain);
* ``watch`` — the findings of a week's records, each with its rule id and the entries behind it:
  consultations far above the peers' (same agency and role), consultations off hours (local
  time, weekends, holidays), one justification reused on unrelated look-ups, justifications too
  short or empty of meaning, bursts of look-ups of one entity by one person, and every export
  and disclosure listed;
* ``normalize_justification`` — case, accents, punctuation and spacing dropped: « Vérif. » and
  « verif » are the same motif.

Pure: no clock, no file beyond its rules file, no trail.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, Field

from hub.contract.lead import StrictModel
from policies.audit import Actor, AuditAction, DecisionOutcome, DetailValue
from policies.models import PolicyModel

DPD_WATCH_FILE = "dpd_watch.yaml"

# --- the rules ------------------------------------------------------------------------------------


class _Rule(PolicyModel):
    rule_id: str = Field(min_length=1, max_length=80, pattern=r"^[a-z0-9][a-z0-9\-]*$")
    reason_fr: str = Field(min_length=1, max_length=500)


class PeersRule(_Rule):
    rule_id: str = "consultations-au-dessus-des-pairs"
    reason_fr: str = "Consultations très au-dessus de celles des pairs."
    factor: float = Field(default=3.0, gt=1, le=100)
    floor: int = Field(default=40, ge=1)
    min_peers: int = Field(default=2, ge=1)


class OffHoursRule(_Rule):
    rule_id: str = "consultations-hors-heures"
    reason_fr: str = "Consultations en dehors des heures de service."
    start: time = time(7, 0)
    end: time = time(20, 0)
    weekend: list[int] = Field(default_factory=lambda: [6, 7])
    holidays: list[date] = Field(default_factory=list)
    min_entries: int = Field(default=3, ge=1)


class ReuseRule(_Rule):
    rule_id: str = "motif-reutilise"
    reason_fr: str = "Même motif réutilisé pour des recherches sans lien."
    min_unrelated: int = Field(default=6, ge=2)
    related_by: list[str] = Field(default_factory=lambda: ["vehicle", "phone", "person", "deal_point"])


class QualityRule(_Rule):
    rule_id: str = "motif-vide-de-sens"
    reason_fr: str = "Motif trop court ou vide de sens."
    min_length: int = Field(default=10, ge=1, le=200)
    meaningless: list[str] = Field(default_factory=lambda: ["test", "verif", "ras"])
    min_entries: int = Field(default=1, ge=1)


class BurstRule(_Rule):
    rule_id: str = "rafale-sur-une-entite"
    reason_fr: str = "Consultations répétées d'une même entité en peu de temps."
    count: int = Field(default=8, ge=2)
    window_minutes: float = Field(default=30, gt=0, le=7 * 24 * 60)
    kinds: list[str] = Field(default_factory=lambda: ["vehicle", "phone", "person"])


class DisclosuresRule(_Rule):
    rule_id: str = "communications-et-exports"
    reason_fr: str = "Données communiquées ou exportées."


class DpdWatchRules(PolicyModel):
    version: int = Field(default=1, ge=1, le=1)
    timezone: str = "Europe/Paris"
    peers: PeersRule = Field(default_factory=PeersRule)
    off_hours: OffHoursRule = Field(default_factory=OffHoursRule)
    justification_reuse: ReuseRule = Field(default_factory=ReuseRule)
    justification_quality: QualityRule = Field(default_factory=QualityRule)
    burst: BurstRule = Field(default_factory=BurstRule)
    disclosures: DisclosuresRule = Field(default_factory=DisclosuresRule)
    digest: str = ""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def rules(self) -> list[_Rule]:
        """Every rule, in the report's order."""
        return [self.peers, self.off_hours, self.justification_reuse, self.justification_quality,
                self.burst, self.disclosures]


def _check(source: str, data: object, rules: DpdWatchRules) -> None:
    from policies.loader import _fail, line_of

    def fail(loc: tuple[str, ...], reason: str) -> None:
        raise _fail(source, line_of(data, loc), ".".join(loc), reason)

    try:
        rules.zone  # noqa: B018 — an unknown zone name fails here, at load, not in a report
    except (KeyError, ValueError):
        fail(("timezone",), f"fuseau horaire inconnu « {rules.timezone} »")
    if rules.off_hours.start >= rules.off_hours.end:
        fail(("off_hours", "end"), "la fin des heures de service doit suivre leur début")
    if any(d not in range(1, 8) for d in rules.off_hours.weekend):
        fail(("off_hours", "weekend"), "jours ISO attendus : 1 (lundi) à 7 (dimanche)")
    ids = [r.rule_id for r in rules.rules()]
    if len(set(ids)) != len(ids):
        fail(("peers", "rule_id"), "chaque règle doit avoir son propre identifiant")


def load_dpd_watch_rules(path: Path | str | None = None) -> DpdWatchRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / DPD_WATCH_FILE
    return load_rules_file(DpdWatchRules, entry, "contrôle du DPD", check=_check)


# --- what the watch reads -------------------------------------------------------------------------


class EntryRef(StrictModel):
    """One trail entry: ``segment`` + ``seq`` find it (unique in the trail), ``entry_hash``
    proves it is the one the finding was made from."""

    segment: str
    seq: int = Field(ge=1)
    entry_hash: str

    @property
    def ref(self) -> str:
        return f"{self.segment}:{self.seq}"


class TrailRecord(StrictModel):
    """What the watch reads of one trail entry."""

    segment: str
    seq: int = Field(ge=1)
    entry_hash: str
    at: AwareDatetime
    action: AuditAction
    actor: Actor
    outcome: DecisionOutcome
    lead_ids: list[str] = Field(default_factory=list)
    entity_keys: list[str] = Field(default_factory=list)
    justification: str | None = None
    recipients: list[str] = Field(default_factory=list)
    details: dict[str, DetailValue] = Field(default_factory=dict)

    @property
    def entry(self) -> EntryRef:
        return EntryRef(segment=self.segment, seq=self.seq, entry_hash=self.entry_hash)


Severity = Literal["alerte", "information"]


class Finding(StrictModel):
    """One line of the report: a rule that matched, for whom, and the entries behind it."""

    rule_id: str
    severity: Severity
    reason_fr: str
    summary_fr: str
    user_id: str | None = None
    actor_name: str | None = None
    agency: str | None = None
    role: str | None = None
    subject: str | None = Field(default=None, description="L'entité ou le motif en cause")
    count: int
    refs: list[EntryRef]


# --- the rules applied ----------------------------------------------------------------------------

_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalize_justification(text: str | None) -> str:
    """Lower case, no accents, punctuation and runs of blanks turned into one space."""
    folded = unicodedata.normalize("NFKD", (text or "").casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return _NON_WORD.sub(" ", plain).strip()


def is_meaningless(text: str | None, rule: QualityRule) -> bool:
    """Too short once normalized, or made only of words that say nothing (and numbers)."""
    norm = normalize_justification(text)
    if len(norm) < rule.min_length:
        return True
    empty = {normalize_justification(w) for w in rule.meaningless}
    return all(word in empty or word.isdigit() for word in norm.split())


def _lookups(records: Iterable[TrailRecord]) -> list[TrailRecord]:
    """A person's consultations (not the hub's own, nor a connector's)."""
    return [r for r in records if r.action is AuditAction.CONSULTATION and r.actor.kind == "user"]


def _who(r: TrailRecord) -> dict[str, str | None]:
    return {"user_id": r.actor.user_id, "actor_name": r.actor.name,
            "agency": r.actor.agency.value if r.actor.agency else None, "role": r.actor.role}


def _by_person(records: list[TrailRecord]) -> dict[str, list[TrailRecord]]:
    out: dict[str, list[TrailRecord]] = defaultdict(list)
    for r in records:
        out[r.actor.user_id].append(r)
    return out


def _refs(records: Iterable[TrailRecord]) -> list[EntryRef]:
    return [r.entry for r in sorted(records, key=lambda r: (r.at, r.segment, r.seq))]


def _peers(lookups: list[TrailRecord], rule: PeersRule) -> list[Finding]:
    people = _by_person(lookups)
    groups: dict[tuple[str | None, str], list[str]] = defaultdict(list)
    for uid, rs in people.items():
        groups[(_who(rs[0])["agency"], rs[0].actor.role)].append(uid)
    out = []
    for members in groups.values():
        for uid in members:
            peers = [len(people[p]) for p in members if p != uid]
            if len(peers) < rule.min_peers:
                continue
            median, n = statistics.median(peers), len(people[uid])
            if n > rule.factor * median and n > rule.floor:
                out.append(Finding(
                    rule_id=rule.rule_id, severity="alerte", reason_fr=rule.reason_fr,
                    summary_fr=(f"{n} consultations dans la semaine, pour une médiane de "
                                f"{median:g} chez ses {len(peers)} pairs (seuil : plus de "
                                f"{rule.factor:g} fois la médiane et plus de {rule.floor})"),
                    count=n, refs=_refs(people[uid]), **_who(people[uid][0])))
    return out


def is_off_hours(at: datetime, rule: OffHoursRule, zone: ZoneInfo) -> bool:
    local = at.astimezone(zone)
    return (local.isoweekday() in rule.weekend or local.date() in rule.holidays
            or not rule.start <= local.time() < rule.end)


def _off_hours(lookups: list[TrailRecord], rule: OffHoursRule, zone: ZoneInfo) -> list[Finding]:
    out = []
    for rs in _by_person(lookups).values():
        late = [r for r in rs if is_off_hours(r.at, rule, zone)]
        if len(late) >= rule.min_entries:
            out.append(Finding(
                rule_id=rule.rule_id, severity="alerte", reason_fr=rule.reason_fr,
                summary_fr=(f"{len(late)} consultations hors des heures de service "
                            f"({rule.start:%H:%M}–{rule.end:%H:%M}, hors week-end et jours fériés)"),
                count=len(late), refs=_refs(late), **_who(rs[0])))
    return out


def _related_keys(r: TrailRecord, kinds: set[str]) -> set[str]:
    return {f"lead:{i}" for i in r.lead_ids} | {k for k in r.entity_keys if k.split(":", 1)[0] in kinds}


def _unrelated_groups(records: list[TrailRecord], kinds: set[str]) -> int:
    """How many groups of look-ups share nothing with each other (union-find on shared keys)."""
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for i, r in enumerate(records):
        for key in _related_keys(r, kinds):
            if key in owner:
                parent[find(i)] = find(owner[key])
            else:
                owner[key] = i
    return len({find(i) for i in range(len(records))})


def _reuse(lookups: list[TrailRecord], rule: ReuseRule) -> list[Finding]:
    out = []
    kinds = set(rule.related_by)
    for rs in _by_person(lookups).values():
        by_motif: dict[str, list[TrailRecord]] = defaultdict(list)
        for r in rs:
            if r.justification:
                by_motif[normalize_justification(r.justification)].append(r)
        for same in by_motif.values():
            groups = _unrelated_groups(same, kinds)
            if groups >= rule.min_unrelated:
                out.append(Finding(
                    rule_id=rule.rule_id, severity="alerte", reason_fr=rule.reason_fr,
                    summary_fr=(f"motif « {same[0].justification} » donné pour {len(same)} "
                                f"consultations formant {groups} recherches sans lien entre elles"),
                    subject=same[0].justification, count=len(same), refs=_refs(same), **_who(rs[0])))
    return out


def _quality(lookups: list[TrailRecord], rule: QualityRule) -> list[Finding]:
    out = []
    for rs in _by_person(lookups).values():
        empty = [r for r in rs if r.justification is not None and is_meaningless(r.justification, rule)]
        if len(empty) >= rule.min_entries:
            motifs = sorted({r.justification or "" for r in empty})
            shown = ", ".join(f"« {m} »" for m in motifs[:5]) + (" …" if len(motifs) > 5 else "")
            out.append(Finding(
                rule_id=rule.rule_id, severity="alerte", reason_fr=rule.reason_fr,
                summary_fr=f"{len(empty)} consultations au motif trop court ou vide de sens : {shown}",
                subject=motifs[0], count=len(empty), refs=_refs(empty), **_who(rs[0])))
    return out


def _bursts(lookups: list[TrailRecord], rule: BurstRule) -> list[Finding]:
    out = []
    window = timedelta(minutes=rule.window_minutes)
    kinds = set(rule.kinds)
    for rs in _by_person(lookups).values():
        by_entity: dict[str, list[TrailRecord]] = defaultdict(list)
        for r in sorted(rs, key=lambda r: (r.at, r.segment, r.seq)):
            for key in dict.fromkeys(k for k in r.entity_keys if k.split(":", 1)[0] in kinds):
                by_entity[key].append(r)
        for key, hits in sorted(by_entity.items()):
            best: list[TrailRecord] = []
            start = 0
            for end in range(len(hits)):  # the largest set within one window (two pointers)
                while hits[end].at - hits[start].at > window:
                    start += 1
                if end - start + 1 > len(best):
                    best = hits[start:end + 1]
            if len(best) >= rule.count:
                out.append(Finding(
                    rule_id=rule.rule_id, severity="alerte", reason_fr=rule.reason_fr,
                    summary_fr=(f"{len(best)} consultations de {key} en moins de "
                                f"{rule.window_minutes:g} minutes (seuil : {rule.count})"),
                    subject=key, count=len(best), refs=_refs(best), **_who(rs[0])))
    return out


def _document(r: TrailRecord) -> str:
    if r.details.get("document"):
        return str(r.details["document"])
    if r.details.get("format"):
        return f"export {r.details['format']}"
    return str(r.details.get("step") or "communication")


def _disclosures(records: Iterable[TrailRecord], rule: DisclosuresRule) -> list[Finding]:
    groups: dict[tuple[str, str], list[TrailRecord]] = defaultdict(list)
    for r in records:
        if r.action is AuditAction.DISCLOSURE:
            groups[(r.actor.user_id, _document(r))].append(r)
    out = []
    for (_, document), rs in sorted(groups.items()):
        recipients = sorted({x for r in rs for x in r.recipients})
        shown = ", ".join(recipients[:8]) + (f" et {len(recipients) - 8} autre(s)" if len(recipients) > 8 else "")
        out.append(Finding(
            rule_id=rule.rule_id, severity="information", reason_fr=rule.reason_fr,
            summary_fr=f"{len(rs)} × {document} vers {shown or '—'}",
            subject=document, count=len(rs), refs=_refs(rs), **_who(rs[0])))
    return out


def watch(records: Iterable[TrailRecord], rules: DpdWatchRules) -> list[Finding]:
    """The findings of ``records`` (one week of the trail, say), in the rules' order, then by
    person and subject."""
    records = list(records)
    lookups = _lookups(records)
    found = (_peers(lookups, rules.peers) + _off_hours(lookups, rules.off_hours, rules.zone)
             + _reuse(lookups, rules.justification_reuse)
             + _quality(lookups, rules.justification_quality) + _bursts(lookups, rules.burst)
             + _disclosures(records, rules.disclosures))
    order = {r.rule_id: i for i, r in enumerate(rules.rules())}
    return sorted(found, key=lambda f: (order[f.rule_id], f.user_id or "", f.subject or ""))

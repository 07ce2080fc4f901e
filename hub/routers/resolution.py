"""Entity resolution over HTTP (« Rapprochements »): ``/api/v1/resolution/…``.

- ``GET candidates``: pairs of entities that may be one, around the entities of the caller's
  readable recent leads, with score and evidence at the caller's level (graph/resolution/);
- ``POST judgements``: a verdict on a pair, named by the caller's pair handle, with a reason;
  "same" merges (at once, or once the other agencies countersigned);
- ``GET merges``: the merges the caller's agency asked for or is awaited on;
- ``POST countersign``: an awaited agency accepts or refuses a merge;
- ``POST undo``: split a merge (the graph as it was before it).

Candidates and merges are consultations (justified, logged with what was shown); judgements,
countersignatures and splits are combinations of data (Art. 25), logged inside the write before
commit. Rules and wording are policy (policies/resolution.py, resolution.yaml). A pair handle
forged or sealed for another agency answers as a pair nobody proposed (404).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from pydantic import Field

from graph import resolution as graph_resolution
from graph.identity import Principal
from graph.resolution import CandidateList, JudgementRecord, MergeView
from hub.audit import events as auditing
from hub.contract.errors import NotFound
from hub.contract.lead import AGENCY_LABELS_FR, Agency
from hub.deps import (
    AccessDep,
    AuditDep,
    GraphDep,
    JustificationDep,
    RulebookDep,
    SettingsDep,
    requires,
)
from hub.handles import MAX_HANDLE_LENGTH, handles_for
from hub.routers.inputs import Reason, StrictIn
from policies.audit import AuditAction, AuditEvent, Decision, DecisionOutcome
from policies.permissions import Action
from policies.resolution import MERGEABLE_KINDS, Verdict, split_pair

router = APIRouter(prefix="/api/v1/resolution", tags=["rapprochements"])
Judge = Annotated[Principal, requires(Action.RESOLVE_ENTITIES)]
Countersigner = Annotated[Principal, requires(Action.COUNTERSIGN_MERGES)]
RULE = "resolution"


class JudgementIn(StrictIn):
    pair: Annotated[str, Field(min_length=1, max_length=MAX_HANDLE_LENGTH,
                               description="Poignée de la paire, telle que la liste la donne")]
    verdict: Verdict = Field(description="same (même entité), not_same (distinctes), unsure")
    reason: Reason = Field(description="Motif du jugement (obligatoire)")


class CountersignIn(StrictIn):
    merge_id: Annotated[str, Field(min_length=1, max_length=100)]
    decision: Literal["accept", "refuse"] = Field(description="accept (contre-signer) ou refuse")
    reason: Reason


class UndoIn(StrictIn):
    merge_id: Annotated[str, Field(min_length=1, max_length=100)]
    reason: Reason


def _now() -> datetime:
    return datetime.now(UTC)


def _agency_fr(code: str) -> str:
    try:
        return AGENCY_LABELS_FR[Agency(code)]
    except ValueError:
        return code


def _combination(request: Request, caller: Principal, *, entities: list[str], reason: str,
                 details: dict[str, str | int | bool | None]) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.COMBINATION, actor=auditing.actor_of(caller),
        client_address=auditing.client_of(request),
        decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE),
        entity_keys=entities[:50], justification=reason, details=details)


def _shown(sides: list) -> list[str]:
    return [s.entity for s in sides if s.entity]


@router.get("/candidates", response_model=CandidateList, summary="Rapprochements proposés",
            description="Paires d'entités (véhicules, personnes, téléphones, lieux) qui pourraient "
                        "n'en faire qu'une, autour des entités de vos pistes récentes, avec leur "
                        "score et leurs éléments ; une entité que vous ne connaissez qu'en « hit » "
                        "apparaît comme un hit (service, nombre, contact), sans sa clé.")
async def candidates(request: Request, graph: GraphDep, access: AccessDep, caller: Judge,
                     audit: AuditDep, rulebook: RulebookDep,
                     justification: JustificationDep) -> CandidateList:
    rules = rulebook.resolution

    def work() -> CandidateList:
        def read(tx):  # noqa: ANN001, ANN202
            seeds = graph_resolution.seed_entities(tx, access, rules, _now())
            return graph_resolution.find_candidates(tx, access, rules, seeds,
                                                    viewer_agency=caller.agency)
        return graph.read(read)

    result = await run_in_threadpool(work)
    leads = sorted({x for c in result.candidates for e in c.evidence for x in e.lead_ids})
    entities = sorted({x for c in result.candidates for x in _shown([c.a, c.b])})
    await auditing.log_consultation(
        request, audit, caller, outcome="full" if leads or entities else "none",
        rule_id=access.policy_id, justification=justification, lead_ids=leads,
        entity_keys=["resolution:candidates", *entities],
        details={"step": "resolution_candidates", "pairs": len(result.candidates)})
    return result


def _open_pair(settings, caller: Principal, pair: str) -> str:  # noqa: ANN001
    subject = handles_for(settings.keys_dir).open(pair, caller.agency)
    if not subject or len(subject) != 2 or subject[0] != "pair":
        raise NotFound(graph_resolution.merges.UNKNOWN_PAIR)
    return subject[1]


@router.post("/judgements", response_model=JudgementRecord, status_code=status.HTTP_201_CREATED,
             summary="Juger une paire : même entité, distinctes, ou incertain",
             description="« same » fusionne les deux entités pour tous, de façon réversible ; si "
                         "elles reposent aussi sur des pistes d'autres services, la fusion attend "
                         "leur contre-signature. « not_same » écarte la paire pour de bon ; "
                         "« unsure » la garde dans la liste, annotée.")
async def judge(request: Request, body: JudgementIn, graph: GraphDep, access: AccessDep,
                caller: Judge, audit: AuditDep, rulebook: RulebookDep,
                settings: SettingsDep) -> JudgementRecord:
    key = _open_pair(settings, caller, body.pair)
    kind = split_pair(key)[0].partition(":")[0]
    requester = _agency_fr(caller.agency)

    def notice(agency: str) -> str:
        return (f"{requester} propose de rapprocher deux entités ({MERGEABLE_KINDS.get(kind, kind)}) "
                f"qui reposent aussi sur des pistes de votre service : contre-signature demandée "
                f"(page « Rapprochements »).")

    def logged(record: JudgementRecord) -> None:
        audit.append(_combination(request, caller, entities=list(split_pair(key)), reason=body.reason,
                                  details={"step": "resolution_judgement", "verdict": body.verdict.value,
                                           "judgement_id": record.judgement_id,
                                           "merge_id": record.merge.merge_id if record.merge else None,
                                           "state": record.merge.state if record.merge else None}))

    return await run_in_threadpool(lambda: graph_resolution.judge(
        graph, access, key=key, verdict=body.verdict, reason=body.reason, user_id=caller.user_id,
        agency=caller.agency, rules=rulebook.resolution, now=_now(), notice=notice,
        before_commit=logged))


@router.get("/merges", response_model=list[MergeView], summary="Fusions de votre service",
            description="Fusions demandées par votre service ou qui attendent sa contre-signature, "
                        "les plus récentes d'abord ; chaque entité telle que vous pouvez la voir.")
async def merges(request: Request, graph: GraphDep, access: AccessDep, caller: Judge,
                 audit: AuditDep, justification: JustificationDep) -> list[MergeView]:
    views = await run_in_threadpool(graph_resolution.list_merges, graph, access, caller.agency)
    await auditing.log_consultation(
        request, audit, caller, outcome="full", rule_id=access.policy_id,
        justification=justification,
        entity_keys=["resolution:merges", *sorted({x for v in views for x in _shown([v.a, v.b])})],
        details={"step": "resolution_merges", "merges": len(views)})
    return views


@router.post("/countersign", response_model=MergeView, summary="Contre-signer ou refuser une fusion",
             description="Pour un service attendu : « accept » contre-signe (la fusion est faite "
                         "quand tous les services attendus l'ont fait), « refuse » l'écarte.")
async def countersign(request: Request, body: CountersignIn, graph: GraphDep, access: AccessDep,
                      caller: Countersigner, audit: AuditDep, rulebook: RulebookDep) -> MergeView:
    signer = _agency_fr(caller.agency)

    def notice(merged: bool) -> str:
        return (f"{signer} a contre-signé : la fusion demandée est faite." if merged else
                f"{signer} a refusé la fusion demandée : rien n'est fusionné.")

    def logged(view: MergeView) -> None:
        audit.append(_combination(request, caller, entities=[f"merge:{view.merge_id}"],
                                  reason=body.reason,
                                  details={"step": "resolution_countersign",
                                           "decision": body.decision, "state": view.state}))

    return await run_in_threadpool(lambda: graph_resolution.countersign(
        graph, access, merge_id=body.merge_id, accept=body.decision == "accept",
        reason=body.reason, user_id=caller.user_id, agency=caller.agency, role=caller.role,
        rules=rulebook.resolution, now=_now(), notice=notice, before_commit=logged))


@router.post("/undo", response_model=MergeView, summary="Annuler une fusion (scission)",
             description="Supprime le lien de fusion : le graphe redevient exactement ce qu'il "
                         "était. Pour le service qui l'a demandée ou un service attendu.")
async def undo(request: Request, body: UndoIn, graph: GraphDep, access: AccessDep, caller: Judge,
               audit: AuditDep) -> MergeView:
    def logged(view: MergeView) -> None:
        audit.append(AuditEvent(
            action=AuditAction.ALTERATION, actor=auditing.actor_of(caller),
            client_address=auditing.client_of(request),
            decision=Decision(outcome=DecisionOutcome.ALLOW, rule_id=RULE),
            entity_keys=[f"merge:{view.merge_id}"], justification=body.reason,
            details={"step": "resolution_undo", "state": view.state}))

    return await run_in_threadpool(lambda: graph_resolution.undo(
        graph, access, merge_id=body.merge_id, reason=body.reason, user_id=caller.user_id,
        agency=caller.agency, now=_now(), before_commit=logged))

"""Accounts over time (``/api/v1/admin/accounts``, ``/api/v1/account-reviews``): a person moves
or leaves (administrators, ``accounts.manage``), and the periodic access review (the CROSS
coordinator, ``accounts.review``: confirm or disable each account, with its last use).

A move or a departure ends every right of the old account in one transaction
(graph/identity/lifecycle.py) — sessions, API tokens, guest grants, pending and approved
disclosures — so the very next request with an old credential is refused (401); the trail's
entry (who did it, old → new) is appended before the change commits. No lead content here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from graph.handle import Graph
from graph.identity import lifecycle, reviews
from graph.identity.models import Principal
from hub.audit.account_events import access_review_event, account_changed
from hub.audit.events import actor_of, client_of
from hub.contract.lead import Agency
from hub.deps import AuditDep, ClockDep, GraphDep, RulebookDep, requires
from hub.jobs.accounts import open_review
from policies.accounts import movable
from policies.models import Role
from policies.permissions import Action

router = APIRouter(tags=["comptes"])

Manager = Annotated[Principal, requires(Action.MANAGE_ACCOUNTS)]
Reviewer = Annotated[Principal, requires(Action.REVIEW_ACCOUNTS)]


class Move(BaseModel):
    agency: Agency = Field(description="Nouveau service de rattachement")
    role: Role = Field(description="Nouveau rôle")


class EndedOut(BaseModel):
    sessions: int
    api_tokens: int
    guest_grants: int
    requests_declined: int
    disclosures_ended: int


class ChangeOut(BaseModel):
    user_id: str
    new_user_id: str | None = Field(description="Le compte désormais en usage (service:nom) ; "
                                                "absent après un départ")
    old_agency: str
    old_role: str
    new_agency: str | None
    new_role: str | None
    ended: EndedOut


def _out(change: lifecycle.AccountChange) -> ChangeOut:
    e = change.ended
    return ChangeOut(user_id=change.user_id, new_user_id=change.new_user_id,
                     old_agency=change.old_agency, old_role=change.old_role,
                     new_agency=change.new_agency, new_role=change.new_role,
                     ended=EndedOut(sessions=e.sessions, api_tokens=e.api_tokens,
                                    guest_grants=len(e.guest_grants),
                                    requests_declined=len(e.requests_declined),
                                    disclosures_ended=len(e.disclosures_ended)))


@router.post("/api/v1/admin/accounts/{user_id}/move", response_model=ChangeOut,
             summary="Mutation d'une personne (service ou rôle)",
             description="Change le rôle, ou le service (nouveau compte service:nom, l'ancien est "
                         "désactivé). Tous les droits de l'ancien rattachement prennent fin "
                         "aussitôt : sessions, jetons, accès d'invité, demandes et communications.")
async def move(user_id: str, body: Move, request: Request, graph: GraphDep, audit: AuditDep,
               caller: Manager, now: ClockDep) -> ChangeOut:
    movable(body.role.value, field="role")
    change = await run_in_threadpool(
        lifecycle.move_account, graph, user_id, agency=body.agency.value, role=body.role.value,
        by=caller.user_id, now=now,
        before_commit=lambda c: audit.append_many(
            account_changed(client_of(request), actor_of(caller), c)))
    return _out(change)


@router.post("/api/v1/admin/accounts/{user_id}/leave", response_model=ChangeOut,
             summary="Départ d'une personne",
             description="Désactive le compte et met fin à tous ses droits, aussitôt.")
async def leave(user_id: str, request: Request, graph: GraphDep, audit: AuditDep,
                caller: Manager, now: ClockDep) -> ChangeOut:
    change = await run_in_threadpool(
        lifecycle.disable_account, graph, user_id, reason=lifecycle.LEFT, by=caller.user_id,
        now=now, before_commit=lambda c: audit.append_many(
            account_changed(client_of(request), actor_of(caller), c)))
    return _out(change)


class AccountOut(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str
    disabled: bool
    created_at: datetime | None
    last_used_at: datetime | None = Field(description="Dernière utilisation enregistrée (à une "
                                                      "heure près)")


@router.get("/api/v1/admin/accounts", response_model=list[AccountOut],
            summary="Comptes et dernière utilisation")
async def accounts(graph: GraphDep, _caller: Manager) -> list[AccountOut]:
    uses = await run_in_threadpool(lifecycle.list_account_uses, graph, enabled_only=False)
    return [AccountOut(**u.model_dump()) for u in uses]


class ReviewOut(BaseModel):
    review_id: str
    opened_at: datetime
    due_at: datetime
    closed_at: datetime | None
    flagged_at: datetime | None
    accounts: int
    pending: int
    items: list[reviews.ReviewItem]


async def _review_out(graph: Graph, review: reviews.AccessReview) -> ReviewOut:
    items = await run_in_threadpool(reviews.review_items, graph, review.review_id)
    return ReviewOut(**review.model_dump(exclude={"opened_by"}), items=items)


@router.get("/api/v1/account-reviews/current", response_model=ReviewOut | None,
            summary="Revue des accès en cours",
            description="La dernière revue : chaque compte avec son rôle, son service, sa "
                        "dernière utilisation et la décision prise (null : aucune revue encore).")
async def current_review(graph: GraphDep, _caller: Reviewer) -> ReviewOut | None:
    review = await run_in_threadpool(reviews.latest_review, graph)
    return await _review_out(graph, review) if review else None


@router.post("/api/v1/account-reviews", response_model=ReviewOut, status_code=201,
             summary="Ouvrir une revue des accès maintenant")
async def open_now(request: Request, graph: GraphDep, audit: AuditDep, rulebook: RulebookDep,
                   caller: Reviewer, now: ClockDep) -> ReviewOut:
    review = await run_in_threadpool(
        lambda: open_review(graph, audit, rulebook.accounts, now, opened_by=caller.user_id,
                            origin=client_of(request) or "api", actor=actor_of(caller)))
    return await _review_out(graph, review)


class Decide(BaseModel):
    decision: Literal["confirmed", "disabled"] = Field(
        description="« confirmed » : accès maintenu ; « disabled » : compte désactivé aussitôt")


@router.post("/api/v1/account-reviews/{review_id}/accounts/{user_id}",
             response_model=reviews.ReviewItem, summary="Décision de revue pour un compte")
async def decide(review_id: str, user_id: str, body: Decide, request: Request, graph: GraphDep,
                 audit: AuditDep, caller: Reviewer, now: ClockDep) -> reviews.ReviewItem:
    def log(item: reviews.ReviewItem, change: lifecycle.AccountChange | None) -> None:
        events = [access_review_event(client_of(request), actor_of(caller),
                                      event=f"access_review_{item.decision}",
                                      review_id=review_id, user_id=user_id)]
        if change is not None:
            events += account_changed(client_of(request), actor_of(caller), change,
                                      {"review_id": review_id})
        audit.append_many(events)

    item, _ = await run_in_threadpool(
        lambda: reviews.decide_item(graph, review_id, user_id, decision=body.decision,
                                    by=caller.user_id, now=now, before_commit=log))
    return item

"""Platform administration (``/api/v1/admin``): who holds an account, read-only.

``GET /api/v1/admin/users`` lists the accounts with what an administrator needs to decide a
revocation (``POST /api/v1/auth/users/{user_id}/revoke-all``): role, agency, whether disabled,
and how many sessions and API tokens are open. No lead content, no secret (no password hash, no
token): the same action as the revocation (``sessions.revoke``) opens it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from graph import identity
from graph import sessions as graph_sessions
from graph.identity import Principal
from hub.deps import GraphDep, requires
from policies.permissions import Action

router = APIRouter(prefix="/api/v1/admin", tags=["administration"])


class UserSummary(BaseModel):
    user_id: str
    name: str
    agency: str
    role: str
    disabled: bool
    open_sessions: int = Field(description="Sessions ni révoquées ni expirées")
    active_tokens: int = Field(description="Jetons d'API ni révoqués ni expirés")


@router.get("/users", response_model=list[UserSummary], summary="Comptes utilisateurs",
            description="Comptes du hub (rôle, service, désactivé) avec le nombre de sessions et de "
                        "jetons d'API ouverts, pour décider d'une révocation. Lecture seule ; "
                        "réservé aux rôles qui peuvent révoquer les accès.")
async def list_users(graph: GraphDep,
                     _caller: Annotated[Principal, requires(Action.REVOKE_SESSIONS)]) -> list[UserSummary]:
    def read() -> list[UserSummary]:
        users = identity.list_users(graph)
        sessions = graph_sessions.active_session_counts(graph)
        tokens = identity.active_token_counts(graph)
        return [UserSummary(user_id=u.user_id, name=u.name, agency=u.agency, role=u.role,
                            disabled=u.disabled, open_sessions=sessions.get(u.user_id, 0),
                            active_tokens=tokens.get(u.user_id, 0)) for u in users]

    return await run_in_threadpool(read)

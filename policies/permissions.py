"""Who may call what: the actions of the hub, and the pure decision "may this role do that".

Which roles hold which action is data (``may:`` per role in ``roles.yaml``); routes name the
action they require and the hub asks ``permission`` — no route lists roles. What a caller may
*read* of a lead is not an action: the access rules (``rules.yaml``) decide it lead by lead, and
a role without any reading rule simply sees nothing (``none``), as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from policies.models import Policy


class Action(StrEnum):
    PUSH_LEADS = "leads.push"  # a connector pushes signed batches and reports its runs
    # A person enters leads through the intake connector, which pushes on their behalf: the hub
    # checks this on the person's own token (docs/decisions/0014).
    SUBMIT_LEADS = "leads.submit"
    WATCH = "watches.follow"  # follow an entity or a saved search (« Veilles »)
    RUN_ANALYSES = "analysis.run"  # search, paths, co-presence, hotspots, central actors
    WORK_LEADS = "workflow.work"  # triage, lead status, history, hit rates, operations, alerts
    REQUEST_DISCLOSURE = "disclosure.request"  # ask the holder of a hit for the lead
    DECIDE_DISCLOSURE = "disclosure.decide"  # approve or decline a request made to one's agency
    READ_AGENCY_NOTIFICATIONS = "notifications.agency"  # the agency's notices, not only one's own
    GRANT_GUESTS = "grants.manage"  # open and revoke a guest referent's time-boxed grant
    LIST_GRANTS = "grants.list"  # see guest grants (a guest sees their own)
    EXPIRE_GRANTS = "grants.expire"  # run the sweep that ends grants past their end
    ATTEND_MEETINGS = "meetings.attend"  # list meetings, read the agenda and one's own brief
    RUN_MEETINGS = "meetings.manage"  # create a meeting, record its decided actions
    RECEIVE_BRIEF = "meetings.brief"  # gets a copy of the weekly brief written on meeting day
    READ_AUDIT = "audit.read"  # the Art. 25 trail and its integrity
    MANAGE_CONNECTORS = "connectors.manage"  # see the connectors' runs
    REVOKE_SESSIONS = "sessions.revoke"  # end anyone's sessions (others end only their own)
    # Entity resolution (« Rapprochements »): list candidates, judge pairs, split merges; and
    # countersign (or refuse) a merge awaiting one's agency (policies/resolution.py).
    RESOLVE_ENTITIES = "resolution.judge"
    COUNTERSIGN_MERGES = "resolution.countersign"
    # Export an entity's network to a file (CSV, GraphML, ANX, FtM): the data leave the hub.
    EXPORT_NETWORK = "exports.network"
    RESET_SECOND_FACTOR = "second_factor.reset"  # clear someone's second factor (lost phone)
    WORK_DOSSIERS = "dossiers.work"  # shared dossiers: open, read, link, tasks, comments (ADR 0019)
    # Run the federation round now (ADR 0024): for an external scheduler or an operator; the
    # round moves only tokens and tickets, never a lead's content to the caller.
    RUN_FEDERATION = "federation.run"
    # Accounts over time (policies/accounts.py): move a person to another role or agency, record
    # a leaver; and the periodic access review (confirm or disable each account).
    MANAGE_ACCOUNTS = "accounts.manage"
    REVIEW_ACCOUNTS = "accounts.review"


ACTION_LABELS_FR: dict[Action, str] = {
    Action.PUSH_LEADS: "verser des pistes",
    Action.SUBMIT_LEADS: "saisir des pistes par le connecteur de saisie",
    Action.WATCH: "suivre des veilles (entités, recherches enregistrées)",
    Action.RUN_ANALYSES: "lancer des analyses",
    Action.WORK_LEADS: "traiter les pistes (tri, statut, opérations)",
    Action.REQUEST_DISCLOSURE: "demander la communication d'une piste",
    Action.DECIDE_DISCLOSURE: "décider d'une demande de communication",
    Action.READ_AGENCY_NOTIFICATIONS: "lire les notifications du service",
    Action.GRANT_GUESTS: "ouvrir ou révoquer un accès de référent invité",
    Action.LIST_GRANTS: "consulter les accès de référents invités",
    Action.EXPIRE_GRANTS: "clore les accès de référents invités échus",
    Action.ATTEND_MEETINGS: "participer à la réunion de la CROSS",
    Action.RUN_MEETINGS: "animer la réunion de la CROSS",
    Action.RECEIVE_BRIEF: "recevoir la note de synthèse hebdomadaire",
    Action.READ_AUDIT: "consulter le journal d'audit",
    Action.MANAGE_CONNECTORS: "superviser les connecteurs",
    Action.REVOKE_SESSIONS: "révoquer les sessions d'autres utilisateurs",
    Action.RESOLVE_ENTITIES: "rapprocher des entités (juger, fusionner, scinder)",
    Action.COUNTERSIGN_MERGES: "contre-signer la fusion d'entités de son service",
    Action.EXPORT_NETWORK: "exporter le réseau d'une entité",
    Action.RESET_SECOND_FACTOR: "réinitialiser le second facteur d'un utilisateur",
    Action.WORK_DOSSIERS: "travailler dans les dossiers partagés",
    Action.RUN_FEDERATION: "lancer un tour de fédération entre CROSS",
    Action.MANAGE_ACCOUNTS: "gérer les comptes (mutation, départ)",
    Action.REVIEW_ACCOUNTS: "mener la revue périodique des accès",
}


@dataclass(frozen=True, slots=True)
class Permission:
    """A decision with what decided it: ``rule`` names the roles.yaml entry, for the audit."""

    allowed: bool
    role: str
    action: Action
    rule: str

    @property
    def reason_fr(self) -> str:
        verb = "peut" if self.allowed else "ne peut pas"
        return f"le rôle « {self.role} » {verb} {ACTION_LABELS_FR[self.action]}"

    @property
    def refusal_fr(self) -> str:
        """What a refused caller reads (the 403's message)."""
        return f"opération non autorisée : {self.reason_fr}"


def permission(policy: Policy, role: str, action: Action) -> Permission:
    """Whether ``role`` may do ``action`` under ``policy``: allowed only when roles.yaml lists the
    action under the role's ``may:`` (least privilege: nothing is implied)."""
    for info in policy.roles:
        if info.role.value == role:
            allowed = action in info.may
            return Permission(allowed, role, action, f"roles.yaml:{role}.may" if allowed
                              else f"roles.yaml:{role} (absent de may)")
    return Permission(False, role, action, "roles.yaml (rôle inconnu)")


def roles_that_may(policy: Policy, action: Action) -> tuple[str, ...]:
    """Every role holding ``action``, in roles.yaml's order (who gets a brief, who is notified)."""
    return tuple(info.role.value for info in policy.roles if action in info.may)

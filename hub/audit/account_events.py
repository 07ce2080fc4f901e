"""The audit events of accounts over time and of policy deployments (issue 17 item 3), kept
apart from hub/audit/events.py (which they extend: same ``_event`` shape, same rule).

An account's change (moved, left, disabled for inactivity or by a review) is an
``authentication`` event about the account(s), old → new in ``details``; the grants it ended are
one ``alteration`` naming their leads and entities (a disclosure ended, like a revocation). A
joiner's account created by an administrator is an ``authentication`` event too. A deployment of
policy files is a ``configuration`` event naming each file changed and who deployed it.
"""

from __future__ import annotations

from graph.identity import Principal
from graph.identity.lifecycle import AccountChange
from graph.policy_deployments import Deployment
from hub.audit.events import Details, _event
from policies.audit import MAX_IDS, Actor, AuditAction, AuditEvent, DecisionOutcome
from policies.diff import FileChange

RULE_ACCOUNT = "accounts-lifecycle"
RULE_REVIEW = "accounts-access-review"
RULE_POLICY_DEPLOYED = "policy-deployment"
ACCOUNTS_ORIGIN = "crosshub:comptes-planifie"


def operator_named(by: str) -> Actor:
    """A person running a ``crosshub`` command on the host, named by its ``--by`` (or the
    system account they are logged in as)."""
    return Actor(kind="operator", user_id=f"operator:{by}"[:300], name=by[:200], role="operator")


def account_changed(client: str | None, actor: Actor, change: AccountChange,
                    details: Details | None = None) -> list[AuditEvent]:
    """A person moved, left, or an account disabled (inactivity, review), with what ended."""
    keys = [f"user:{change.user_id}"]
    if change.new_user_id and change.new_user_id != change.user_id:
        keys.append(f"user:{change.new_user_id}")
    ended = change.ended
    events = [_event(
        AuditAction.AUTHENTICATION, actor, client, DecisionOutcome.ALLOW, RULE_ACCOUNT,
        entity_keys=keys, personal_data=False,
        details={"event": f"account_{change.kind}", "old_agency": change.old_agency,
                 "old_role": change.old_role, "new_user_id": change.new_user_id,
                 "new_agency": change.new_agency, "new_role": change.new_role,
                 "sessions_revoked": ended.sessions, "api_tokens_revoked": ended.api_tokens,
                 "guest_grants_revoked": len(ended.guest_grants),
                 "requests_declined": len(ended.requests_declined),
                 "disclosures_ended": len(ended.disclosures_ended), **(details or {})})]
    if ended.grants_ended:
        events.append(_event(
            AuditAction.ALTERATION, actor, client, DecisionOutcome.ALLOW, RULE_ACCOUNT,
            lead_ids=ended.lead_ids[:MAX_IDS],
            entity_keys=(ended.entity_keys + [f"user:{change.user_id}"])[:MAX_IDS],
            recipients=[change.user_id],
            details={"step": "grants_ended_with_account", "reason": f"account_{change.kind}",
                     "guest_grants": ",".join(ended.guest_grants)[:2000],
                     "requests_declined": ",".join(ended.requests_declined)[:2000],
                     "disclosures_ended": ",".join(ended.disclosures_ended)[:2000]}))
    return events


def account_created(client: str | None, actor: Actor, user: Principal) -> AuditEvent:
    """A joiner: an account created by an administrator (``crosshub users create``)."""
    return _event(AuditAction.AUTHENTICATION, actor, client, DecisionOutcome.ALLOW, RULE_ACCOUNT,
                  entity_keys=[f"user:{user.user_id}"], personal_data=False,
                  details={"event": "account_created", "new_agency": user.agency,
                           "new_role": user.role})


def access_review_event(client: str | None, actor: Actor, *, event: str, review_id: str,
                        user_id: str | None = None, details: Details | None = None) -> AuditEvent:
    """An access review opened, flagged overdue, or one account's decision in it."""
    keys = [f"access_review:{review_id}"] + ([f"user:{user_id}"] if user_id else [])
    return _event(AuditAction.AUTHENTICATION, actor, client, DecisionOutcome.ALLOW, RULE_REVIEW,
                  entity_keys=keys, personal_data=False,
                  details={"event": event, "review_id": review_id, **(details or {})})


def policy_deployed(client: str, actor: Actor, deployment: Deployment, changed: list[FileChange],
                    directory: str) -> AuditEvent:
    """The policy files changed by a deployment, who deployed them; one detail per file (the
    first 12 hex digits of its old and new digests)."""
    files: Details = {
        f"file:{c.name}"[:300]: f"{(c.old or 'absent')[:19]} -> {(c.new or 'supprimé')[:19]}"
        for c in changed[:40]}
    return _event(
        AuditAction.CONFIGURATION, actor, client, DecisionOutcome.ALLOW, RULE_POLICY_DEPLOYED,
        entity_keys=["policy:deployed"] + [f"policy-file:{c.name}" for c in changed][:MAX_IDS],
        personal_data=False,
        details={"event": "policy_deployed", "deployed_by": deployment.deployed_by,
                 "combined_digest": deployment.combined,
                 "previous_digest": deployment.old_combined, "files_changed": len(changed),
                 "directory": directory[:300], **files})

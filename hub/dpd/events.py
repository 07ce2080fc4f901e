"""What the trail records of the DPD's own reading: a report read is a consultation of the trail
(it names officers and what they looked up), justified; the weekly run hands the report to the
auditors — a disclosure to them, by the hub. ``operator``: the operating-system account that ran
a CLI command (the hub acts, someone at the console asked)."""

from __future__ import annotations

from policies.audit import SYSTEM_ACTOR, Actor, AuditAction, AuditEvent, Decision, DecisionOutcome

RULE_WEEKLY = "dpd-controle-hebdomadaire"
RULE_SUBJECT = "dpd-droit-d-acces-indirect"
# Keys one event names at most (people named by a report, a subject's leads).
_MAX = 500


def weekly_report_event(*, actor: Actor, origin: str | None, week: str, user_ids: list[str],
                        findings: int, justification: str, document: str,
                        recipients: list[str] | None = None, operator: str | None = None) -> AuditEvent:
    """A weekly report read (``recipients`` None) or handed to the auditors by the hub."""
    action = AuditAction.DISCLOSURE if recipients else AuditAction.CONSULTATION
    return AuditEvent(
        action=action, actor=actor, client_address=origin or "inconnu",
        decision=Decision(outcome=DecisionOutcome.FULL, rule_id=RULE_WEEKLY),
        entity_keys=[f"dpd-report:{week}", *[f"user:{u}" for u in user_ids[:_MAX]]],
        justification=justification, recipients=recipients or [],
        details={"document": f"controle-dpd-{document}", "week": week, "findings": findings,
                 **({"operator": operator} if operator else {})})


def subject_access_event(*, actor: Actor, origin: str | None, keys: list[str], lead_ids: list[str],
                         consultations: int, justification: str, document: str,
                         operator: str | None = None) -> AuditEvent:
    return AuditEvent(
        action=AuditAction.CONSULTATION, actor=actor, client_address=origin or "inconnu",
        decision=Decision(outcome=DecisionOutcome.FULL, rule_id=RULE_SUBJECT),
        lead_ids=lead_ids[:_MAX], entity_keys=["dpd-subject-access", *keys[:_MAX]],
        justification=justification,
        details={"document": f"droit-d-acces-{document}", "leads": len(lead_ids),
                 "consultations": consultations, **({"operator": operator} if operator else {})})


__all__ = ["RULE_SUBJECT", "RULE_WEEKLY", "SYSTEM_ACTOR", "subject_access_event", "weekly_report_event"]

"""The rulebook: every rule the hub applies, loaded and validated once, together.

The access policy (roles with their permissions, agencies, property groups, reading rules),
triage, deconfliction, retention, citizen-receipt, watchlist, second-factor and federation rules. ``hub.create_app`` loads one
rulebook and hands it out as a dependency; graph functions and jobs take the rules they apply as
a required argument, so no rule is ever re-read behind the caller's back, and a test can run the
hub on other rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hub.contract.errors import ConfigurationError
from policies.accounts import ACCOUNTS_FILE, AccountRules, load_account_rules
from policies.audit_retention import AUDIT_RETENTION_FILE, AuditRetention, load_audit_retention
from policies.deconfliction import (
    DECONFLICTION_FILE,
    DeconflictionRules,
    load_deconfliction_rules,
)
from policies.disclosure import (
    DISCLOSURE_FILE,
    DisclosureRules,
    load_disclosure_rules,
    uncovered_fields,
)
from policies.dpd_watch import DPD_WATCH_FILE, DpdWatchRules, load_dpd_watch_rules
from policies.federation import FEDERATION_FILE, FederationRules, load_federation_rules
from policies.operations import OPERATIONS_FILE, OperationsRules, load_operations_rules
from policies.loader import data_dir, load_policy
from policies.models import Policy
from policies.receipts import RECEIPTS_FILE, ReceiptRules, load_receipt_rules
from policies.resolution import RESOLUTION_FILE, ResolutionRules, load_resolution_rules
from policies.retention import RETENTION_FILE, RetentionPolicy, load_retention_policy
from policies.second_factor import (
    SECOND_FACTOR_FILE,
    SecondFactorRules,
    load_second_factor_rules,
)
from policies.triage import TRIAGE_FILE, TriageRules, load_triage_rules
from policies.watches import WATCHES_FILE, WatchRules, load_watch_rules


@dataclass(frozen=True, slots=True)
class Rulebook:
    policy: Policy
    triage: TriageRules
    deconfliction: DeconflictionRules
    retention: RetentionPolicy
    receipts: ReceiptRules
    watches: WatchRules = field(default_factory=WatchRules)  # watchlists (policies/watches.py)
    # entity resolution, « Rapprochements » (policies/resolution.py)
    resolution: ResolutionRules = field(default_factory=ResolutionRules)
    # Graded disclosure and its deadline (policies/disclosure.py).
    disclosure: DisclosureRules = field(default_factory=DisclosureRules)
    # Which actions need a fresh second factor (policies/second_factor.py).
    second_factor: SecondFactorRules = field(default_factory=SecondFactorRules)
    # Federation between CROSS hubs: scopes, quotas, follow-up (policies/federation.py).
    federation: FederationRules = field(default_factory=FederationRules)
    # The DPD's watch on the audit trail: thresholds of the weekly report (policies/dpd_watch.py).
    dpd_watch: DpdWatchRules = field(default_factory=DpdWatchRules)
    # Accounts over time: inactivity per role, the access review (policies/accounts.py).
    accounts: AccountRules = field(default_factory=AccountRules)
    # The watch on the connectors: silence and quarantine growth (policies/operations.py).
    operations: OperationsRules = field(default_factory=OperationsRules)
    # Retention of the audit trail itself: online, then archived (policies/audit_retention.py).
    audit_retention: AuditRetention = field(default_factory=AuditRetention)


def load_rulebook(directory: Path | str | None = None) -> Rulebook:
    """Every rules file of ``directory`` (default: the packaged ``policies/data``), each read and
    validated exactly once. Raises ``ConfigurationError`` naming the file and line of a problem."""
    base = data_dir(directory)
    policy = load_policy(directory)
    disclosure = load_disclosure_rules(base / DISCLOSURE_FILE)
    uncovered = uncovered_fields(disclosure, policy)
    if uncovered:
        # A lead field outside every group would ride along in any partial release.
        source = str(base / DISCLOSURE_FILE)
        raise ConfigurationError(
            f"Règles de communication invalides : {source} : always_shown : champ(s) de piste "
            f"dans aucun groupe de propriétés : {', '.join(uncovered)}",
            details=[{"file": source, "line": 1, "field": "always_shown",
                      "reason": f"champ(s) dans aucun groupe : {', '.join(uncovered)}"}])
    return Rulebook(
        policy=policy,
        triage=load_triage_rules(base / TRIAGE_FILE),
        deconfliction=load_deconfliction_rules(base / DECONFLICTION_FILE),
        retention=load_retention_policy(base / RETENTION_FILE),
        receipts=load_receipt_rules(base / RECEIPTS_FILE),
        watches=load_watch_rules(base / WATCHES_FILE),
        resolution=load_resolution_rules(base / RESOLUTION_FILE),
        second_factor=load_second_factor_rules(base / SECOND_FACTOR_FILE),
        disclosure=disclosure,
        federation=load_federation_rules(base / FEDERATION_FILE),
        dpd_watch=load_dpd_watch_rules(base / DPD_WATCH_FILE),
        accounts=load_account_rules(base / ACCOUNTS_FILE),
        operations=load_operations_rules(base / OPERATIONS_FILE),
        audit_retention=load_audit_retention(base / AUDIT_RETENTION_FILE),
    )

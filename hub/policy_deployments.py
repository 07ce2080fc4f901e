"""Every change of the policy files enters the audit trail with who deployed it.

At each hub start (hub/app.py's lifespan) and on ``crosshub policy deploy``, the digest of every
file of the rules directory in force (``settings.rules_dir``, else the packaged
``policies/data``) and their combined digest are compared with the ones last recorded in the
graph (graph/policy_deployments.py); a difference is recorded there and appended to the trail as
one ``configuration`` event naming the files, their old and new digests and who deployed:
``settings.deployed_by`` (``CROSSHUB_DEPLOYED_BY``) or the CLI's ``--by``; unset, the entry says
« inconnu » — visibly, so an auditor sees a deployment nobody signed.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

from graph import policy_deployments as graph_deployments
from graph.handle import Graph
from hub.audit import AuditTrail
from hub.audit.account_events import operator_named, policy_deployed
from policies.audit import SYSTEM_ACTOR
from hub.settings import Settings
from policies.diff import changed_files, combined_digest, file_digests
from policies.loader import data_dir

log = logging.getLogger("crosshub.policy")

UNKNOWN_DEPLOYER = "inconnu"


def rules_directory(settings: Settings) -> Path:
    return Path(str(data_dir(settings.rules_dir)))


def record_policy_files(graph: Graph, audit: AuditTrail, settings: Settings, *,
                        deployed_by: str | None = None, origin: str = "crosshub:demarrage",
                        now: datetime | None = None) -> graph_deployments.Deployment | None:
    """Record the rules directory's digests if they changed since the last record; the change
    (None when nothing changed). The trail entry is appended before the graph commits."""
    directory = rules_directory(settings)
    files = file_digests(directory)
    by = (deployed_by or settings.deployed_by or "").strip() or UNKNOWN_DEPLOYER
    actor = SYSTEM_ACTOR if by == UNKNOWN_DEPLOYER else operator_named(by)

    def log_it(change: graph_deployments.Deployment) -> None:
        audit.append(policy_deployed(origin, actor, change,
                                     changed_files(change.old_files, change.files), str(directory)))

    change = graph_deployments.record_deployment(
        graph, files=files, combined=combined_digest(files), deployed_by=by,
        now=now or datetime.now(UTC), before_commit=log_it)
    if change is not None:
        log.info("policy files changed: %s, deployed by %s",
                 ", ".join(c.name for c in changed_files(change.old_files, change.files)), by)
    return change

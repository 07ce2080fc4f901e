"""The hub's own background work, one module per job. Every hub process runs the same jobs; the
graph makes each happen once across them (``once.py``, graph/leases.py, docs/decisions/0013).
The retention purge and the briefs can also run standalone from the CLI.

- ``retention.py`` — the retention purge: which leads are due, logged erasure, then erasure;
- ``briefs.py`` — the weekly meeting briefs: one copy per participant, logged as a disclosure;
- ``triage.py`` — the triage worker: scores freshly ingested leads, link alerts, notices;
- ``grant_expiry.py`` — the audited end of guest grants and disclosures at their term;
- ``watch_hits.py`` — after each triage batch, each watcher told what the policy allows them of
  the leads touching their watches (ADR 0018); watches ended with their owner's rights;
- ``watch_delivery.py`` — watch signals outside the app (webhook, e-mail: no lead content), the
  daily digest, « Vos veilles » in the weekly brief;
- ``schedule.py`` — the hub's APScheduler, running ``retention`` and ``briefs`` on their crontab;
- ``once.py`` — leases and run claims in the graph: one holder per loop job, one run per due time;
- ``standalone.py`` — the graph driver and audit trail a job opens when called outside the hub.
"""

"""The hub's own background work, one module per job. Every job writes to the audit trail, whose
single writer is the running hub, so they run inside its process (or, for the retention purge and
the briefs, standalone from the CLI when no hub holds the trail).

- ``retention.py`` — the retention purge: which leads are due, logged erasure, then erasure;
- ``briefs.py`` — the weekly meeting briefs: one copy per participant, logged as a disclosure;
- ``triage.py`` — the triage worker: scores freshly ingested leads, link alerts, notices;
- ``grant_expiry.py`` — the audited end of guest grants and disclosures at their term;
- ``schedule.py`` — the hub's APScheduler, running ``retention`` and ``briefs`` on their crontab;
- ``standalone.py`` — the graph driver and audit trail a job opens when called outside the hub.
"""

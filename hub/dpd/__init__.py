"""The data protection officer's (DPD) watch on the audit trail, for auditors (issue 17, ADR 0030).

- weekly.py — the weekly report: a week of the trail read (trail.py), the pure watch's findings
  (policies/dpd_watch.py, thresholds in policies/data/dpd_watch.yaml) with links to exactly the
  entries behind each;
- subject.py — a data subject's access report (LED art. 14 and 17): the leads mentioning a
  pseudonym, plate or phone (graph/subject_access.py) and who consulted them, when;
- render.py — both in French, HTML and PDF (templates/);
- events.py — what the trail records of the DPD reading them.

Delivered by ``crosshub dpd`` (hub/cli/dpd.py), ``/api/v1/dpd/…`` (hub/routers/dpd.py, the
``audit.read`` action) and the weekly job (hub/jobs/dpd.py).
"""

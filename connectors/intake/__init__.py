"""The intake connector (ADR 0014): a connector process for CROSS members without a source system
of their own (police judiciaire, PAF, GIR, préfecture, OFAST, bailleurs sociaux). A person signs
in with their hub account and enters leads through a form or a spreadsheet import; the leads
run through the base pipeline with the CROSS linkage key, so a name typed here becomes a keyed
pseudonym here and never reaches the hub. Each push names the person (their hub session token),
and the hub checks they may enter leads of that service and records them as provenance.

* ``fields`` — the columns, the proposed mapping, one row to a draft lead with French errors;
* ``sheets`` — CSV/XLSX upload to rows of text, in memory;
* ``connector`` — the connector (collect/map), validation and submission on behalf of a person;
* ``web`` — the service's French pages (DSFR), sign-in through the hub, anti-CSRF.
"""

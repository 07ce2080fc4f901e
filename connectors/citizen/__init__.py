"""Citizens' platform connector: anonymous reports and chat transcripts, JSON lines day files;
and the citizen's receipt (codes, the code ↔ report book, the exchange with the hub and the
platform: ``receipts``, ``platform``; ADR 0015)."""

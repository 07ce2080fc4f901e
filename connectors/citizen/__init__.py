"""Citizens' platform connector: anonymous reports and chat transcripts, JSON lines day files."""

"""Backup and restore of the hub's state: the graph, the keys and the audit trail
(``crosshub backup`` / ``crosshub restore``; docs/decisions/0027-backup-and-restore.md).

manifest.py (a backup's layout, checksums and signature, and checking them), files.py (the keys
and the audit trail, copied in private and put back only where missing), make.py (making one:
the graph's consistent cut, the backup point, atomic completion, pruning), restore.py (bringing
one back without ever rewinding the trail). The graph's copy itself is graph/backup.py; what
the trail says of backups and restores, and what ``verify`` makes of it, hub/audit/restores.py.
"""

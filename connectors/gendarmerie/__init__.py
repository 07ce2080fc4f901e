"""Gendarmerie connector: a paginated JSON REST feed (the feed's stand-in server, for tests and
demos, lives with the demo data, outside this package)."""

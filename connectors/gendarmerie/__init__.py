"""Gendarmerie connector: a paginated JSON REST feed, with a stand-in server for tests and demos."""

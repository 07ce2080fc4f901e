"""Customs (douanes) connector: XML seizure and control reports on a read-only share."""

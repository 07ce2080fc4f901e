"""Police connector: LRPPN-style CSV exports dropped in an inbox directory."""

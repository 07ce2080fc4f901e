"""Operations: what the people running a hub read of it — Prometheus metrics (``metrics``) and
structured JSON logs without personal data (``logs``). Wiring only; the connector watch's rule
is ``policies.operations``, its facts and alerts ``graph.operations``."""

"""What the graph layer needs to know to reach Neo4j: a small frozen config of its own.

The hub builds it from its settings (``Settings.graph_config``); a benchmark or a test can build
it directly. ``graph/`` never reads the hub's settings: the arrow points down.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr


class GraphConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    # An external server (cluster, Aura) when set; else the local server under ``home``.
    uri: str | None = None
    user: str = "neo4j"
    password: SecretStr | None = None
    database: str = "neo4j"
    # The local server: where it lives, which release, how much memory.
    home: Path
    version: str = "5.26.30"
    heap: str = "512m"
    pagecache: str = "256m"

    @property
    def uses_local_server(self) -> bool:
        return self.uri is None

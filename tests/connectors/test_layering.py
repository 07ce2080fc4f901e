"""Connectors run on the agencies' hosts and speak to the hub over HTTP only: nothing in
``connectors/`` may import the graph layer or the Neo4j driver, directly or through another
module, and of the hub they may use only its shared contract (``hub.contract``)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import connectors

PACKAGE = Path(connectors.__file__).resolve().parent
ROOT = PACKAGE.parent
FORBIDDEN = ("graph", "neo4j")


def _modules() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    assert len(files) > 20, "the connectors package was not found where expected"
    return files


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of everything ``path`` imports (relative imports resolved), with lines."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # ``from hub import app`` imports hub.app: check the names too.
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "id", None) == "__import__"
                   or getattr(node.func, "attr", None) == "import_module")):
            # __import__("x") and importlib.import_module("x") with a literal name.
            found.append((node.lineno, node.args[0].value))
    return found


def test_no_connector_module_imports_the_graph_or_neo4j() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules() for line, name in _imports(path)
        if name.split(".")[0] in FORBIDDEN
    ]
    assert not offences, "\n".join(offences)


def test_connectors_use_only_the_hub_contract() -> None:
    offences = [
        f"{path.relative_to(ROOT)}:{line} imports {name}"
        for path in _modules() for line, name in _imports(path)
        if name.split(".")[0] == "hub" and name != "hub" and not name.startswith("hub.contract")
    ]
    assert not offences, "\n".join(offences)


def test_importing_every_connector_module_loads_no_graph_code() -> None:
    """The transitive check: import all of ``connectors`` in a fresh interpreter and look at what
    got loaded (an allowed module could itself pull the graph in)."""
    code = (
        "import importlib, json, pkgutil, sys, connectors\n"
        "for m in pkgutil.walk_packages(connectors.__path__, 'connectors.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    loaded = json.loads(out.stdout.strip().splitlines()[-1])
    assert "connectors.demo.pipeline" in loaded and "connectors.police.connector" in loaded
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN
           or (m.startswith("hub.") and not m.startswith("hub.contract"))
           or m.split(".")[0] in ("policies", "fastapi")]
    assert not bad, bad

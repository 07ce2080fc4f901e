"""Every import points down: the rooms table of docs/architecture.md, checked on every module.

The table is read from the document itself, so the docs and the rule cannot drift apart. Three
checks: the imports written in each file (including those inside functions, ``__import__`` and
``importlib.import_module`` with a literal name), what importing each room really loads in a fresh
interpreter (an allowed module could pull a forbidden one in), and no import circle between files.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
TOP = ("hub", "graph", "policies", "connectors")


# --- the table ---------------------------------------------------------------------------------


@cache
def rooms() -> dict[str, dict[str, object]]:
    """room → {"packages": [...], "except": [...], "may": {...}, "never": {...}}."""
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Rooms and what each may import", 1)[1].split("\n## ", 1)[0]
    table: dict[str, dict[str, object]] = {}
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("room", "") or set(cells[0]) <= {"-"}:
            continue
        name, packages, may, never = cells
        table[name] = {
            "packages": re.findall(r"`([\w.]+)`(?! \))", packages.split("(except")[0]),
            "except": re.findall(r"`([\w.]+)`", packages.split("(except")[1]) if "(except" in packages else [],
            "may": {m.strip() for m in may.split(",") if m.strip() not in ("—", "")},
            "never": {n.strip() for n in never.split(",") if n.strip() not in ("—", "")},
        }
    return table


def room_of(module: str) -> str | None:
    """The room a dotted module name belongs to (the most specific package wins)."""
    best: tuple[int, str] | None = None
    for name, room in rooms().items():
        for package in room["packages"]:  # type: ignore[union-attr]
            if module == package or module.startswith(package + "."):
                excluded = any(module == e or module.startswith(e + ".")
                               for e in room["except"])  # type: ignore[union-attr]
                if not excluded and (best is None or len(package) > best[0]):
                    best = (len(package), name)
    return best[1] if best else None


def test_the_table_names_every_room_and_only_known_rooms() -> None:
    table = rooms()
    assert set(table) == {"kernel", "policies", "connectors", "demo", "intake", "graph", "hub"}
    for name, room in table.items():
        assert room["may"] <= set(table), (name, room["may"])
    assert table["kernel"]["may"] == set(), "the kernel imports nothing of ours"


# --- the imports written in each file ---------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    # Cached: written_imports asks it once per imported name, and walking the tree every time
    # made this file the slowest of the suite (286 s on CI).
    found = {_module_name(p): p for top in TOP for p in sorted((ROOT / top).rglob("*.py"))}
    assert len(found) > 150, "the packages were not found where expected"
    return found


@cache
def written_imports(path: Path) -> list[tuple[int, str, bool]]:
    """(line, absolute module name, runs) for everything ``path`` imports; ``runs`` is False for
    an import under ``if TYPE_CHECKING:`` (a dependency for the rooms, never executed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    type_only = {id(n) for node in ast.walk(tree)
                 if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
                 for n in ast.walk(node)}
    found: list[tuple[int, str, bool]] = []
    for node in ast.walk(tree):
        at_top = id(node) not in type_only
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, at_top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [f"{module}.{alias.name}" for alias in node.names]
            # ``from graph import tx`` imports the module graph.tx; ``from graph.x import f`` does not
            found += [(node.lineno, n, at_top) for n in names if n in modules()] or [
                (node.lineno, module, at_top)]
        elif (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and (getattr(node.func, "id", None) == "__import__"
                   or getattr(node.func, "attr", None) == "import_module")):
            found.append((node.lineno, node.args[0].value, True))
    return found


@pytest.mark.parametrize("room", ["kernel", "policies", "connectors", "demo", "intake", "graph", "hub"])
def test_each_file_imports_only_the_rooms_below_it(room: str) -> None:
    table = rooms()
    allowed = table[room]["may"] | {room}
    never = table[room]["never"]
    offences = []
    checked = 0
    for name, path in modules().items():
        if room_of(name) != room:
            continue
        checked += 1
        for line, target, _ in written_imports(path):
            top = target.split(".")[0]
            if top in TOP:
                if target == "hub":  # the bare package: its __init__ is empty (checked below)
                    continue
                target_room = room_of(target)
                if target_room not in allowed:
                    offences.append(f"{path.relative_to(ROOT)}:{line} imports {target} "
                                    f"(room {target_room})")
            elif top in never:
                offences.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert checked, f"no module found in room {room}"
    assert not offences, "\n".join(offences)


def test_the_hub_package_itself_imports_nothing() -> None:
    """Importing the kernel runs ``hub/__init__.py``: it must load nothing of the upper hub."""
    assert not written_imports(ROOT / "hub" / "__init__.py")


# --- what importing a room really loads -------------------------------------------------------


def _loaded_by(room: str) -> list[str]:
    names = [n for n in modules() if room_of(n) == room]
    code = (
        "import importlib, json, sys\n"
        f"for name in {names!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=180, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("room", ["kernel", "policies", "connectors", "demo", "intake", "graph"])
def test_importing_a_room_loads_nothing_above_it(room: str) -> None:
    table = rooms()
    allowed = table[room]["may"] | {room}
    loaded = _loaded_by(room)
    assert any(room_of(m) == room for m in loaded)
    bad = [m for m in loaded
           if (m.split(".")[0] in TOP and m != "hub" and room_of(m) not in allowed)
           or m.split(".")[0] in table[room]["never"]]
    assert not bad, bad


# --- no import circle between files -----------------------------------------------------------


def test_no_import_circle_between_files() -> None:
    """Between modules of ours, on every import that runs — an import inside a function runs late
    and is how a real circle gets hidden, so those count too; only ``if TYPE_CHECKING:`` imports,
    which never run, are left out."""
    mods = modules()
    edges: dict[str, set[str]] = {name: set() for name in mods}
    for name, path in mods.items():
        for _, target, runs in written_imports(path):
            if not runs:
                continue
            while target and target not in mods:
                target = target.rpartition(".")[0]
            # A package's __init__ re-exporting its modules is not a circle with them.
            if target and target != name and not name.startswith(target + ".") \
                    and not target.startswith(name + "."):
                edges[name].add(target)
    cycles = _strongly_connected(edges)
    assert not cycles, "\n".join(" → ".join(sorted(c)) for c in cycles)


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[set[str]] = []
    counter = 0
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(component)

    for v in list(edges):
        if v not in index:
            visit(v)
    return result

"""No module of graph/, policies/ or hub/ grows past ~450 lines unless its one job is long.

A module past the limit usually holds several aggregates; split it by aggregate (graph/analysis/,
graph/workflow/ …). The few whose single job is long are listed with the reason, and their own
ceiling, so that they do not keep growing unnoticed."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 450
ROOMS = ("graph", "policies", "hub")

# module → (ceiling, why its one job is long)
LONG_ONE_JOB = {
    "hub/contract/lead.py": (500, "the canonical lead contract: one schema with its validators"),
    "hub/contract/identifiers.py": (500, "the personal-identifier detector: one scanner, its patterns "
                                         "and their French reasons"),
    "policies/models.py": (510, "the access policy's vocabulary: every model the YAML files validate"),
    "policies/triage.py": (470, "the triage rules and their scoring, one pure function family"),
    "graph/read.py": (500, "the policy-filtered read of a lead and of an entity's network "
                           "(and of the entities merged with it)"),
    "graph/server.py": (480, "one local Neo4j server's lifecycle: install, configure, start, wait, "
                             "stop, and its offline bulk import"),
}


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_past_the_limit_unless_its_one_job_is_long() -> None:
    over = {}
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            n = _lines(path)
            ceiling = LONG_ONE_JOB.get(rel, (LIMIT, ""))[0]
            if n > ceiling:
                over[rel] = n
    assert not over, f"modules past their ceiling (split them by aggregate): {over}"


def test_the_exemptions_are_still_needed() -> None:
    """An exempted module that shrank below the limit loses its exemption."""
    stale = [m for m in LONG_ONE_JOB if not (ROOT / m).exists() or _lines(ROOT / m) <= LIMIT]
    assert not stale, stale

"""Reading the policy files: ``load_policy(directory=None) -> Policy``.

Owns turning YAML into a validated ``Policy`` and, when that fails, telling a person exactly
where: every error is a ``ConfigurationError`` naming the file and the line. To get lines, YAML
is parsed with a ``SafeLoader`` subclass whose mappings and sequences remember the line of each
key and item; a pydantic error location (``rules[3].effect``) is walked back through them.

Files (default: the packaged ``policies/data``): ``roles.yaml``, ``agencies.yaml``,
``properties.yaml``, ``rules.yaml``. Each is validated on its own, in that order, because rules
refer to the property groups.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Iterator
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from hub.contract.errors import ConfigurationError
from policies.models import AgenciesFile, Policy, PropertiesFile, RolesFile, RulesFile

FILES = ("roles.yaml", "agencies.yaml", "properties.yaml", "rules.yaml")
M = TypeVar("M", bound=BaseModel)


class _LineDict(dict):
    """A YAML mapping that remembers where it and each of its keys start (1-based lines)."""

    line: int
    key_lines: dict[Any, int]


class _LineList(list):
    line: int
    item_lines: list[int]


class _DuplicateKey(yaml.MarkedYAMLError):
    pass


class _LineLoader(yaml.SafeLoader):
    """SafeLoader (no arbitrary objects) that records lines and refuses duplicate keys — plain
    YAML keeps the last of two ``effect:`` silently, which in a policy is a hidden override."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[_LineDict]:
    data = _LineDict()
    data.line = node.start_mark.line + 1
    data.key_lines = {}
    yield data  # yielded first so recursive structures resolve, as PyYAML's own constructor does
    loader.flatten_mapping(node)  # honour "<<" merge keys like SafeLoader
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "dans une table", node.start_mark, "clé non admise (liste ou table)", key_node.start_mark
            )
        if key in data:
            raise _DuplicateKey(
                "dans une table", node.start_mark, f"clé « {key} » en double", key_node.start_mark
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.key_lines[key] = key_node.start_mark.line + 1


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[_LineList]:
    data = _LineList()
    data.line = node.start_mark.line + 1
    data.item_lines = [child.start_mark.line + 1 for child in node.value]
    yield data
    data.extend(loader.construct_object(child, deep=True) for child in node.value)


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_sequence)


def line_of(data: Any, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node of ``loc`` that exists in ``data`` (a missing field points
    at the mapping that lacks it). Parts pydantic adds that are not in the data (union tags,
    validator names) are skipped."""
    line = getattr(data, "line", 1)
    node = data
    for part in loc:
        if isinstance(node, _LineDict) and part in node:
            line, node = node.key_lines[part], node[part]
        elif isinstance(node, _LineList) and isinstance(part, int) and 0 <= part < len(node):
            line, node = node.item_lines[part], node[part]
    return line


def _loc_str(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(racine)"


def _reason_fr(err: dict[str, Any]) -> str:
    """Pydantic's messages are English; the people fixing policy files read French."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "missing":
        return "champ obligatoire manquant"
    if kind == "extra_forbidden":
        return "champ inconnu"
    if kind in ("enum", "literal_error"):
        expected = str(ctx.get("expected", "?")).replace(" or ", " ou ")
        return f"valeur non admise {err.get('input')!r} : attendu {expected}"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    if kind == "string_pattern_mismatch":
        return f"format invalide {err.get('input')!r} (motif {ctx.get('pattern')})"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        return f"type inattendu ({type(err.get('input')).__name__})"
    if kind in ("bool_parsing", "bool_type"):
        return "booléen attendu (true/false)"
    if kind in ("string_type", "string_too_short", "too_short"):
        return "texte ou liste non vide attendu"
    return err["msg"]


def _fail(
    source: str, line: int, where: str, reason: str, more: list[dict[str, Any]] | None = None
) -> ConfigurationError:
    details = more or [{"file": source, "line": line, "field": where, "reason": reason}]
    extra = f" (et {len(details) - 1} autre(s) erreur(s))" if len(details) > 1 else ""
    return ConfigurationError(
        f"Politique d'accès invalide : {source}, ligne {line} : {where} : {reason}{extra}",
        details=details,
    )


def _parse(source: str, text: str) -> Any:
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        reason = exc.problem or str(exc)
        if exc.context and exc.context_mark and exc.context_mark.line + 1 != line:
            # An unclosed quote is detected at the end of the file; where it began is what
            # the person needs.
            reason += f" ({exc.context}, commencé ligne {exc.context_mark.line + 1})"
        where = "table YAML" if isinstance(exc, _DuplicateKey) else "syntaxe YAML"
        raise _fail(source, line, where, reason) from exc
    except yaml.YAMLError as exc:
        raise _fail(source, 1, "syntaxe YAML", str(exc)) from exc


def _validate(
    model: type[BaseModel], source: str, data: Any, context: dict[str, Any] | None = None
) -> Any:
    if not isinstance(data, dict):
        raise _fail(source, getattr(data, "line", 1), "(racine)", "une table YAML est attendue")
    try:
        return model.model_validate(data, context=context)
    except ValidationError as exc:
        details = [
            {
                "file": source,
                "line": line_of(data, err["loc"]),
                "field": _loc_str(err["loc"]),
                "reason": _reason_fr(err),
            }
            for err in exc.errors()
        ]
        first = details[0]
        raise _fail(source, first["line"], first["field"], first["reason"], details) from exc


def _unique_ids(source: str, data: Any, items: list[Any], key: str, what: str) -> None:
    seen: set[str] = set()
    for i, item in enumerate(items):
        ident = getattr(item, "id")
        if ident in seen:
            loc = (key, i, "id")
            raise _fail(source, line_of(data, loc), _loc_str(loc), f"{what} « {ident} » en double")
        seen.add(ident)


def data_dir(directory: Path | str | None = None) -> Traversable:
    """Where the rule files are: ``directory``, or the packaged ``policies/data``."""
    return Path(directory) if directory is not None else resources.files("policies") / "data"


def read_rules_text(entry: Traversable) -> str:
    """The one place a rules file is read (tests count the reads: each file once per rulebook)."""
    return entry.read_text(encoding="utf-8")


def load_rules_file(model: type[M], entry: Traversable, what_fr: str,
                    check: Callable[[str, Any, M], None] | None = None) -> M:
    """One YAML rules file (triage, deconfliction, retention…) validated as ``model``, with its
    ``digest``. ``check`` adds the file's own cross-item checks (raise ``_fail``). Every problem
    is a ``ConfigurationError`` naming the file and line: « Règles de <what_fr> invalides : … »."""
    source = str(entry)
    if not entry.is_file():
        raise ConfigurationError(f"Règles de {what_fr} introuvables : {source}", details=[
            {"file": source, "line": 1, "field": "(fichier)", "reason": "fichier manquant"}])
    text = read_rules_text(entry)
    try:
        data = _parse(source, text)
        rules = _validate(model, source, data)
        if check is not None:
            check(source, data, rules)
    except ConfigurationError as exc:
        first = exc.details[0] if exc.details else {}
        raise ConfigurationError(
            f"Règles de {what_fr} invalides : {first.get('file', source)}, ligne "
            f"{first.get('line', 1)} : {first.get('field', '?')} : {first.get('reason', exc.message)}",
            details=exc.details) from exc
    if "digest" in model.model_fields:
        rules = rules.model_copy(update={"digest": "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()})
    return rules


def load_policy(directory: Path | str | None = None) -> Policy:
    """Load and validate the policy in ``directory`` (default: the packaged policy data).
    Raises ``ConfigurationError`` naming the file and line of the first problem."""
    base = data_dir(directory)
    texts: dict[str, tuple[str, str]] = {}
    for name in FILES:
        entry = base / name
        source = str(entry)
        if not entry.is_file():
            raise _fail(source, 1, "(fichier)", "fichier de politique manquant")
        texts[name] = (source, read_rules_text(entry))

    parsed = {name: _parse(source, text) for name, (source, text) in texts.items()}
    src = {name: source for name, (source, _) in texts.items()}

    roles = _validate(RolesFile, src["roles.yaml"], parsed["roles.yaml"])
    agencies = _validate(AgenciesFile, src["agencies.yaml"], parsed["agencies.yaml"])
    props = _validate(PropertiesFile, src["properties.yaml"], parsed["properties.yaml"])
    _unique_ids(src["properties.yaml"], parsed["properties.yaml"], props.property_groups,
                "property_groups", "groupe")
    rules = _validate(
        RulesFile, src["rules.yaml"], parsed["rules.yaml"],
        context={"property_groups": [g.id for g in props.property_groups]},
    )
    _unique_ids(src["rules.yaml"], parsed["rules.yaml"], rules.rules, "rules", "règle")

    digest = hashlib.sha256()
    for name in FILES:
        digest.update(name.encode() + b"\0" + texts[name][1].encode("utf-8") + b"\0")
    try:
        return Policy(
            roles=roles.roles,
            agencies=agencies.agencies,
            property_groups=props.property_groups,
            rules=rules.rules,
            digest="sha256:" + digest.hexdigest(),
        )
    except ValidationError as exc:  # pragma: no cover - the per-file checks above come first
        raise _fail(str(base), 1, "(politique)", str(exc)) from exc

"""Validation errors as a person reads them: the exact field path (``leads[3].vehicles[0].plate``)
and a French reason. Our own validators already speak French; pydantic's built-in messages are
translated here by error type."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from hub.contract.lead import ItemError

_FRENCH: dict[str, str] = {
    "missing": "champ obligatoire manquant",
    "extra_forbidden": "champ non autorisé (le schéma de piste est strict ; aucune donnée "
                       "d'identité du déclarant ni champ inconnu n'est admis)",
    "timezone_aware": "date et heure sans fuseau horaire : préciser le décalage (p. ex. +02:00)",
    "datetime_parsing": "date et heure illisibles (format ISO 8601 attendu)",
    "datetime_type": "date et heure attendues",
    "datetime_from_date_parsing": "date et heure illisibles (format ISO 8601 attendu)",
    "string_type": "chaîne de caractères attendue",
    "string_too_short": "texte trop court",
    "string_too_long": "texte trop long",
    "string_pattern_mismatch": "format invalide",
    "int_type": "nombre entier attendu",
    "int_parsing": "nombre entier attendu",
    "float_type": "nombre attendu",
    "float_parsing": "nombre attendu",
    "decimal_parsing": "nombre décimal attendu",
    "decimal_type": "nombre décimal attendu",
    "decimal_max_digits": "trop de chiffres",
    "decimal_max_places": "trop de décimales",
    "bool_type": "booléen attendu",
    "list_type": "liste attendue",
    "dict_type": "objet attendu",
    "model_type": "objet attendu",
    "model_attributes_type": "objet attendu",
    "enum": "valeur hors vocabulaire",
    "literal_error": "valeur hors vocabulaire",
    "greater_than": "valeur trop petite",
    "greater_than_equal": "valeur trop petite",
    "less_than": "valeur trop grande",
    "less_than_equal": "valeur trop grande",
    "too_short": "liste trop courte",
    "too_long": "liste trop longue",
    "json_invalid": "JSON invalide",
}


def field_path(loc: tuple[int | str, ...], prefix: str = "") -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-after", "function-before", "function-plain")):
            continue  # validator wrappers in the location add nothing a person needs
        else:
            path += f".{part}" if path else part
    return path or "(racine)"


def french_reason(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "value_error":
        # Our validators raise ValueError with French text; pydantic prefixes "Value error, ".
        return str(error.get("msg", "")).removeprefix("Value error, ")
    base = _FRENCH.get(kind)
    if base is None:
        return str(error.get("msg", "valeur invalide"))
    ctx = error.get("ctx") or {}
    if kind in {"enum", "literal_error"} and "expected" in ctx:
        return f"{base} : attendu {ctx['expected']}"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = next(iter(ctx.values()), None)
        return f"{base} (borne : {bound})"
    if kind in {"string_too_long", "too_long"} and "max_length" in ctx:
        return f"{base} (maximum {ctx['max_length']})"
    if kind == "string_pattern_mismatch" and "pattern" in ctx:
        return f"{base} (motif attendu {ctx['pattern']})"
    return base


def item_errors(exc: ValidationError, prefix: str = "") -> list[ItemError]:
    return [ItemError(field=field_path(tuple(e["loc"]), prefix), reason=french_reason(e))
            for e in exc.errors()]

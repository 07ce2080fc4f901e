"""Connectors are found through the entry-point group ``crosshub.connectors``::

    [project.entry-points."crosshub.connectors"]
    police = "connectors.police:PoliceConnector"

A broken entry point (import error, not a ``Connector``, name mismatch) is skipped and reported by
``load_errors()``: one broken connector never stops the others.
"""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector
from hub.contract.errors import ConfigurationError

GROUP = "crosshub.connectors"
log = logging.getLogger("crosshub.connectors.registry")

_errors: dict[str, str] = {}


def _check(ep: EntryPoint, obj: object) -> type[Connector]:
    if not (isinstance(obj, type) and issubclass(obj, Connector)):
        raise ConfigurationError(f"{ep.value} n'est pas une sous-classe de Connector")
    if getattr(obj, "name", None) != ep.name:
        raise ConfigurationError(
            f"{ep.value}.name vaut « {getattr(obj, 'name', None)} », le point d'entrée « {ep.name} »"
        )
    if not hasattr(obj, "settings_model"):
        raise ConfigurationError(f"{ep.value} ne déclare pas settings_model")
    return obj


def load_connectors() -> dict[str, type[Connector]]:
    """Registered connector classes by name (sorted)."""
    found: dict[str, type[Connector]] = {}
    _errors.clear()
    for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        if ep.name in found:
            _errors[ep.name] = f"point d'entrée « {ep.name} » déclaré deux fois ({ep.value} ignoré)"
            continue
        try:
            found[ep.name] = _check(ep, ep.load())
        except Exception as exc:
            reason = exc.message if isinstance(exc, ConfigurationError) else f"{type(exc).__name__}: {exc}"
            _errors[ep.name] = reason
            log.error("connector %s not loaded: %s", ep.name, reason)
    return found


def load_errors() -> dict[str, str]:
    """Why each broken entry point of the last ``load_connectors()`` was skipped."""
    return dict(_errors)


def get_connector(name: str) -> type[Connector]:
    connectors = load_connectors()
    if name not in connectors:
        why = _errors.get(name)
        known = ", ".join(connectors) or "aucun"
        raise ConfigurationError(
            f"connecteur « {name} » " + (f"non chargé : {why}" if why else f"inconnu (connus : {known})")
        )
    return connectors[name]

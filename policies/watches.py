"""Watchlists (« Veilles »): what a person may follow, whether a watch still stands, and what
it tells them — decided here; stored and matched by graph/watches/, wired by the hub.

Owns:

* the watchable kinds and how a typed key is normalized the way ingest normalized it
  (``normalize_target``: plates and phones by the kernel, places folded by ``place_key``,
  pseudonyms checked), so ``ab 123 cd`` and ``AB-123-CD`` are one watch key. Nothing here looks
  at the graph: a key nobody holds is accepted exactly like a known one (no existence oracle);
* the standing of a watch at match time (``standing``): the owner's account is live, their role
  holds ``watches.follow`` (roles.yaml) and — for the roles ``watches.yaml`` names — a guest
  grant of theirs is live. A watch that no longer stands is ended with the reason;
* the French wording of a hit, by the access level the engine gave the watcher *at that
  moment*: a readable lead is named; a hit says only which service to call (the lead stays
  behind the hit handle, ADR 0007); ``none`` says nothing;
* the fixed text of outbound delivery (webhook, e-mail): no lead content ever, only "something
  new, sign in" and the hub's address.

Pure: no clock, no I/O beyond reading its rules file.
"""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path

from pydantic import Field

from hub.contract.lead import AGENCY_LABELS_FR, PSEUDONYM, Agency
from hub.contract.normalize import (
    INSEE_CODE,
    normalize_foreign_plate,
    normalize_phone,
    normalize_plate,
    place_key,
)
from policies.models import Outcome, Policy, PolicyModel, Role
from policies.permissions import Action, permission

WATCHES_FILE = "watches.yaml"

# Entity kinds a person may follow, and how each reads in French.
WATCH_KINDS: dict[str, str] = {
    "vehicle": "immatriculation",
    "phone": "téléphone",
    "person": "personne",
    "location": "lieu",
    "commune": "commune",
    "deal_point": "point de deal",
}

OUTBOUND_SUBJECT = "CROSS Hub : nouveau signalement sur une de vos veilles"
OUTBOUND_TEXT = "Nouveau signalement sur une de vos veilles — connectez-vous au hub"


class WatchRules(PolicyModel):
    version: int = 1
    requires_live_grant: list[Role] = Field(default_factory=lambda: [Role.GUEST_REFERENT])
    max_active_per_user: int = Field(default=200, ge=1, le=100_000)
    latest_hits_listed: int = Field(default=5, ge=0, le=100)
    digest_window_hours: int = Field(default=24, ge=1, le=168)


def load_watch_rules(path: Path | str | None = None) -> WatchRules:
    from policies.loader import data_dir, load_rules_file

    entry = Path(path) if path is not None else data_dir() / WATCHES_FILE
    return load_rules_file(WatchRules, entry, "veilles")


# --- the key a watch follows ---------------------------------------------------------------------


def normalize_target(kind: str, raw: str) -> str:
    """The ``<kind>:<key>`` a watch on ``raw`` follows, normalized as ingest normalized it.
    Raises ValueError (French) naming what is wrong."""
    key = raw.strip()
    if kind not in WATCH_KINDS:
        raise ValueError(f"type d'entité inconnu « {kind} » (admis : {', '.join(WATCH_KINDS)})")
    if not key:
        raise ValueError("valeur à suivre vide")
    if len(key) > 300:
        raise ValueError("valeur trop longue (300 caractères au plus)")
    if kind == "vehicle":
        foreign = re.match(r"^([A-Za-z]{2})\s*:\s*(.+)$", key)
        key = (normalize_foreign_plate(foreign.group(2), foreign.group(1).upper()) if foreign
               else normalize_plate(key))
    elif kind == "phone":
        key = normalize_phone(key)
    elif kind == "person":
        if not PSEUDONYM.match(key):
            raise ValueError("pseudonyme attendu (ps1:<clé>:<64 hexadécimaux>) : jamais un nom")
    elif kind == "commune":
        if not INSEE_CODE.match(key.upper()):
            raise ValueError("code INSEE attendu (5 caractères, p. ex. 25056)")
        key = key.upper()
    elif kind == "location":
        key = _location_key(key)
    elif kind == "deal_point":
        insee, sep, label = key.partition(":")
        if not sep or not INSEE_CODE.match(insee.strip().upper()) or not place_key(label):
            raise ValueError("point de deal attendu sous la forme « code INSEE:libellé », "
                             "p. ex. 25056:hall 3")
        key = f"{insee.strip().upper()}:{place_key(label)}"
    return f"{kind}:{key}"


def _location_key(key: str) -> str:
    # As graph/locations.location_key names places: addr:/place:<insee>:<folded text>, or
    # commune:<insee>. "25056:12 rue X" is taken as an address.
    prefix, sep, rest = key.partition(":")
    if prefix in ("addr", "place") and sep:
        insee, sep2, text = rest.partition(":")
    elif INSEE_CODE.match(prefix.upper()) and sep:
        prefix, insee, sep2, text = "addr", prefix, ":", rest
    else:
        raise ValueError("lieu attendu sous la forme « code INSEE:adresse » ou "
                         "« addr:code INSEE:adresse », p. ex. 25056:place Cassin")
    if not sep2 or not INSEE_CODE.match(insee.strip().upper()) or not place_key(text):
        raise ValueError("lieu attendu sous la forme « code INSEE:adresse », p. ex. 25056:place Cassin")
    return f"{prefix}:{insee.strip().upper()}:{place_key(text)}"


def target_label_fr(target: str) -> str:
    """How a watch's key reads in a message: the key the watcher typed, normalized (a pseudonym
    is unreadable: its first characters)."""
    kind, _, key = target.partition(":")
    if kind == "person":
        return f"personne {key.rsplit(':', 1)[-1][:8]}"
    return f"{WATCH_KINDS.get(kind, kind)} {key}"


# --- whether a watch still stands ----------------------------------------------------------------


class EndReason(StrEnum):
    BY_USER = "by_user"
    ACCOUNT_DISABLED = "account_disabled"
    ROLE_WITHOUT_RIGHT = "role_without_right"
    GRANT_ENDED = "grant_ended"


END_REASONS_FR: dict[EndReason, str] = {
    EndReason.BY_USER: "arrêtée par son titulaire",
    EndReason.ACCOUNT_DISABLED: "compte désactivé ou supprimé",
    EndReason.ROLE_WITHOUT_RIGHT: "le rôle du titulaire ne permet plus de suivre des veilles",
    EndReason.GRANT_ENDED: "aucune autorisation d'invité en cours",
}


def standing(policy: Policy, rules: WatchRules, *, role: str | None, disabled: bool,
             live_grant: bool) -> EndReason | None:
    """None while a person with this account may hold watches; else why their watches end.
    ``role`` None: no such account."""
    if role is None or disabled:
        return EndReason.ACCOUNT_DISABLED
    if not permission(policy, role, Action.WATCH).allowed:
        return EndReason.ROLE_WITHOUT_RIGHT
    if role in {r.value for r in rules.requires_live_grant} and not live_grant:
        return EndReason.GRANT_ENDED
    return None


def needs_live_grant(rules: WatchRules, role: str) -> bool:
    return role in {r.value for r in rules.requires_live_grant}


# --- what a hit tells --------------------------------------------------------------------------


def notifies(outcome: Outcome) -> bool:
    """Whether an access level is told anything at all (``none``: the lead does not exist for
    the watcher)."""
    return outcome is not Outcome.NONE


def hit_message_fr(label: str, outcome: Outcome, *, lead_id: str, agency: str, version: int,
                   contact_fr: str | None) -> str:
    """The notification a watcher reads, by the level the engine gave them of the lead. A
    readable lead is named; a hit names the holding service and whom to call, never the lead."""
    service = agency_label_fr(agency)
    if outcome is Outcome.HIT:
        return (f"Veille « {label} » : un service détient un signalement en lien ({service}). "
                f"Contact : {contact_fr or 'permanence du service'}.")
    update = "mise à jour" if version > 1 else "nouvelle piste"
    return f"Veille « {label} » : {update} {lead_id} ({service})."


def agency_label_fr(agency: str) -> str:
    try:
        return AGENCY_LABELS_FR[Agency(agency)]
    except (ValueError, KeyError):
        return agency


def ended_message_fr(label: str, reason: EndReason) -> str:
    return f"Veille « {label} » arrêtée : {END_REASONS_FR[reason]}."


def digest_message_fr(hits: int, watches: int) -> str:
    s = "s" if hits > 1 else ""
    w = "s" if watches > 1 else ""
    return (f"Résumé quotidien de vos veilles : {hits} signalement{s} sur {watches} "
            f"veille{w} au cours des dernières 24 heures.")

"""Sanitization and pseudonymization: the only way a ``DraftLead`` becomes a ``Lead``.

* The reporter's identity is dropped (it is used only to scrub free text, and their phone is taken
  out of the lead's ``phones``).
* Free text (narrative, address, place label, deal-point label, clothing, distinctive marks) is
  scrubbed of e-mails, IBANs, phones, IP addresses in any writing — with the detector the hub's
  guard uses (``hub.contract.identifiers``: normalization, ``phonenumbers``, obfuscated e-mails,
  ``schwifty`` checksums), so what is sent here is what the hub accepts — of the reporter's own
  identifiers in any spelling, and of every name the source knows (reporter, persons' last and first
  names, ``known_names``), case- and accent-insensitively, whole words only. Each is replaced by a
  typed placeholder: ``[EMAIL] [IBAN] [TEL] [IP] [ID] [NOM]``. Control characters (NUL, bidi
  overrides...), which the hub refuses, are dropped. Fields the contract models check when a draft
  is built (commune, vehicles, descriptions) are refused there: the record goes to quarantine.
* Phones are normalized to E.164 (and de-duplicated); plates are normalized by ``Vehicle``.
* Persons become keyed pseudonyms (``connectors.pseudonym``) with aliases under previous keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers

from connectors.models import DraftLead, RawPerson, ReporterIdentity
from connectors.pseudonym import LinkageKeyring, normalize_identity
from hub.contract.errors import SourceRecordInvalid
from hub.contract.identifiers import EMAIL as EMAIL_KIND
from hub.contract.identifiers import IBAN_KIND, PHONE, redact, strip_control_chars
from hub.contract.identifiers import IP as IP_KIND
from hub.contract.lead import Agency, PersonRef, PersonRole, PhysicalDescription
from hub.contract.normalize import normalize_phone

TEL, EMAIL, IBAN, IP, NOM, ID = "[TEL]", "[EMAIL]", "[IBAN]", "[IP]", "[NOM]", "[ID]"
PLACEHOLDERS = (TEL, EMAIL, IBAN, IP, NOM, ID)
_PLACEHOLDER_RE = re.compile(r"\[(?:TEL|EMAIL|IBAN|IP|NOM|ID)\]")
_PLACEHOLDER_OF = {PHONE: TEL, EMAIL_KIND: EMAIL, IBAN_KIND: IBAN, IP_KIND: IP}
# Name particles not scrubbed on their own (the whole name still is).
_PARTICLES = {"de", "du", "des", "la", "le", "les", "d", "l", "van", "von", "der", "den", "el", "al",
              "ben", "bin", "ibn", "di", "da", "dos", "das", "del", "della", "mac", "mc", "saint", "st"}
NARRATIVE_MAX = 10_000


# --- folding -------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Case- and accent-insensitive form (``« Éloïse DUPRÉ »`` → ``« eloise dupre »``)."""
    return _fold_with_map(text)[0]


def _fold_with_map(text: str) -> tuple[str, list[int]]:
    """Folded text and, for each folded character, the index of its source character."""
    out: list[str] = []
    idx: list[int] = []
    for i, ch in enumerate(text):
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width and bidi characters hide nothing in a name
        for c in unicodedata.normalize("NFKD", ch):
            if unicodedata.combining(c):
                continue
            for lc in c.casefold():
                out.append(lc)
                idx.append(i)
    return "".join(out), idx


def _name_patterns(names: Iterable[str]) -> re.Pattern[str] | None:
    """One regex over folded text matching any of ``names`` as whole words: the full name (its
    parts separated by any punctuation or none) and each significant part alone."""
    alternatives: set[str] = set()
    for name in names:
        tokens = [t for t in re.split(r"[\W_]+", fold(name or "")) if t]
        if not tokens:
            continue
        full = r"[\W_]{0,3}".join(re.escape(t) for t in tokens)
        if len("".join(tokens)) >= 2:
            alternatives.add(full)
        for t in tokens:
            if len(t) >= 3 and t not in _PARTICLES:
                alternatives.add(re.escape(t))
    if not alternatives:
        return None
    # Longest first so "jean pierre" wins over "jean".
    body = "|".join(sorted(alternatives, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


def _phone_literal(raw: str) -> re.Pattern[str] | None:
    """A regex matching one known phone number in any usual spelling (+33 6.., 0033 6.., 06..)."""
    try:
        parsed = phonenumbers.parse(raw, "FR")
    except phonenumbers.NumberParseException:
        digits = re.sub(r"\D", "", raw)
        if len(digits) < 6:
            return None
        return re.compile(r"(?<!\d)" + r"[\s.\-()/]*".join(digits) + r"(?!\d)")
    national = str(parsed.national_number)
    cc = str(parsed.country_code)
    sep = r"[\s.\-()/]*"
    prefix = rf"(?:(?:\+|00){sep}{sep.join(cc)}{sep}(?:\(0\){sep})?|0{sep})?"
    return re.compile(r"(?<![\d+])" + prefix + sep.join(national) + r"(?!\d)")


# --- the scrubber --------------------------------------------------------------------------------


class Scrubber:
    """Scrubs free text of raw identifiers and of the names a source knows."""

    def __init__(self, names: Iterable[str] = (), reporter: ReporterIdentity | None = None) -> None:
        names = [n for n in names if n and n.strip()]
        literals: list[tuple[re.Pattern[str], str]] = []
        if reporter is not None:
            if reporter.name:
                names.append(reporter.name)
            if reporter.email:
                literals.append((re.compile(re.escape(reporter.email.strip()), re.IGNORECASE), EMAIL))
            if reporter.ip_address:
                literals.append((re.compile(r"(?<![\w.:])" + re.escape(reporter.ip_address.strip())
                                            + r"(?![\w:]|\.\d)", re.IGNORECASE), IP))
            if reporter.account_id and len(reporter.account_id.strip()) >= 3:
                literals.append((re.compile(r"(?<!\w)" + re.escape(reporter.account_id.strip())
                                            + r"(?!\w)", re.IGNORECASE), ID))
            if reporter.phone:
                pat = _phone_literal(reporter.phone)
                if pat is not None:
                    literals.append((pat, TEL))
        self._literals = literals
        self._names = _name_patterns(names)

    def __call__(self, text: str | None) -> str | None:
        return None if text is None else self.scrub(text)

    def scrub(self, text: str) -> str:
        if not text:
            return text
        for pattern, placeholder in self._literals:
            text = pattern.sub(placeholder, text)
        text = redact(text, _PLACEHOLDER_OF)  # the hub's own detector: what passes here passes there
        text = self._scrub_names(text)
        return strip_control_chars(text)

    def _scrub_names(self, text: str) -> str:
        if self._names is None:
            return text
        folded, idx = _fold_with_map(text)
        protected = [m.span() for m in _PLACEHOLDER_RE.finditer(text)]
        spans: list[tuple[int, int]] = []
        for m in self._names.finditer(folded):
            if m.end() <= m.start():
                continue
            start, end = idx[m.start()], idx[m.end() - 1] + 1
            if any(start < pe and ps < end for ps, pe in protected):
                continue
            if spans and start < spans[-1][1]:
                spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
            else:
                spans.append((start, end))
        for start, end in reversed(spans):
            text = text[:start] + NOM + text[end:]
        return text


def scrub_text(text: str, names: Iterable[str] = (), reporter: ReporterIdentity | None = None) -> str:
    return Scrubber(names, reporter).scrub(text)


# --- the draft -----------------------------------------------------------------------------------


def names_known_by(draft: DraftLead) -> list[str]:
    names = list(draft.known_names)
    for p in draft.persons:
        names += [p.last_name, p.first_name, f"{p.first_name} {p.last_name}", f"{p.last_name} {p.first_name}"]
    return names


def _scrub_description(d: PhysicalDescription | None, scrub: Scrubber) -> PhysicalDescription | None:
    if d is None:
        return None
    return PhysicalDescription.model_validate(
        d.model_dump() | {"clothing": scrub(d.clothing), "distinctive_marks": scrub(d.distinctive_marks)}
    )


@dataclass
class SanitizedDraft:
    """A draft's fields with free text scrubbed and the reporter gone; persons still raw."""

    fields: dict[str, Any]
    scrub: Scrubber

    def lead_fields(self, *, agency: Agency, persons: list[PersonRef]) -> dict[str, Any]:
        return self.fields | {"source_agency": agency, "persons": persons}


def _normalize_phones(draft: DraftLead) -> list[str]:
    reporter_phone: str | None = None
    if draft.reporter and draft.reporter.phone:
        try:
            reporter_phone = normalize_phone(draft.reporter.phone)
        except ValueError:
            reporter_phone = None
    out: list[str] = []
    for i, raw in enumerate(draft.phones):
        try:
            phone = normalize_phone(raw)
        except ValueError as exc:
            raise SourceRecordInvalid(f"phones[{i}] : {exc}",
                                      details=[{"field": f"phones[{i}]", "reason": str(exc)}]) from None
        if phone != reporter_phone and phone not in out:
            out.append(phone)
    return out


def sanitize_draft(draft: DraftLead) -> SanitizedDraft:
    """Scrub free text, drop the reporter, normalize phones and plates."""
    scrub = Scrubber(names_known_by(draft), draft.reporter)
    location = draft.location
    if location is not None:
        location = location.model_copy(update={
            "address": scrub(location.address), "place_label": scrub(location.place_label),
        })
    deal_point = draft.deal_point
    if deal_point is not None:
        deal_point = deal_point.model_copy(update={"label": scrub(deal_point.label)})
    # Vehicle normalizes its plate (French or foreign) when built: nothing to redo here.
    vehicles = list(draft.vehicles)
    narrative = scrub.scrub(draft.narrative_raw or "").strip()
    if len(narrative) > NARRATIVE_MAX:
        narrative = narrative[: NARRATIVE_MAX - 6].rstrip() + " [...]"
    fields: dict[str, Any] = {
        "source_ref": draft.source_ref,
        "version": draft.version,
        "kind": draft.kind,
        "channel": draft.channel,
        "observed_at": draft.observed_at,
        "reported_at": draft.reported_at,
        "location": location,
        "deal_point": deal_point,
        "vehicles": vehicles,
        "phones": _normalize_phones(draft),
        "substances": list(dict.fromkeys(draft.substances)),
        "seizure": draft.seizure,
        "narrative": narrative,
        "handling_code": draft.handling_code,
        "source_reliability": draft.source_reliability,
        "information_credibility": draft.information_credibility,
        "restricted_to": draft.restricted_to,
        "embargo_until": draft.embargo_until,
        # draft.reporter and draft.known_names are deliberately not carried over.
    }
    return SanitizedDraft(fields, scrub)


# --- pseudonyms ----------------------------------------------------------------------------------


def _identifiable(person: RawPerson) -> bool:
    """Both names are needed to link a person across leads: a first name alone (« Karim ») would
    merge strangers. Others get a pseudonym local to their lead."""
    return bool(fold(person.last_name).strip(" -'")) and bool(fold(person.first_name).strip(" -'"))


def pseudonymize_persons(
    persons: list[RawPerson], keyring: LinkageKeyring, scrub: Scrubber, *,
    lead_scope: str | None = None,
) -> list[PersonRef]:
    """Persons as keyed pseudonyms (aliases under previous keys), de-duplicated.

    A person without both a last and a first name gets a pseudonym that links nowhere but is
    stable for its lead (``lead_scope``), so re-sends stay idempotent.
    """
    out: dict[str, PersonRef] = {}
    for i, p in enumerate(persons):
        if _identifiable(p):
            identity = normalize_identity(p.last_name, p.first_name, p.birth_date)
        else:
            identity = f"~lead|{lead_scope or ''}|{i}|{fold(p.last_name)}|{fold(p.first_name)}"
        token, aliases = keyring.pseudonymize(identity)
        ref = PersonRef(pseudonym=token, aliases=aliases[:4], role=p.role,
                        description=_scrub_description(p.description, scrub))
        held = out.get(token)
        if held is None:
            out[token] = ref
        else:  # same person twice: keep the more informative role and description
            out[token] = held.model_copy(update={
                "role": held.role if held.role != PersonRole.UNKNOWN else ref.role,
                "description": held.description or ref.description,
            })
    return list(out.values())

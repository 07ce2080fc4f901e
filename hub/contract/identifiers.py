"""What free text crossing a boundary may not carry: a person's raw identifiers (phone numbers,
e-mail addresses, IBANs, IP addresses) in any writing, and control characters.

One detector for both sides of the boundary: the connectors redact what it finds
(``connectors.sanitize``), the hub refuses what it finds (the ``Lead`` validators), so what a
connector lets through, the hub accepts, and what slips past a connector stops at the hub.

The detector normalizes before it looks, keeping each normalized character's position in the
original text (so a finding can be redacted there):

* Unicode NFKC (full-width ``０６``, ``＠``, mathematical digits), any decimal digit as its ASCII
  digit (Arabic-Indic, Devanagari...), dash and dot look-alikes as ``-`` and ``.``, every space
  separator as a space;
* format characters (zero-width spaces and joiners, soft hyphens, bidi marks), control characters
  and combining marks dropped.

Then:

* **phones**: ``phonenumbers.PhoneNumberMatcher`` (region FR, leniency VALID) and a pass of its
  own over digit runs split by ``space . / - ( )`` (``06/12/34/56/78``, ``0612 345 678``,
  ``+33 (0)6 12 34 56 78``, ``0033 6...``), where every sub-run of whole digit groups is tried as
  a national number (``0`` + 9 digits, France or overseas), an international one (``+`` or
  ``00``), ``33`` without its ``+``, or a mobile missing its trunk ``0`` written ``6 12 34 56 78``.
  Dates with a four-digit year are masked first; digits glued inside a longer number (a
  procedure number, an IBAN) are never cut out of it.
* **e-mails**: the usual ``local@domain.tld``, and obfuscated ones (``[at]``, ``(at)``, `` at ``,
  ``arobase``, ``(@)``, ``[dot]``, ``(point)``, `` point ``, spaces around ``@`` and ``.``), which
  must end with a common top-level domain or name a common mail provider (``@gmail``).
* **IBANs**: letters-digits runs whose prefix passes ``schwifty``'s checks of country, length
  and account structure, any case, any spacing — with or without valid mod-97 check digits (a
  mistyped IBAN still names the account).
* **IP addresses**: IPv4 (also with ``[.]`` / ``(dot)``) and IPv6, checked by ``ipaddress``.

What the detector leaves alone, by construction: plates (letters break digit runs), times
(``21h30``, ``21:30``), dates, quantities (``1,2 kg``), amounts (``8 300 €``), INSEE codes,
postcodes and street numbers (too few digits), procedure numbers (no valid phone in whole
groups). ``tests/corpus/identifiers.py`` holds the hostile and the legitimate texts both sides
are tested on.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

import phonenumbers
from pydantic import AfterValidator
from schwifty import IBAN
from schwifty.exceptions import InvalidChecksumDigits, InvalidCountryCode, SchwiftyException

PHONE, EMAIL, IBAN_KIND, IP = "phone", "email", "iban", "ip"
KINDS = (PHONE, EMAIL, IBAN_KIND, IP)
KIND_LABELS_FR = {PHONE: "téléphone", EMAIL: "e-mail", IBAN_KIND: "IBAN", IP: "adresse IP"}


# --- control characters -------------------------------------------------------------------------

# C0 but tab, line feed and carriage return; DEL; C1; the Arabic letter mark, LRM/RLM; bidi
# embeddings, overrides and isolates; interlinear annotations; lone surrogates (which no store
# can encode) and the noncharacters U+FFFE/U+FFFF.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]"
)


def control_chars_in(text: str) -> list[tuple[int, str]]:
    """Forbidden control characters of ``text``: (index, character) pairs."""
    return [(m.start(), m.group()) for m in _CONTROL.finditer(text)]


def strip_control_chars(text: str) -> str:
    """``text`` without its forbidden control characters (what a connector sends on)."""
    return _CONTROL.sub("", text)


def check_no_control_chars(value: str) -> str:
    """A validator: refuse text holding a control character, naming it and its position."""
    found = _CONTROL.search(value)
    if found:
        raise ValueError(control_reason(found.group(), found.start()))
    return value


def control_reason(char: str, index: int) -> str:
    return (f"caractère de contrôle interdit (U+{ord(char):04X}) en position {index + 1} : "
            "caractères de contrôle, octet nul et marques de direction bidirectionnelle "
            "ne sont pas admis dans un texte")


# Text from a person (query parameters, request bodies): no control characters.
CleanStr = Annotated[str, AfterValidator(check_no_control_chars)]


# --- normalization, with positions in the original text -----------------------------------------


@dataclass(frozen=True)
class _Mapped:
    """Normalized text; ``starts[i]``/``ends[i]``: the original span of normalized char ``i``
    (both None when the normalized text is the original)."""

    text: str
    starts: list[int] | None = None
    ends: list[int] | None = None

    def span(self, i: int, j: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return i, j
        return self.starts[i], self.ends[j - 1]

    def rewrite(self, pattern: re.Pattern[str], repl: str) -> _Mapped:
        """Each match of ``pattern`` replaced by ``repl``, whose characters span the match."""
        out: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        pos = 0
        changed = False
        for m in pattern.finditer(self.text):
            if m.group() == repl:
                continue
            changed = True
            for k in range(pos, m.start()):
                s, e = self.span(k, k + 1)
                out.append(self.text[k])
                starts.append(s)
                ends.append(e)
            s, e = self.span(m.start(), m.end()) if m.end() > m.start() else self.span(m.start(), m.start() + 1)
            for c in repl:
                out.append(c)
                starts.append(s)
                ends.append(e)
            pos = m.end()
        if not changed:
            return self
        for k in range(pos, len(self.text)):
            s, e = self.span(k, k + 1)
            out.append(self.text[k])
            starts.append(s)
            ends.append(e)
        return _Mapped("".join(out), starts, ends)


_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\u2e3a\u2e3b\ufe58\ufe63\uff0d"
_DOTS = "\u00b7\u2022\u2024\u2027\u2219\u22c5\u30fb\uff0e\u3002\uff61\u0387"
_CONFUSABLES = {**{c: "-" for c in _DASHES}, **{c: "." for c in _DOTS},
                "\u2044": "/", "\u2215": "/", "\uff0f": "/", "\u29f8": "/",
                "\ufe6b": "@", "\uff20": "@"}
# Anything that makes the slow path necessary in otherwise NFKC-normal text.
_NEEDS_MAPPING = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb\ufffe\uffff\ud800-\udfff"
    + _DASHES + _DOTS + "\u2044\u2215\u29f8]"
    r"|(?![0-9])\d|[^\S \t\n\r]"
)


def _normalize(text: str) -> _Mapped:
    if not _NEEDS_MAPPING.search(text) and (text.isascii() or unicodedata.is_normalized("NFKC", text)):
        return _Mapped(text)
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        if ch.isascii() and not _CONTROL.match(ch):
            rep = ch
        else:
            cat = unicodedata.category(ch)
            if cat in ("Cf", "Cc", "Cs", "Mn", "Me") or ch in "\ufffe\uffff":
                continue  # zero-width, bidi, soft hyphen, control, combining mark
            elif ch in _CONFUSABLES:
                rep = _CONFUSABLES[ch]
            elif cat == "Nd":
                rep = str(unicodedata.decimal(ch))
            elif cat[0] == "Z":
                rep = " "
            else:
                rep = unicodedata.normalize("NFKC", ch)
                if rep in ("\u3164", "\uffa0", "\u115f", "\u1160"):  # Hangul fillers: blanks
                    continue
        for c in rep:
            out.append(c)
            starts.append(i)
            ends.append(i + 1)
    return _Mapped("".join(out), starts, ends)


# --- findings -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A raw identifier found in a text: its kind and its span in the original text."""

    kind: str
    start: int
    end: int

    @property
    def label_fr(self) -> str:
        return KIND_LABELS_FR[self.kind]


# --- phones -------------------------------------------------------------------------------------

_OVERSEAS_REGIONS = ("GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF")
# At least 9 digits, each within 3 characters of the next: nothing else can hold a phone.
_ENOUGH_DIGITS = re.compile(r"(?:\d[^\d]{0,3}){8}\d")
_TRUNK_IN_PARENS = re.compile(r"\(\s*0\s*\)")
# A letter O (or o) standing for a zero right before a digit: "O6 12 34 56 78".
_O_FOR_ZERO = re.compile(r"(?<![A-Za-z])[Oo](?=\d)")
_DATE = re.compile(r"(?<!\d)\d{1,2}([/.\-])\d{1,2}\1(?:19|20)\d{2}(?!\d)")
_DIGIT_RUN = re.compile(r"(?:\+\s?)?\d+(?:[\s./\-()]{1,3}\d+)*")
_GROUP = re.compile(r"\d+")


def _valid(number: str, region: str | None = None) -> bool:
    try:
        parsed = phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed)


def _is_phone(digits: str, plus: bool, shape: tuple[int, ...]) -> bool:
    n = len(digits)
    if plus:
        return 8 <= n <= 15 and _valid("+" + digits)
    if digits.startswith("00") and 10 <= n <= 17:
        return _valid("+" + digits[2:])
    if n == 10 and digits[0] == "0" and digits[1] != "0":
        return _valid(digits, "FR") or any(_valid(digits, r) for r in _OVERSEAS_REGIONS)
    if n in (11, 12) and digits.startswith("33"):
        return _valid("+" + digits)  # "33 6 12 34 56 78", "33 (0)6...": a + left out
    if n == 9 and digits[0] in "67" and shape == (1, 2, 2, 2, 2):
        return _valid(digits, "FR")  # "6 12 34 56 78": a mobile missing its trunk 0
    return False


def _phones_by_runs(m: _Mapped) -> list[tuple[int, int]]:
    """Phones in digit runs (normalized positions), sub-runs of whole groups tried in turn."""
    m = m.rewrite(_TRUNK_IN_PARENS, " ").rewrite(_O_FOR_ZERO, "0")
    text = _DATE.sub(lambda d: "D" * len(d.group()), m.text)
    spans: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        plus = run.group().startswith("+")
        groups = [(g.group(), run.start() + g.start(), run.start() + g.end())
                  for g in _GROUP.finditer(run.group())]
        i = 0
        while i < len(groups):
            best = None
            digits = ""
            for j in range(i, len(groups)):
                digits += groups[j][0]
                if len(digits) > 17:
                    break
                shape = tuple(len(g[0]) for g in groups[i:j + 1])
                if len(digits) >= 8 and _is_phone(digits, plus and i == 0, shape):
                    best = j
            if best is None:
                i += 1
                continue
            start = run.start() if plus and i == 0 else groups[i][1]
            spans.append(m.span(start, groups[best][2]))
            i = best + 1
    return spans


# Numbers written in French words ("zéro six, douze, trente-quatre..."): each run of number
# words, read as consecutive numbers 0-99, becomes the digits a reporter dictated.
_UNITS = {"zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
          "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
          "quatorze": 14, "quinze": 15, "seize": 16}
_TENS = {"vingt": 20, "trente": 30, "quarante": 40, "cinquante": 50, "soixante": 60}
_NUMBER_WORD = "|".join(sorted([*_UNITS, "zéro", *_TENS, "vingts", "et"], key=len, reverse=True))
_WORD_RUN = re.compile(
    rf"\b(?:{_NUMBER_WORD})\b(?:[\s,.\-/]+\b(?:{_NUMBER_WORD})\b)+", re.IGNORECASE)


def _read_number_words(words: list[str]) -> str | None:
    """``["zero", "six", "douze"]`` → ``"0612"``; None when the words are not numbers 0-99."""
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w == "et":
            i += 1
            continue
        if w == "quatre" and i + 1 < len(words) and words[i + 1] in ("vingt", "vingts"):
            value, i, limit = 80, i + 2, 19
        elif w in _TENS:
            value, i, limit = _TENS[w], i + 1, 19 if w == "soixante" else 9
        elif w in _UNITS:
            value, i, limit = _UNITS[w], i + 1, 0
            if value == 10 and i < len(words) and words[i] in ("sept", "huit", "neuf"):
                value, i = 10 + _UNITS[words[i]], i + 1
        else:
            return None
        if limit:
            if i < len(words) and words[i] == "et":
                i += 1
            if i < len(words) and words[i] in _UNITS and 1 <= _UNITS[words[i]] <= limit:
                extra, i = _UNITS[words[i]], i + 1
                if extra == 10 and limit == 19 and i < len(words) and words[i] in ("sept", "huit", "neuf"):
                    extra, i = 10 + _UNITS[words[i]], i + 1
                value += extra
        out.append(str(value))
    return "".join(out)


def _phones_in_words(m: _Mapped) -> list[tuple[int, int]]:
    spans = []
    for run in _WORD_RUN.finditer(m.text):
        words = [_strip_accents(w).lower() for w in re.findall(r"[^\W\d_]+", run.group())]
        digits = _read_number_words(words)
        if digits and 9 <= len(digits) <= 13 and _is_phone(digits, False, ()):
            spans.append(m.span(*run.span()))
    return spans


def _strip_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _phones_by_matcher(m: _Mapped) -> list[tuple[int, int]]:
    return [m.span(found.start, found.end) for found in phonenumbers.PhoneNumberMatcher(
        m.text, "FR", leniency=phonenumbers.Leniency.VALID)]


# --- e-mails ------------------------------------------------------------------------------------

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT_TOKEN = re.compile(
    rf"\s*{_OPEN}\s*(?:at|@|arobase|arobas|a)\s*{_CLOSE}\s*"
    r"|\s+(?:at|arobase|arobas)\s+|\s*@+\s*",
    re.IGNORECASE,
)
_DOT_TOKEN = re.compile(
    rf"\s*{_OPEN}\s*(?:dot|point|pt|\.)\s*{_CLOSE}\s*|\s+(?:dot|point)\s+|[ \t]*\.[ \t]*",
    re.IGNORECASE,
)
_EMAIL_CUE = re.compile(r"@|\b(?:at|arobas)", re.IGNORECASE)
_EMAIL_PLAIN = re.compile(r"[\w+\-]+(?:\.[\w+\-]+)*@[\w\-]+(?:\.[\w\-]+)*\.[^\W\d_]{2,24}\b")
_TLDS = ("fr|com|net|org|eu|info|biz|io|me|co|uk|be|ch|lu|it|nl|pt|ma|dz|tn|sn|ci|re|gp|mq|gf|yt"
         "|nc|pf|pm|ca|us|ru|pl|ro|al|tr|cm|ml|online|xyz|app|email|mail")
_PROVIDERS = ("gmail|googlemail|hotmail|yahoo|outlook|live|msn|orange|wanadoo|free|sfr|neuf|bbox"
              "|laposte|icloud|me|aol|gmx|protonmail|proton|yopmail|tutanota|numericable|mailo")
_EMAIL_OBFUSCATED = re.compile(
    rf"[\w+\-]+(?:\.[\w+\-]+)*@(?:[\w\-]+\.)+(?:{_TLDS})\b|[\w+\-]+(?:\.[\w+\-]+)*@(?:{_PROVIDERS})\b",
    re.IGNORECASE,
)


def _emails(m: _Mapped) -> list[tuple[int, int]]:
    if not _EMAIL_CUE.search(m.text):
        return []
    spans = [m.span(*e.span()) for e in _EMAIL_PLAIN.finditer(m.text)]
    deobfuscated = m.rewrite(_AT_TOKEN, "@").rewrite(_DOT_TOKEN, ".")
    spans += [deobfuscated.span(*e.span()) for e in _EMAIL_OBFUSCATED.finditer(deobfuscated.text)]
    return spans


# --- IBANs --------------------------------------------------------------------------------------

_IBAN_CANDIDATE = re.compile(r"(?<![^\W_])[A-Za-z]{2}\s?\d{2}(?:[ \-.]?[A-Za-z0-9]){10,32}")
_ALNUM = re.compile(r"[A-Za-z0-9]")


def _ibans(m: _Mapped) -> list[tuple[int, int]]:
    """IBANs, every candidate start tried in turn: a candidate is greedy (it runs on through
    words and spaces), so one that is no IBAN (« au 07.62... ») must not swallow the start of
    the IBAN after it — the search resumes right after its start, not after its end."""
    spans = []
    pos = 0
    while (cand := _IBAN_CANDIDATE.search(m.text, pos)) is not None:
        pos = cand.start() + 1
        chars = list(_ALNUM.finditer(cand.group()))
        compact = "".join(c.group() for c in chars).upper()
        for length in range(min(34, len(compact)), 14, -1):
            try:
                IBAN(compact[:length])
            except InvalidCountryCode:
                break
            except InvalidChecksumDigits:
                # Country, length and account structure all fit: an IBAN with a typo still names
                # the account (schwifty checks the check digits last).
                pass
            except (SchwiftyException, ValueError):
                continue
            end = cand.start() + chars[length - 1].end()
            spans.append(m.span(cand.start(), end))
            pos = end
            break
    return spans


# --- IP addresses -------------------------------------------------------------------------------

_DEFANGED_DOT = re.compile(rf"{_OPEN}\s*(?:\.|dot|point)\s*{_CLOSE}", re.IGNORECASE)
_IPV4 = re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\d|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![\w:])")


def _is_ip(candidate: str) -> bool:
    try:
        ipaddress.ip_address(candidate.split("%")[0])
    except ValueError:
        return False
    return True


def _ips(m: _Mapped) -> list[tuple[int, int]]:
    spans = []
    if "." in m.text or _DEFANGED_DOT.search(m.text):
        v4 = m.rewrite(_DEFANGED_DOT, ".")
        spans += [v4.span(*c.span()) for c in _IPV4.finditer(v4.text) if _is_ip(c.group())]
    if "::" in m.text or m.text.count(":") >= 4:
        for c in _IPV6.finditer(m.text):
            groups = [g for g in c.group().split("%")[0].split(":") if g]
            if len(groups) >= 3 and _is_ip(c.group()):
                spans.append(m.span(*c.span()))
    return spans


# --- the detector -------------------------------------------------------------------------------


def find_identifiers(text: str) -> list[Finding]:
    """Raw identifiers in ``text``, as non-overlapping spans of the original text, in order."""
    if not text:
        return []
    m = _normalize(text)
    found: list[Finding] = []
    found += [Finding(EMAIL, s, e) for s, e in _emails(m)]
    found += [Finding(IBAN_KIND, s, e) for s, e in _ibans(m)]
    found += [Finding(IP, s, e) for s, e in _ips(m)]
    if _ENOUGH_DIGITS.search(m.text):
        found += [Finding(PHONE, s, e) for s, e in _phones_by_runs(m) + _phones_by_matcher(m)]
    if _WORD_RUN.search(m.text):
        found += [Finding(PHONE, s, e) for s, e in _phones_in_words(m)]
    # Earliest first, the longest of those starting together; overlapping later ones dropped.
    found.sort(key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in found:
        if kept and f.start < kept[-1].end:
            if f.end > kept[-1].end:  # extend the kept one rather than leave a tail behind
                kept[-1] = Finding(kept[-1].kind, kept[-1].start, f.end)
            continue
        kept.append(f)
    return kept


def identifier_kinds_in(text: str) -> list[str]:
    """French names of the kinds of raw identifiers found (``téléphone``, ``e-mail``...)."""
    kinds = {f.kind for f in find_identifiers(text)}
    return [KIND_LABELS_FR[k] for k in KINDS if k in kinds]


def redact(text: str, placeholders: Mapping[str, str]) -> str:
    """``text`` with each raw identifier replaced by its kind's placeholder."""
    for f in reversed(find_identifiers(text)):
        text = text[:f.start] + placeholders[f.kind] + text[f.end:]
    return text


def identifiers_reason(kinds: list[str]) -> str:
    return ("texte non assaini : contient " + ", ".join(kinds)
            + " — remplacer par un marqueur typé ([TEL], [EMAIL], [IBAN], [IP])")


def check_no_identifiers(value: str) -> str:
    """A validator: refuse free text holding a raw identifier, naming what it holds."""
    kinds = identifier_kinds_in(value)
    if kinds:
        raise ValueError(identifiers_reason(kinds))
    return value

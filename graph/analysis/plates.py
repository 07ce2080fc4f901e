"""Fuzzy plate matching: which plates a misread of a given plate could be.

Pure functions, no I/O. Instead of comparing a plate with every vehicle in the graph, we generate
the few candidate plates one misread away (a few dozen, at most about a thousand) and look them up
by key through the uniqueness index on ``Vehicle.plate``.

Why the confusions stay inside a block: a SIV plate is ``LL-DDD-LL`` and never uses I, O or U, so
the classic cross-class misreads (0/O, 1/I, 8/B, 5/S, 2/Z, 6/G) turn a valid plate into an
impossible one that ingest refuses. Misreads that reach the graph are therefore letter↔letter or
digit↔digit. Impossible characters typed by an analyst (``AB-I23-CD``, ``A8-123-CD``) are
*repaired* position by position through ``CROSS_CLASS`` before looking for variants.

The confusion set (symmetric pairs), from the two ways a plate reaches a lead:

- seen (patrol, camera, witness at night): shapes that differ by one stroke or a curve —
  letters B/R, B/P, P/R, P/F, E/F, C/G, G/Q, D/Q, H/N, H/M, M/N, M/W, V/W, V/Y, K/X, X/Y, T/Y;
  digits 0/8, 0/6, 0/9, 3/8, 5/6, 6/8, 8/9, 1/7, 1/4, 2/7;
- heard (a citizen dictating to the 17 or the chat, a radio relay): French letter names that
  rhyme — « bé, dé, pé, té, vé » (B/D/P/T/V), « emme/enne » (M/N), « effe/esse » (F/S),
  « gé/ji » (G/J).

FNI plates (``1234-AB-25``) get the same in-block substitutions on their number and letters;
the département is never varied (a different département is a different plate, not a misread).
Every candidate is checked with ``normalize_plate`` (no ``000``, no ``SS``, no I/O/U).
"""

from __future__ import annotations

import itertools
import re
import string
from typing import NamedTuple

from hub.contract.normalize import normalize_plate

SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # no I, O, U (domain.md)
DIGITS = string.digits

_SEEN_LETTERS = ["BR", "BP", "PR", "PF", "EF", "CG", "GQ", "DQ", "HN", "HM", "MN", "MW", "VW",
                 "VY", "KX", "XY", "TY"]
_HEARD_LETTERS = [a + b for a, b in itertools.combinations("BDPTV", 2)] + ["MN", "FS", "GJ"]
_SEEN_DIGITS = ["08", "06", "09", "38", "56", "68", "89", "17", "14", "27"]


def _symmetric(pairs: list[str]) -> dict[str, frozenset[str]]:
    out: dict[str, set[str]] = {}
    for a, b in pairs:
        out.setdefault(a, set()).add(b)
        out.setdefault(b, set()).add(a)
    return {k: frozenset(v) for k, v in out.items()}


LETTER_CONFUSIONS = _symmetric(_SEEN_LETTERS + _HEARD_LETTERS)
DIGIT_CONFUSIONS = _symmetric(_SEEN_DIGITS)

# Characters impossible at a position, read as what they most likely were.
CROSS_CLASS_TO_LETTER = {"0": "DQ", "1": "JLT", "2": "Z", "4": "A", "5": "S", "6": "G", "7": "T",
                         "8": "B", "I": "JLT", "O": "DQ", "U": "V"}
CROSS_CLASS_TO_DIGIT = {"O": "0", "D": "0", "Q": "0", "I": "1", "L": "1", "J": "1", "T": "7",
                        "Z": "2", "S": "5", "G": "6", "B": "8", "A": "4", "U": "0"}

_SIV_SHAPE = "LLDDDLL"
MAX_REPAIRS = 3  # impossible characters repaired in one plate; beyond, it is not a misread
MAX_CANDIDATES = 2_000


def compact(raw: str) -> str:
    return re.sub(r"[\s\-\.·_]", "", raw).upper()


def _slots(plate: str) -> list[tuple[int, str]]:
    """(index in the dashed plate, 'L' or 'D') of each position that may be varied."""
    parts = plate.split("-")
    if len(parts) != 3:
        return []
    slots: list[tuple[int, str]] = []
    offset = 0
    siv = parts[0].isalpha()
    for n, part in enumerate(parts):
        if not (n == 2 and not siv):  # FNI: the département is never varied
            slots += [(offset + i, "D" if c.isdigit() else "L") for i, c in enumerate(part)]
        offset += len(part) + 1
    return slots


def variants(plate: str, mode: str = "confusable") -> dict[str, str]:
    """Valid plates one substitution away from a normalized ``plate``, each with a French reason.
    ``mode`` is ``confusable`` (the documented set) or ``any`` (any character of the position's
    class)."""
    out: dict[str, str] = {}
    for index, cls in _slots(plate):
        c = plate[index]
        if mode == "any":
            pool = (SIV_LETTERS if cls == "L" else DIGITS).replace(c, "")
        else:
            pool = "".join(sorted((LETTER_CONFUSIONS if cls == "L" else DIGIT_CONFUSIONS).get(c, ())))
        for other in pool:
            candidate = plate[:index] + other + plate[index + 1:]
            try:
                valid = normalize_plate(candidate)
            except ValueError:
                continue
            if valid != plate:
                position = index + 1 - plate[:index].count("-")
                out.setdefault(valid, f"{c} ↔ {other} (caractère {position})")
    return out


def repairs(raw: str) -> dict[str, str]:
    """Valid SIV plates an impossible input could have been (``AB-I23-CD`` → ``AB-123-CD``),
    each with a French reason. Empty when ``raw`` is not SIV-shaped or needs too many repairs."""
    text = compact(raw)
    if len(text) != len(_SIV_SHAPE) or not text.isalnum():
        return {}
    choices: list[str] = []
    fixes = 0
    for c, cls in zip(text, _SIV_SHAPE, strict=True):
        if cls == "L" and c in SIV_LETTERS or cls == "D" and c in DIGITS:
            choices.append(c)
            continue
        table = CROSS_CLASS_TO_LETTER if cls == "L" else CROSS_CLASS_TO_DIGIT
        if c not in table:
            return {}
        choices.append(table[c])
        fixes += 1
    if fixes == 0 or fixes > MAX_REPAIRS:
        return {}
    out: dict[str, str] = {}
    for combo in itertools.product(*choices):
        candidate = "".join(combo)
        try:
            plate = normalize_plate(candidate)
        except ValueError:
            continue
        changed = [f"{a} impossible ici, corrigé en {b} (caractère {i + 1})"
                   for i, (a, b) in enumerate(zip(text, candidate, strict=True)) if a != b]
        out.setdefault(plate, ", ".join(changed))
    return out


class Candidate(NamedTuple):
    reason: str
    steps: int  # corrections and substitutions from the input: fewer ranks first


def candidates(raw: str, mode: str = "confusable") -> tuple[str | None, dict[str, Candidate]]:
    """The exact plate ``raw`` normalizes to (None if it is impossible) and the fuzzy candidates:
    its variants, or the repairs of an impossible input and their variants."""
    try:
        exact: str | None = normalize_plate(raw)
    except ValueError:
        exact = None
    found: dict[str, Candidate] = {}
    if exact is not None:
        found.update({p: Candidate(why, 1) for p, why in variants(exact, mode).items()})
    else:
        repaired = repairs(raw)
        found.update({p: Candidate(why, 1) for p, why in repaired.items()})
        for plate, why in repaired.items():
            for variant, also in variants(plate, mode).items():
                found.setdefault(variant, Candidate(f"{why} ; {also}", 2))
    found.pop(exact, None)  # type: ignore[arg-type]
    return exact, dict(itertools.islice(found.items(), MAX_CANDIDATES))


def confusion(a: str, b: str) -> str | None:
    """Why two normalized plates may be one vehicle misread (one confusable substitution), or
    None."""
    if a == b or len(a) != len(b):
        return None
    return variants(a, "confusable").get(b)


def dashed_fragment(raw: str) -> str:
    """A partial plate as it appears in stored plates: dashes where letters and digits meet
    (``AB12`` → ``AB-12``, ``123CD`` → ``123-CD``), so ``CONTAINS`` finds it."""
    text = compact(raw)
    out = []
    for i, c in enumerate(text):
        if i and c.isdigit() != text[i - 1].isdigit():
            out.append("-")
        out.append(c)
    return "".join(out)

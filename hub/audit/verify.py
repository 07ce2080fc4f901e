"""Checking an audit log from its files alone: ``verify(audit_dir, public_key) -> VerifyReport``.

Owns the integrity verdict. It needs no writer state and takes no lock, so an auditor can run it
on a copy, and with ``checkpoints_file`` against a copy of the checkpoints exported earlier
(which defeats an attacker who also rewrote or truncated the local checkpoints file).

What it detects, and how the first bad entry is named (``entrée n° S (ligne L) : raison``):

* an altered entry — its recomputed hash differs (S = that entry);
* a removed entry — the line where it should be holds a later number (S = the missing entry);
* a reordered entry — a later number whose expected predecessor sits further down (S = the entry
  found out of place);
* an inserted entry — a number already seen (S = the duplicated number, L = its second line), or
  a broken ``prev_hash`` link;
* a consistent rewrite (every hash recomputed, as an attacker without the key could) — the entry
  at a signed checkpoint no longer matches it;
* a truncated tail — a signed checkpoint covers entries past the end of the log
  (S = the first missing entry);
* a forged, altered, removed or reordered checkpoint — bad signature, wrong key, or broken
  ``prev``/``n`` chain of checkpoints.

What it cannot detect: removal of entries after the last checkpoint (nothing signed them yet —
``close()`` seals the tail, and the trail seals every ``checkpoint_every`` entries), and a full
rewrite by someone holding the private key (keep exported checkpoints with the auditors).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel, ConfigDict

from hub.audit.keys import key_id, load_public_key
from hub.audit.records import (
    CHECKPOINTS_FILE,
    ENTRIES_FILE,
    GENESIS_HASH,
    Checkpoint,
    checkpoint_digest,
    checkpoint_signing_payload,
    entry_hash,
    unb64,
)

ProblemKind = Literal[
    "unreadable",  # not a JSON object with the expected fields
    "altered",  # entry hash does not match its content
    "missing",  # an entry was removed
    "out_of_order",  # an entry is not where its number says
    "duplicate",  # a number seen twice (insertion)
    "chain_broken",  # prev_hash does not link to the previous entry
    "checkpoint_mismatch",  # a signed checkpoint disagrees with the entry it covers
    "truncated",  # a signed checkpoint covers entries past the end of the log
    "bad_checkpoint",  # checkpoint unreadable, forged, wrongly signed or out of sequence
]


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    seq: int  # the entry concerned (for a checkpoint problem: the entry it covers)
    line: int  # 1-based line in ``file``
    file: Literal["entries", "checkpoints"] = "entries"
    checkpoint: int | None = None  # checkpoint n°, when one is involved
    reason: str  # French, short: "empreinte altérée"

    @property
    def message(self) -> str:
        """What a person reads: « entrée n° 42 (ligne 42) : empreinte altérée »."""
        if self.file == "checkpoints":
            return (f"point de contrôle n° {self.checkpoint} (ligne {self.line} de "
                    f"{CHECKPOINTS_FILE}, entrée n° {self.seq}) : {self.reason}")
        return f"entrée n° {self.seq} (ligne {self.line}) : {self.reason}"

    def __str__(self) -> str:
        return self.message


class VerifyReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    ok: bool
    entries: int  # entries checked good, from the first line
    head_seq: int  # last good entry (0 if none)
    head_hash: str
    checkpoints: int  # checkpoints checked good
    sealed_seq: int  # the last good checkpoint covers entries up to this seq
    first_bad: Problem | None = None
    problems: list[Problem] = []
    warnings: list[str] = []

    @property
    def unsealed(self) -> int:
        """Entries after the last checkpoint: their removal would go unnoticed."""
        return max(0, self.head_seq - self.sealed_seq)

    def summary_fr(self) -> str:
        if not self.ok:
            assert self.first_bad is not None
            return f"journal d'audit ALTÉRÉ — {self.first_bad.message}"
        text = (f"journal d'audit intègre : {self.entries} entrée(s), {self.checkpoints} point(s) "
                f"de contrôle signé(s), scellé jusqu'à l'entrée n° {self.sealed_seq}")
        if self.unsealed:
            text += f" ; {self.unsealed} entrée(s) postérieure(s) au dernier point de contrôle"
        return text


def verify(
    audit_dir: Path | str,
    public_key: Ed25519PublicKey | Path | str | bytes,
    *,
    checkpoints_file: Path | str | None = None,
) -> VerifyReport:
    """Check the whole log in ``audit_dir`` against ``public_key`` (key object, PEM bytes, a PEM
    file, or a keys directory). ``checkpoints_file`` replaces the local checkpoints file, e.g.
    with the auditors' exported copy."""
    pub = load_public_key(public_key)
    audit_dir = Path(audit_dir)
    cp_path = Path(checkpoints_file) if checkpoints_file else audit_dir / CHECKPOINTS_FILE
    warnings: list[str] = []
    problems: list[Problem] = []

    checkpoints, cp_problem = _check_checkpoints(cp_path, pub, warnings)
    if cp_problem:
        problems.append(cp_problem)
    by_seq = {cp.seq: cp for cp in checkpoints}

    head_seq, head_hash, entry_problem = _check_entries(audit_dir / ENTRIES_FILE, by_seq, warnings)
    if entry_problem:
        problems.append(entry_problem)
    elif checkpoints and checkpoints[-1].seq > head_seq:
        last = checkpoints[-1]
        problems.append(Problem(
            kind="truncated", seq=head_seq + 1, line=head_seq + 1, checkpoint=last.n,
            reason=(f"supprimée — journal tronqué : le point de contrôle signé n° {last.n} couvre "
                    f"jusqu'à l'entrée n° {last.seq}, le journal s'arrête à l'entrée n° {head_seq}"),
        ))

    # Only checkpoints the entries reached are proven to match them.
    sealed = max((cp.seq for cp in checkpoints if cp.seq <= head_seq), default=0)
    problems.sort(key=lambda p: (p.seq, p.file != "entries"))
    return VerifyReport(
        ok=not problems,
        entries=head_seq,
        head_seq=head_seq,
        head_hash=head_hash,
        checkpoints=len(checkpoints),
        sealed_seq=sealed,
        first_bad=problems[0] if problems else None,
        problems=problems,
        warnings=warnings,
    )


def _check_checkpoints(
    path: Path, pub: Ed25519PublicKey, warnings: list[str]
) -> tuple[list[Checkpoint], Problem | None]:
    """The checkpoints that are good from the first one on, and the first bad one if any."""
    good: list[Checkpoint] = []
    if not path.exists():
        return good, None
    kid = key_id(pub)
    prev = GENESIS_HASH
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.endswith(b"\n"):
                warnings.append(f"{CHECKPOINTS_FILE} : ligne finale incomplète (écriture interrompue, "
                                "jamais acquittée) ; elle sera tronquée à la prochaine ouverture")
                break
            n = len(good) + 1
            record = _load(raw)
            try:
                cp = Checkpoint.model_validate(record)
            except Exception:
                return good, _cp_problem(record, n, line_no, "illisible")
            if cp.key_id != kid:
                return good, _cp_problem(record, n, line_no, f"signé par une autre clé ({cp.key_id})")
            try:
                pub.verify(unb64(cp.sig), checkpoint_signing_payload(record))
            except (InvalidSignature, ValueError):
                return good, _cp_problem(record, n, line_no, "signature invalide")
            if cp.n != n or cp.prev != prev:
                return good, _cp_problem(
                    record, n, line_no,
                    f"chaînage des points de contrôle rompu (attendu n° {n}) : point supprimé ou déplacé",
                )
            if good and cp.seq <= good[-1].seq:
                return good, _cp_problem(record, n, line_no, "couvre une entrée antérieure au précédent")
            good.append(cp)
            prev = checkpoint_digest(record)
    return good, None


def _cp_problem(record: Any, n: int, line: int, reason: str) -> Problem:
    seq = record.get("seq") if isinstance(record, dict) else None
    return Problem(kind="bad_checkpoint", seq=seq if isinstance(seq, int) else 0, line=line,
                   file="checkpoints", checkpoint=n, reason=reason)


def _check_entries(
    path: Path, by_seq: dict[int, Checkpoint], warnings: list[str]
) -> tuple[int, str, Problem | None]:
    """(last good seq, its hash, first problem). Stops at the first problem:
    after a break, nothing further down is anchored to anything trusted."""
    # Until the first problem every line holds the entry of its own number (line n° = seq n°),
    # which is what names a duplicate's first line without remembering it.
    expected, prev = 1, GENESIS_HASH
    if not path.exists():
        return 0, prev, None
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if not raw.endswith(b"\n"):
                warnings.append(f"{ENTRIES_FILE} : ligne finale incomplète (écriture interrompue, "
                                "jamais acquittée) ; elle sera tronquée à la prochaine ouverture")
                break
            body = _load(raw)
            seq = body.get("seq") if isinstance(body, dict) else None
            if not (isinstance(body, dict) and isinstance(seq, int)
                    and isinstance(body.get("entry_hash"), str)
                    and isinstance(body.get("prev_hash"), str)):
                return expected - 1, prev, Problem(
                    kind="unreadable", seq=expected, line=line_no, reason="ligne illisible")
            if entry_hash(body) != body["entry_hash"]:
                return expected - 1, prev, Problem(
                    kind="altered", seq=seq, line=line_no, reason="empreinte altérée")
            if seq < expected:
                where = f" (déjà ligne {seq})" if seq >= 1 else ""
                return expected - 1, prev, Problem(
                    kind="duplicate", seq=seq, line=line_no,
                    reason=f"numéro en double{where} — entrée insérée ou déplacée (attendu n° {expected})",
                )
            if seq > expected:
                found = _find_seq(path, expected, after_line=line_no)
                if found is None:
                    return expected - 1, prev, Problem(
                        kind="missing", seq=expected, line=line_no,
                        reason=f"supprimée (la ligne {line_no} porte l'entrée n° {seq})",
                    )
                return expected - 1, prev, Problem(
                    kind="out_of_order", seq=seq, line=line_no,
                    reason=f"hors d'ordre : attendu n° {expected}, qui se trouve ligne {found}",
                )
            if body["prev_hash"] != prev:
                return expected - 1, prev, Problem(
                    kind="chain_broken", seq=seq, line=line_no,
                    reason=(f"chaînage rompu : ne suit pas l'entrée n° {seq - 1} — "
                            "entrée insérée ou remplacée"),
                )
            cp = by_seq.get(seq)
            if cp is not None and cp.entry_hash != body["entry_hash"]:
                return expected - 1, prev, Problem(
                    kind="checkpoint_mismatch", seq=seq, line=line_no, checkpoint=cp.n,
                    reason=(f"ne correspond pas au point de contrôle signé n° {cp.n} — entrées "
                            "réécrites à ce numéro ou avant"),
                )
            prev, expected = body["entry_hash"], expected + 1
    return expected - 1, prev, None


def _find_seq(path: Path, seq: int, *, after_line: int) -> int | None:
    """Line holding entry ``seq`` below ``after_line``, if any (second pass, on failure only)."""
    with path.open("rb") as f:
        for line_no, raw in enumerate(f, start=1):
            if line_no <= after_line:
                continue
            body = _load(raw)
            if isinstance(body, dict) and body.get("seq") == seq:
                return line_no
    return None


def _load(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None

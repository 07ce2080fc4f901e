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

from hub.audit import archives
from hub.audit.keys import key_id, load_public_key
from hub.audit.layout import INITIAL_SEGMENT, is_writer_id, list_segments
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
from hub.audit.restores import RestoreNote, restore_notes

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
    "segment_missing",  # a segment a later writer saw (its log_opened entry) is gone
    "witness_mismatch",  # a segment no longer holds the head a later writer saw
    "bad_segment",  # a directory under segments/ that no writer made
    "bad_archive",  # an archive (ADR 0028) forged, altered, out of its chain, or unrecorded
    "archive_missing",  # an archive gone without its deletion recorded at the end of its retention
]


class Problem(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: ProblemKind
    seq: int  # the entry concerned (for a checkpoint problem: the entry it covers)
    line: int  # 1-based line in ``file``
    file: Literal["entries", "checkpoints"] = "entries"
    checkpoint: int | None = None  # checkpoint n°, when one is involved
    reason: str  # French, short: "empreinte altérée"
    segment: str | None = None  # the writer's segment (ADR 0012); None for a lone chain

    @property
    def message(self) -> str:
        """What a person reads: « segment S : entrée n° 42 (ligne 42) : empreinte altérée »."""
        where = f"segment {self.segment} : " if self.segment else ""
        if self.kind in ("segment_missing", "bad_segment", "bad_archive", "archive_missing"):
            return f"{where}{self.reason}"
        if self.file == "checkpoints":
            return (f"{where}point de contrôle n° {self.checkpoint} (ligne {self.line} de "
                    f"{CHECKPOINTS_FILE}, entrée n° {self.seq}) : {self.reason}")
        return f"{where}entrée n° {self.seq} (ligne {self.line}) : {self.reason}"

    def __str__(self) -> str:
        return self.message


class SegmentReport(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    ok: bool
    entries: int
    sealed_seq: int
    checkpoints: int
    closed: bool


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
    # One line per writer's segment (ADR 0012); empty for a lone chain (ADR 0003).
    segments: list[SegmentReport] = []
    # Restores recorded in the trail, and the entries each marks as describing rolled-back data
    # (hub/audit/restores.py, ADR 0027).
    restores: list[RestoreNote] = []
    archives: int = 0  # archive files checked (ADR 0028); their segments are in ``segments``

    @property
    def unsealed(self) -> int:
        """Entries after the last checkpoint: their removal would go unnoticed."""
        return max(0, self.head_seq - self.sealed_seq)

    def summary_fr(self) -> str:
        if not self.ok:
            assert self.first_bad is not None
            return f"journal d'audit ALTÉRÉ — {self.first_bad.message}"
        if self.segments:
            open_now = sum(not s.closed for s in self.segments)
            text = (f"journal d'audit intègre : {len(self.segments)} segment(s) d'écriture "
                    f"({open_now} ouvert(s)), {self.entries} entrée(s), {self.checkpoints} point(s) "
                    f"de contrôle signé(s), {self.sealed_seq} entrée(s) scellée(s)")
        else:
            text = (f"journal d'audit intègre : {self.entries} entrée(s), {self.checkpoints} point(s) "
                    f"de contrôle signé(s), scellé jusqu'à l'entrée n° {self.sealed_seq}")
        if self.unsealed:
            text += f" ; {self.unsealed} entrée(s) postérieure(s) au dernier point de contrôle"
        if self.archives:
            text += f" ; {self.archives} segment(s) lu(s) dans des archives signées et chaînées"
        for note in self.restores:
            text += f" ; {note.message}"
        return text


def verify(
    audit_dir: Path | str,
    public_key: Ed25519PublicKey | Path | str | bytes,
    *,
    checkpoints_file: Path | str | None = None,
) -> VerifyReport:
    """Check the whole trail in ``audit_dir`` — every writer's segment (ADR 0012) — against
    ``public_key`` (key object, PEM bytes, a PEM file, or a keys directory).

    ``checkpoints_file`` replaces the local checkpoints, e.g. with the auditors' exported copy:
    for a lone chain, that file; for a trail of segments, a directory holding
    ``<segment>/checkpoints.jsonl`` per exported segment (others are checked against their own).

    Each segment is checked as a chain of its own (``verify_chain``), then the links between
    segments: the first entry of each segment names the segment created before it and the head
    it saw there, so a deleted segment, or one cut or rewritten below what a later writer saw,
    is named."""
    pub = load_public_key(public_key)
    audit_dir = Path(audit_dir)
    segments = list_segments(audit_dir)
    # Archived segments (ADR 0028), extracted for as long as ``arch`` lives, are checked as live ones.
    arch = archives.open_archives(audit_dir, pub, segments)
    segments = arch.segments + segments
    if all(seg.name == INITIAL_SEGMENT for seg in segments):
        return verify_chain(audit_dir, pub, checkpoints_file=checkpoints_file)

    links: dict[str, tuple[str, int, str]] = {}  # segment -> (the one before it, seq, hash seen)
    wanted: dict[str, dict[int, str]] = {}
    for seg in segments:
        link = _opening_link(seg.entries)
        if link is not None:
            links[seg.name] = link
            wanted.setdefault(link[0], {})[link[1]] = link[2]
    exported = Path(checkpoints_file) if checkpoints_file else None
    problems: list[Problem] = []
    warnings: list[str] = []
    parts: list[SegmentReport] = []
    seen_at: dict[str, dict[int, str]] = {}
    heads: dict[str, int] = {}
    totals = {"entries": 0, "sealed": 0, "checkpoints": 0}
    for seg in segments:
        if seg.name != INITIAL_SEGMENT and not is_writer_id(seg.name):
            problems.append(Problem(kind="bad_segment", seq=0, line=0, segment=seg.name,
                                    reason="répertoire de segment qu'aucun processus du hub n'a créé"))
        cp_copy = exported / seg.name / CHECKPOINTS_FILE if exported is not None else None
        seen: dict[int, str] = {}
        report = verify_chain(seg.path, pub,
                              checkpoints_file=cp_copy if cp_copy and cp_copy.exists() else None,
                              wanted=set(wanted.get(seg.name, {})), seen=seen)
        seen_at[seg.name], heads[seg.name] = seen, report.head_seq
        problems += [p.model_copy(update={"segment": seg.name}) for p in report.problems]
        warnings += [f"segment {seg.name} : {w}" for w in report.warnings]
        parts.append(SegmentReport(name=seg.name, ok=report.ok, entries=report.entries,
                                   sealed_seq=report.sealed_seq, checkpoints=report.checkpoints,
                                   closed=seg.closed))
        totals["entries"] += report.entries
        totals["sealed"] += report.sealed_seq
        totals["checkpoints"] += report.checkpoints
    problems += [Problem(kind=kind, seq=0, line=0, reason=f"archive {name} : {why}")
                 for kind, name, why in arch.problems]
    warnings += arch.warnings
    for name, (before, seq, digest) in links.items():
        if before in arch.deleted_segments:
            continue  # its archive was deleted at the end of its retention, and that is recorded
        if before not in heads:
            problems.append(Problem(
                kind="segment_missing", seq=seq, line=0, segment=before,
                reason=f"segment supprimé — le segment {name} l'a vu à son ouverture (entrée n° {seq})"))
        elif seq and seen_at[before].get(seq) != digest:
            cut = seq > heads[before]
            problems.append(Problem(
                kind="truncated" if cut else "witness_mismatch", seq=seq, line=seq, segment=before,
                reason=(f"le segment {name} l'a vue à son ouverture ; "
                        + ("elle a disparu (segment tronqué)" if cut else
                           "elle a changé depuis (segment réécrit)"))))
    problems.sort(key=lambda p: (p.segment or "", p.seq, p.file != "entries"))
    return VerifyReport(
        ok=not problems, entries=totals["entries"], head_seq=totals["entries"], head_hash=GENESIS_HASH,
        checkpoints=totals["checkpoints"], sealed_seq=totals["sealed"],
        first_bad=problems[0] if problems else None, problems=problems, warnings=warnings,
        segments=parts, restores=restore_notes(audit_dir), archives=arch.count,
    )


def _opening_link(entries: Path) -> tuple[str, int, str] | None:
    """(segment before, seq, hash) named by a segment's first entry, if it is a ``log_opened``."""
    try:
        with entries.open("rb") as f:
            first = f.readline()
    except FileNotFoundError:
        return None
    body = _load(first)
    details = body.get("details") if isinstance(body, dict) and body.get("action") == "log_opened" else None
    if not isinstance(details, dict) or not isinstance(details.get("previous_segment"), str):
        return None
    seq, digest = details.get("previous_seq"), details.get("previous_hash")
    if not isinstance(seq, int) or not isinstance(digest, str):
        return None
    return details["previous_segment"], seq, digest


def verify_chain(
    directory: Path | str,
    public_key: Ed25519PublicKey | Path | str | bytes,
    *,
    checkpoints_file: Path | str | None = None,
    wanted: set[int] | None = None,
    seen: dict[int, str] | None = None,
) -> VerifyReport:
    """Check one hash chain (the files of one segment, or of the ADR 0003 trail) against
    ``public_key``. The hashes of the good entries numbered in ``wanted`` are put in ``seen``."""
    pub = load_public_key(public_key)
    audit_dir = Path(directory)
    cp_path = Path(checkpoints_file) if checkpoints_file else audit_dir / CHECKPOINTS_FILE
    warnings: list[str] = []
    problems: list[Problem] = []

    checkpoints, cp_problem = _check_checkpoints(cp_path, pub, warnings)
    if cp_problem:
        problems.append(cp_problem)
    by_seq = {cp.seq: cp for cp in checkpoints}

    head_seq, head_hash, entry_problem = _check_entries(audit_dir / ENTRIES_FILE, by_seq, warnings,
                                                        wanted or set(), seen if seen is not None else {})
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
    path: Path, by_seq: dict[int, Checkpoint], warnings: list[str],
    wanted: set[int], seen: dict[int, str],
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
            if seq in wanted:
                seen[seq] = prev
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

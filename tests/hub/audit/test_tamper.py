"""Tampering with the files is detected by ``verify``, which names the first bad entry.

The ``populated`` log has 20 entries and checkpoints at entries 10 and 20 (periodic, then the
closing one). Each test edits the files as an attacker with write access but without the signing
key would, and checks the verdict: kind, entry number, line number and French message.
"""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.audit import verify
from hub.audit.records import b64, unb64
from tests.hub.audit.logfiles import (
    Dirs,
    dump,
    entry,
    make_event,
    read_lines,
    rehash,
    resign_checkpoints,
    rewrite_chain,
    run_writer_without_close,
    write_lines,
)


def check(dirs: Dirs, kind: str, seq: int, line: int, *, reason: str | None = None) -> None:
    report = verify(dirs.audit, dirs.keys)
    assert not report.ok
    bad = report.first_bad
    assert bad is not None
    assert (bad.kind, bad.seq, bad.line) == (kind, seq, line), bad.message
    assert bad.message.startswith(f"entrée n° {seq} (ligne {line}) : ")
    if reason:
        assert reason in bad.message


def test_clean_log_verifies(populated: Dirs) -> None:
    report = verify(populated.audit, populated.keys)
    assert report.ok, report.first_bad
    assert (report.entries, report.head_seq, report.checkpoints, report.sealed_seq) == (20, 20, 2, 20)
    assert report.unsealed == 0
    assert report.problems == [] and report.warnings == []
    assert "intègre" in report.summary_fr()


ALTERATIONS = {
    "justification": lambda b: b.update(justification="Justification réécrite après coup"),
    "actor.agency": lambda b: b["actor"].update(agency="gir"),
    "actor.user_id": lambda b: b["actor"].update(user_id="u-innocent"),
    "at": lambda b: b.update(at="2020-01-01T00:00:00Z"),
    "lead_ids": lambda b: b.update(lead_ids=[]),
    "decision.outcome": lambda b: b["decision"].update(outcome="deny"),
    "recipients": lambda b: b.update(recipients=["quelqu-un-d-autre"]),
    "prev_hash": lambda b: b.update(prev_hash="f" * 64),
}


@pytest.mark.parametrize("pos", [1, 2, 9, 10, 11, 19, 20])
@pytest.mark.parametrize("field", sorted(ALTERATIONS))
def test_altered_field(populated: Dirs, pos: int, field: str) -> None:
    lines = read_lines(populated.entries)
    body = entry(lines[pos - 1])
    ALTERATIONS[field](body)
    lines[pos - 1] = dump(body)
    write_lines(populated.entries, lines)
    check(populated, "altered", pos, pos, reason="empreinte altérée")


def test_message_format(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    lines[16] = lines[16].replace(b"Agent", b"Agnet")
    write_lines(populated.entries, lines)
    assert verify(populated.audit, populated.keys).first_bad.message == (
        "entrée n° 17 (ligne 17) : empreinte altérée")


@pytest.mark.parametrize(("pos", "kind", "seq"), [
    (5, "chain_broken", 6),  # the next entry no longer links to it
    (10, "checkpoint_mismatch", 10),  # the checkpoint signed the original
    (20, "checkpoint_mismatch", 20),  # last entry: only the closing checkpoint can tell
])
def test_altered_and_rehashed(populated: Dirs, pos: int, kind: str, seq: int) -> None:
    lines = read_lines(populated.entries)
    body = entry(lines[pos - 1])
    body["justification"] = "réécrite, empreinte recalculée"
    lines[pos - 1] = dump(rehash(body))
    write_lines(populated.entries, lines)
    check(populated, kind, seq, seq)


@pytest.mark.parametrize("pos", [1, 5, 10, 19])
def test_deleted_entry(populated: Dirs, pos: int) -> None:
    lines = read_lines(populated.entries)
    del lines[pos - 1]
    write_lines(populated.entries, lines)
    check(populated, "missing", pos, pos, reason=f"supprimée (la ligne {pos} porte l'entrée n° {pos + 1})")


def test_deleted_last_entry(populated: Dirs) -> None:
    write_lines(populated.entries, read_lines(populated.entries)[:-1])
    check(populated, "truncated", 20, 20, reason="journal tronqué")


@pytest.mark.parametrize(("after", "kind", "seq", "line"), [
    (0, "duplicate", 1, 2),  # caught where the genuine entry of that number follows it
    (5, "duplicate", 6, 7),
    (12, "duplicate", 13, 14),
    (9, "checkpoint_mismatch", 10, 10),  # it takes a signed number: caught on its own line
    (19, "checkpoint_mismatch", 20, 20),
])
def test_inserted_entry(populated: Dirs, after: int, kind: str, seq: int, line: int) -> None:
    """A forged entry well formed in every respect: right number, linked to its predecessor,
    own hash right."""
    lines = read_lines(populated.entries)
    prev = entry(lines[after - 1])["entry_hash"] if after else "0" * 64
    forged = make_event(99, justification="entrée forgée").model_dump(mode="json")
    forged.update(v=1, seq=after + 1, prev_hash=prev, recorded_at="2025-10-01T00:00:00Z")
    lines.insert(after, dump(rehash(forged)))
    write_lines(populated.entries, lines)
    check(populated, kind, seq, line)


def test_inserted_copy_of_an_entry(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    lines.insert(7, lines[3])  # entry 4 replayed after entry 7
    write_lines(populated.entries, lines)
    check(populated, "duplicate", 4, 8, reason="numéro en double (déjà ligne 4)")


def test_inserted_and_renumbered(populated: Dirs) -> None:
    """Insert after entry 5 and renumber/re-chain everything after it: a consistent chain, but
    not the one the key signed at entry 10."""
    bodies = [entry(line) for line in read_lines(populated.entries)]
    forged = make_event(99, justification="entrée forgée").model_dump(mode="json")
    forged.update(v=1, recorded_at="2025-10-01T00:00:00Z")
    write_lines(populated.entries, rewrite_chain(bodies[:5] + [forged] + bodies[5:]))
    check(populated, "checkpoint_mismatch", 10, 10, reason="point de contrôle signé n° 1")


@pytest.mark.parametrize("pos", [1, 7, 10, 19])
def test_swapped_entries(populated: Dirs, pos: int) -> None:
    lines = read_lines(populated.entries)
    lines[pos - 1], lines[pos] = lines[pos], lines[pos - 1]
    write_lines(populated.entries, lines)
    check(populated, "out_of_order", pos + 1, pos,
          reason=f"hors d'ordre : attendu n° {pos}, qui se trouve ligne {pos + 1}")


def test_reordered_far(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    moved = lines.pop(2)  # entry 3 moved to the end
    lines.append(moved)
    write_lines(populated.entries, lines)
    check(populated, "out_of_order", 4, 3, reason="attendu n° 3, qui se trouve ligne 20")


@pytest.mark.parametrize("keep", [0, 1, 8, 9])
def test_truncated_before_a_checkpoint(populated: Dirs, keep: int) -> None:
    """Cut before the checkpoint at 10: it covers entries that are gone."""
    write_lines(populated.entries, read_lines(populated.entries)[:keep])
    check(populated, "truncated", keep + 1, keep + 1,
          reason=f"s'arrête à l'entrée n° {keep}")


@pytest.mark.parametrize("keep", [10, 11, 15, 19])
def test_truncated_after_a_checkpoint(populated: Dirs, keep: int) -> None:
    """Cut after the checkpoint at 10: the closing checkpoint at 20 still covers the tail."""
    write_lines(populated.entries, read_lines(populated.entries)[:keep])
    check(populated, "truncated", keep + 1, keep + 1, reason="point de contrôle signé n° 2")


def test_truncated_unsealed_tail_is_a_known_limit(dirs: Dirs) -> None:
    """A writer that dies leaves entries after its last checkpoint unsealed: removing *those*
    goes unnoticed (documented in verify.py and the ADR), removing a sealed one does not."""
    run_writer_without_close(dirs, n=25, every=10)
    report = verify(dirs.audit, dirs.keys)
    assert report.ok and report.sealed_seq == 20 and report.unsealed == 5

    write_lines(dirs.entries, read_lines(dirs.entries)[:22])
    report = verify(dirs.audit, dirs.keys)
    assert report.ok and report.head_seq == 22  # undetectable: nothing signed 23-25

    write_lines(dirs.entries, read_lines(dirs.entries)[:18])
    check(dirs, "truncated", 19, 19)


def test_emptied_log(populated: Dirs) -> None:
    populated.entries.write_bytes(b"")
    check(populated, "truncated", 1, 1)
    populated.entries.unlink()
    check(populated, "truncated", 1, 1)


def test_unreadable_line(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    lines[11] = b'{"seq": 12, "pas du json\n'
    write_lines(populated.entries, lines)
    check(populated, "unreadable", 12, 12, reason="ligne illisible")


# --- checkpoints ---------------------------------------------------------------------------------


def check_cp(dirs: Dirs, n: int, seq: int, reason: str) -> None:
    report = verify(dirs.audit, dirs.keys)
    assert not report.ok
    bad = report.first_bad
    assert bad is not None and bad.file == "checkpoints"
    assert (bad.kind, bad.checkpoint, bad.seq, bad.line) == ("bad_checkpoint", n, seq, n), bad.message
    assert bad.message.startswith(f"point de contrôle n° {n} (ligne {n} de checkpoints.jsonl, entrée n° {seq}) : ")
    assert reason in bad.message


@pytest.mark.parametrize(("n", "seq"), [(1, 10), (2, 20)])
def test_forged_checkpoint_signature(populated: Dirs, n: int, seq: int) -> None:
    lines = read_lines(populated.checkpoints)
    body = entry(lines[n - 1])
    sig = bytearray(unb64(body["sig"]))
    sig[5] ^= 0x01
    body["sig"] = b64(bytes(sig))
    lines[n - 1] = dump(body)
    write_lines(populated.checkpoints, lines)
    check_cp(populated, n, seq, "signature invalide")


def test_checkpoint_edited_without_resigning(populated: Dirs) -> None:
    """Point the first checkpoint at a rewritten chain: the signature no longer covers it."""
    lines = read_lines(populated.checkpoints)
    body = entry(lines[0])
    body["entry_hash"] = "a" * 64
    lines[0] = dump(body)
    write_lines(populated.checkpoints, lines)
    check_cp(populated, 1, 10, "signature invalide")


def test_checkpoint_signature_garbage(populated: Dirs) -> None:
    lines = read_lines(populated.checkpoints)
    body = entry(lines[1])
    body["sig"] = "not base64!"
    lines[1] = dump(body)
    write_lines(populated.checkpoints, lines)
    check_cp(populated, 2, 20, "signature invalide")


def test_full_rewrite_signed_with_another_key(populated: Dirs) -> None:
    """Rewrite an entry, re-chain, and re-sign every checkpoint with the attacker's own key."""
    bodies = [entry(line) for line in read_lines(populated.entries)]
    bodies[3]["justification"] = "réécrite"
    write_lines(populated.entries, rewrite_chain(bodies))
    resign_checkpoints(populated, Ed25519PrivateKey.generate())
    check_cp(populated, 1, 10, "signé par une autre clé")


def test_removed_middle_checkpoint(populated: Dirs) -> None:
    lines = read_lines(populated.checkpoints)
    write_lines(populated.checkpoints, lines[1:])  # drop n° 1
    check_cp(populated, 1, 20, "chaînage des points de contrôle rompu")


def test_exported_checkpoints_catch_a_rewritten_checkpoint_file(populated: Dirs, tmp_path) -> None:
    """The auditors' copy of the checkpoints defeats an attacker who truncates the log *and*
    drops the checkpoints that would have told."""
    exported = tmp_path / "export-checkpoints.jsonl"
    exported.write_bytes(populated.checkpoints.read_bytes())
    write_lines(populated.entries, read_lines(populated.entries)[:12])
    write_lines(populated.checkpoints, read_lines(populated.checkpoints)[:1])
    assert verify(populated.audit, populated.keys).ok  # locally, nothing left to tell
    report = verify(populated.audit, populated.keys, checkpoints_file=exported)
    assert not report.ok and (report.first_bad.kind, report.first_bad.seq) == ("truncated", 13)


def test_torn_last_line_is_a_warning_not_a_failure(populated: Dirs) -> None:
    with populated.entries.open("ab") as f:
        f.write(b'{"action":"consultation","actor":{')
    report = verify(populated.audit, populated.keys)
    assert report.ok and report.head_seq == 20
    assert any("ligne finale incomplète" in w for w in report.warnings)


def test_report_serializes(populated: Dirs) -> None:
    lines = read_lines(populated.entries)
    del lines[3]
    write_lines(populated.entries, lines)
    report = verify(populated.audit, populated.keys)
    data = json.loads(report.model_dump_json())
    assert data["first_bad"]["seq"] == 4 and data["ok"] is False

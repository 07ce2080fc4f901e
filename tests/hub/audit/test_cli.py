"""``crosshub audit``: ``verify`` exits 0 on a clean log and 1, naming the first bad entry in
French, on a tampered one; ``list``/``tail`` filter and page. The commands find the log and the
public key through ``Settings()`` (``CROSSHUB_DATA_DIR``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from typer.testing import CliRunner

from hub.cli.audit import app
from hub.audit import AuditTrail
from policies.audit import AuditAction
from tests.hub.audit.logfiles import Dirs, dump, entry, make_event, read_lines, rehash, write_lines

runner = CliRunner()


def invoke(dirs: Dirs, *args: str):
    # populated/dirs live in <tmp>/data/{audit,keys}: exactly Settings(data_dir=<tmp>/data).
    return runner.invoke(app, list(args), env={"CROSSHUB_DATA_DIR": str(dirs.audit.parent),
                                               "COLUMNS": "300"})


def test_verify_clean_log_exits_0(populated: Dirs) -> None:
    result = invoke(populated, "verify")
    assert result.exit_code == 0, result.output
    assert "OK" in result.stdout and "20 entrée(s)" in result.stdout
    assert "scellé jusqu'à l'entrée n° 20" in result.stdout


def _alter(dirs: Dirs) -> None:
    lines = read_lines(dirs.entries)
    lines[6] = lines[6].replace(b"Agent", b"Agnet")
    write_lines(dirs.entries, lines)


def _delete(dirs: Dirs) -> None:
    lines = read_lines(dirs.entries)
    del lines[11]
    write_lines(dirs.entries, lines)


def _insert(dirs: Dirs) -> None:
    lines = read_lines(dirs.entries)
    forged = entry(lines[2])
    forged["justification"] = "forgée"
    lines.insert(3, dump(rehash(forged)))  # a second entry n° 3, after the genuine one
    write_lines(dirs.entries, lines)


def _swap(dirs: Dirs) -> None:
    lines = read_lines(dirs.entries)
    lines[14], lines[15] = lines[15], lines[14]
    write_lines(dirs.entries, lines)


def _truncate(dirs: Dirs) -> None:
    write_lines(dirs.entries, read_lines(dirs.entries)[:16])


def _forge_checkpoint(dirs: Dirs) -> None:
    lines = read_lines(dirs.checkpoints)
    body = entry(lines[0])
    body["sig"] = body["sig"][::-1]
    lines[0] = dump(body)
    write_lines(dirs.checkpoints, lines)


@pytest.mark.parametrize(("tamper", "expected"), [
    (_alter, "entrée n° 7 (ligne 7) : empreinte altérée"),
    (_delete, "entrée n° 12 (ligne 12) : supprimée"),
    (_insert, "entrée n° 3 (ligne 4) : numéro en double"),
    (_swap, "entrée n° 16 (ligne 15) : hors d'ordre"),
    (_truncate, "entrée n° 17 (ligne 17) : supprimée — journal tronqué"),
    (_forge_checkpoint, "point de contrôle n° 1 (ligne 1 de checkpoints.jsonl, entrée n° 10) : "
                        "signature invalide"),
], ids=["alter", "delete", "insert", "swap", "truncate", "forge-checkpoint"])
def test_verify_tampered_log_exits_1(populated: Dirs, tamper: Callable[[Dirs], None], expected: str) -> None:
    tamper(populated)
    result = invoke(populated, "verify")
    assert result.exit_code == 1, result.output
    assert "ALTÉRATION DÉTECTÉE" in result.stdout
    assert expected in result.stdout


def test_verify_with_explicit_paths(populated: Dirs, tmp_path) -> None:
    exported = tmp_path / "export.jsonl"
    exported.write_bytes(populated.checkpoints.read_bytes())
    write_lines(populated.entries, read_lines(populated.entries)[:12])
    populated.checkpoints.write_bytes(b"")
    args = ["verify", "--audit-dir", str(populated.audit),
            "--public-key", str(populated.keys / "audit_ed25519.pub.pem")]
    assert runner.invoke(app, args, env={"CROSSHUB_DATA_DIR": str(tmp_path / "elsewhere")}).exit_code == 0
    result = runner.invoke(app, [*args, "--checkpoints", str(exported)],
                           env={"CROSSHUB_DATA_DIR": str(tmp_path / "elsewhere")})
    assert result.exit_code == 1 and "entrée n° 13 (ligne 13)" in result.stdout


def test_verify_without_a_log_or_a_key_exits_2(dirs: Dirs, populated: Dirs, tmp_path) -> None:
    result = runner.invoke(app, ["verify"], env={"CROSSHUB_DATA_DIR": str(tmp_path / "empty")})
    assert result.exit_code == 2 and "introuvable" in result.stderr
    (populated.keys / "audit_ed25519.pub.pem").unlink()
    result = invoke(populated, "verify")
    assert result.exit_code == 2 and "clé publique du journal d'audit introuvable" in result.stderr


def test_list_and_tail(populated: Dirs) -> None:
    result = invoke(populated, "tail", "-n", "3")
    assert result.exit_code == 0, result.output
    assert "Consultation" in result.stdout and "Agent" in result.stdout and "Enquête" in result.stdout
    for seq in ("20", "19", "18"):
        assert f"│ {seq} " in result.stdout
    assert "│ 17 " not in result.stdout

    result = invoke(populated, "list", "--agency", "douanes", "--user", "u2", "--json")
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["seq"] for r in rows] == [15, 3]
    assert all(r["actor"]["agency"] == "douanes" and r["actor"]["user_id"] == "u2" for r in rows)

    result = invoke(populated, "list", "--lead", "police:PV-2025-0004", "--json")
    assert [json.loads(line)["seq"] for line in result.stdout.splitlines()] == [5]
    result = invoke(populated, "list", "--action", "erasure")
    assert result.exit_code == 0 and "Aucune entrée" in result.stdout


def test_list_time_filters(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        for day in (1, 2, 3):
            trail.append(make_event(day, at=f"2025-10-0{day}T12:00:00+02:00",
                                    action=AuditAction.ERASURE, justification=None))
    result = invoke(dirs, "list", "--since", "2025-10-02", "--until", "2025-10-03T10:00:00Z", "--json")
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["at"] for line in result.stdout.splitlines()] == ["2025-10-02T10:00:00Z"]
    result = invoke(dirs, "list", "--since", "hier")
    assert result.exit_code == 2 and "date invalide" in result.output


def test_list_shows_user_text_literally(dirs: Dirs) -> None:
    with AuditTrail.open(audit_dir=dirs.audit, keys_dir=dirs.keys) as trail:
        trail.append(make_event(1, justification="[bold]réquisition[/bold] n° [42]"))
    result = invoke(dirs, "list")
    assert result.exit_code == 0, result.output
    assert "[bold]réquisition[/bold] n° [42]" in result.stdout
    assert "[same-agency-full]" in result.stdout  # the rule id, not eaten as markup

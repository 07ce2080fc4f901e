"""Tracing a copy back to its recipient: ``trace(data, keys_dir, audit_dir) -> TraceReport``.

Owns reading a file that left the hub — whatever its format — for the marks the hub put in it
(hub/watermark): it looks at the bytes themselves, the members of a zip (the CSV export, an
XLSX), the inflated streams of a PDF (WeasyPrint writes the token as the document's keywords,
inside a compressed object stream) and the text chunks of a PNG. Then:

- a **token** found is checked with the hub's key: authentic (the recipient, date, justification
  and code it names are the hub's), or forged / altered (« falsifiée ou altérée »: someone
  changed the recipient or made one up). An authentic token is also looked up in the trail: the
  disclosure that issued it must be there;
- a **short code** alone (rows pasted elsewhere) is looked up in the trail (the disclosure's
  entity key ``watermark:<code>``: live segments through the index, then the archives); the
  token recorded there is checked as above. A code the trail never issued is reported as
  unknown (forged or altered).

Pure reading: the CLI (hub/cli/trace.py) records the trace itself in the trail.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hub.audit import AuditFilters, query
from hub.audit.archives import archived_entries, list_archives
from hub.watermark import CODE_RE, ENTITY_PREFIX, TOKEN_RE, IssuedMark, watermarker
from hub.watermark.images import text_chunks
from policies.audit import AuditAction

Verdict = Literal["authentic", "forged", "unknown_code", "none"]
VERDICT_FR = {
    "authentic": "marque authentique",
    "forged": "marque FALSIFIÉE OU ALTÉRÉE : elle n'a pas été émise telle quelle par ce hub",
    "unknown_code": "code de traçage INCONNU du journal : falsifié, altéré ou d'un autre hub",
    "none": "aucune marque trouvée",
}
_STREAM = re.compile(rb"stream\r?\n(.*?)endstream", re.S)
_MAX_MEMBER = 200 << 20


@dataclass
class Finding:
    verdict: Verdict
    issued: IssuedMark | None = None
    code: str | None = None  # the short code read or derived
    registered: str | None = None  # "segment n° seq" of the disclosure that issued it

    def lines_fr(self) -> list[str]:
        out = [VERDICT_FR[self.verdict] + (f" ({self.code})" if self.code else "")]
        if self.issued is not None:
            m = self.issued.mark
            out += [f"  destinataire : {m.recipient_fr()} — {m.user_id}",
                    f"  date : {m.at_fr}",
                    f"  justification : {m.justification}",
                    f"  code de traitement : {m.handling_label}",
                    f"  document : {m.document} (marque {m.mark_id})",
                    "  journal : " + (f"communication enregistrée ({self.registered})"
                                      if self.registered else "AUCUNE communication enregistrée pour cette marque")]
        return out


@dataclass
class TraceReport:
    findings: list[Finding] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        order = ("forged", "unknown_code", "authentic")
        return next((v for v in order if any(f.verdict == v for f in self.findings)), "none")

    @property
    def authentic(self) -> list[Finding]:
        return [f for f in self.findings if f.verdict == "authentic"]


def texts_of(data: bytes) -> list[bytes]:
    """Every byte string of a file a mark may sit in."""
    out = [data]
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                out.append(z.comment)
                for info in z.infolist():
                    if info.file_size <= _MAX_MEMBER:
                        out.append(z.read(info))
        except (zipfile.BadZipFile, OSError, ValueError):
            pass
    elif data.startswith(b"%PDF"):
        for m in _STREAM.finditer(data):
            try:
                out.append(zlib.decompressobj().decompress(m.group(1), _MAX_MEMBER))
            except zlib.error:
                continue
        out += _pdf_text(data)
    elif data.startswith(b"\x89PNG"):
        out += [v.encode("utf-8") for v in text_chunks(data).values()]
    return out


def _pdf_text(data: bytes) -> list[bytes]:
    """The pages' text, where pypdfium2 is installed (the test extra): a brief printed again
    from a browser keeps its visible short code but loses the keywords holding the token."""
    try:
        import pypdfium2
    except ImportError:
        return []
    try:
        doc = pypdfium2.PdfDocument(data)
        return [page.get_textpage().get_text_range().encode("utf-8") for page in doc]
    except (pypdfium2.PdfiumError, ValueError, OSError):
        return []


def trace(data: bytes, keys_dir: Path, audit_dir: Path, *, index_path: Path | None = None) -> TraceReport:
    marker = watermarker(Path(keys_dir))
    tokens: dict[str, None] = {}
    codes: dict[str, None] = {}
    for text in texts_of(data):
        tokens.update(dict.fromkeys(m.group(0).decode("ascii") for m in TOKEN_RE.finditer(text)))
        codes.update(dict.fromkeys(m.group(0).decode("ascii") for m in CODE_RE.finditer(text)))
    report = TraceReport()
    for token in tokens:
        issued = marker.check(token)
        if issued is None:
            report.findings.append(Finding("forged"))
            continue
        codes.pop(issued.code, None)
        entry = _registered(audit_dir, issued.code, index_path)
        report.findings.append(Finding("authentic", issued, issued.code,
                                       entry[0] if entry else None))
    for code in codes:
        entry = _registered(audit_dir, code, index_path)
        issued = marker.check(entry[1]) if entry else None
        if issued is None or issued.code != code:
            report.findings.append(Finding("unknown_code", code=code))
        else:
            report.findings.append(Finding("authentic", issued, code, entry[0]))
    return report


def _registered(audit_dir: Path, code: str, index_path: Path | None) -> tuple[str, str] | None:
    """(where, token) of the disclosure that issued ``code``, if the trail holds one: in the
    live segments (through the index), else in the archives (ADR 0028), read through."""
    entries = query(Path(audit_dir), AuditFilters(entity_key=ENTITY_PREFIX + code,
                                                  action=AuditAction.DISCLOSURE, limit=5),
                    index_path=index_path)
    for e in entries:
        token = e.details.get("watermark")
        if isinstance(token, str):
            return f"segment {e.segment}, entrée n° {e.seq}", token
    return _archived(Path(audit_dir), code)


def _archived(audit_dir: Path, code: str) -> tuple[str, str] | None:
    needle = json.dumps(ENTITY_PREFIX + code).encode()
    for path in reversed(list_archives(audit_dir)):
        for body in archived_entries(path, needle):
            token = (body.get("details") or {}).get("watermark")
            if body.get("action") == AuditAction.DISCLOSURE.value and isinstance(token, str):
                return f"archive {path.name}, entrée n° {body.get('seq')}", token
    return None


__all__ = ["Finding", "TraceReport", "VERDICT_FR", "texts_of", "trace"]

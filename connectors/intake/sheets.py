"""Reading an uploaded spreadsheet into a header row and data rows of text, in memory only (the
file holds names: it is never written to disk).

* CSV: UTF-8 with or without BOM, separated by ``;`` (French Excel) or ``,`` — whichever the
  header line holds more of; any other encoding is refused with how to re-save it.
* XLSX (openpyxl, read-only): the first sheet; dates become ``JJ/MM/AAAA HH:MM``, whole numbers
  lose their ``.0``.

Row numbers are the spreadsheet's own (the header is line 1), so an error says the line the
person sees in their tool. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime

from hub.contract.errors import InvalidInput

MAX_ROWS = 1000


@dataclass(frozen=True)
class Table:
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


def _refuse(reason: str) -> InvalidInput:
    return InvalidInput(f"fichier illisible : {reason}", details=[{"field": "fichier", "reason": reason}])


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M") if (value.hour or value.minute) else value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _table(lines: list[tuple[int, list[str]]]) -> Table:
    if not lines:
        raise _refuse("aucune ligne d'en-tête : la première ligne doit nommer les colonnes")
    (_, headers), body = lines[0], [(n, cells) for n, cells in lines[1:] if any(c.strip() for c in cells)]
    headers = [h.strip() for h in headers]
    if not any(headers):
        raise _refuse("la première ligne doit nommer les colonnes")
    if not body:
        raise _refuse("aucune ligne de données sous l'en-tête")
    if len(body) > MAX_ROWS:
        raise _refuse(f"{len(body)} lignes : au plus {MAX_ROWS} par import, découper le fichier")
    width = len(headers)
    return Table(headers, [(n, (cells + [""] * width)[:width]) for n, cells in body])


def read_csv(data: bytes) -> Table:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse("le fichier n'est pas en UTF-8 : l'enregistrer au format « CSV UTF-8 »") from None
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        lines = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise _refuse(f"CSV mal formé : {exc}") from None
    return _table(lines)


def read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not XLSX
        raise _refuse("ce n'est pas un classeur XLSX lisible (enregistrer au format .xlsx)") from None
    try:
        sheet = book.worksheets[0]
        lines = [(n, [_text(v) for v in row])
                 for n, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)]
    finally:
        book.close()
    return _table(lines)


def read_table(filename: str, data: bytes) -> Table:
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        return read_xlsx(data)
    if name.endswith(".csv"):
        return read_csv(data)
    raise _refuse("format non pris en charge : fichier .csv ou .xlsx attendu")

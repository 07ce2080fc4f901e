"""The citizen's receipt, connector side: the codes, the code ↔ report book, and the signed
question to the hub.

* A **receipt code** is 12 characters of Crockford base32 (60 random bits from ``secrets``), shown
  in three groups of four (``7K2M-9QXD-3HJ8``): typable by a person, unguessable, and carrying
  nothing of the report, the reporter or a date.
* The **book** (``ReceiptBook``) maps each report id to its code, the last status known and the
  last status delivered to the platform. It lives only here, in its own SQLite file next to the
  connector's state (``<state_dir>/citizen-receipts.sqlite3``, created 0600 like the rest of the
  state, connectors/state.py) — and, code by code, on the platform. It holds no date and no
  identity. The hub never gets a code: it is asked about report ids (its ``source_ref``).
* ``CitizenHubClient`` adds the receipt question to the connector's signed hub client:
  ``POST /api/v1/connectors/{name}/receipts`` (hub.contract.receipts).
"""

from __future__ import annotations

import os
import secrets
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from connectors.push import HubClient, HubUnavailable
from connectors.state import create_private_file, ensure_private_dir
from hub.contract.receipts import (
    MAX_RECEIPT_REFS,
    ReceiptStatus,
    ReceiptStatusAnswer,
    ReceiptStatusRequest,
)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_CHARS = 12
GROUP = 4
RECEIPTS_PATH = "/api/v1/connectors/{name}/receipts"
BOOK_FILE = "{name}-receipts.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS receipts (
    report_id TEXT PRIMARY KEY,
    code      TEXT NOT NULL UNIQUE,
    status    TEXT NOT NULL,
    delivered TEXT
);
"""


def new_code() -> str:
    """A fresh receipt code, ``XXXX-XXXX-XXXX``."""
    raw = "".join(secrets.choice(CROCKFORD) for _ in range(CODE_CHARS))
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_CHARS, GROUP))


def normalize_code(text: str) -> str | None:
    """A code as a person typed it (any case, with or without dashes or spaces, O for 0, I or L
    for 1, as Crockford allows) in its one written form; None when it cannot be a code."""
    raw = "".join(text.split()).replace("-", "").upper().translate(str.maketrans("OIL", "011"))
    if len(raw) != CODE_CHARS or any(c not in CROCKFORD for c in raw):
        return None
    return "-".join(raw[i:i + GROUP] for i in range(0, CODE_CHARS, GROUP))


@dataclass(frozen=True)
class Receipt:
    report_id: str
    code: str
    status: ReceiptStatus


class ReceiptBook:
    """The connector's own code ↔ report book (one instance per thread)."""

    def __init__(self, state_dir: str | os.PathLike[str], connector: str) -> None:
        self.path = Path(ensure_private_dir(state_dir)) / BOOK_FILE.format(name=connector)
        create_private_file(self.path)  # 0600 before SQLite writes a byte
        self.db = sqlite3.connect(self.path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> ReceiptBook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def issue(self, report_ids: list[str]) -> list[Receipt]:
        """A code for each report that has none yet (« reçue »); the new receipts."""
        fresh = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            for rid in dict.fromkeys(report_ids):
                if self.db.execute("SELECT 1 FROM receipts WHERE report_id = ?", (rid,)).fetchone():
                    continue
                while True:
                    code = new_code()
                    try:
                        self.db.execute("INSERT INTO receipts(report_id, code, status) VALUES (?, ?, ?)",
                                        (rid, code, ReceiptStatus.RECEIVED.value))
                        break
                    except sqlite3.IntegrityError:  # 2^60 codes: a collision is a curiosity
                        continue
                fresh.append(Receipt(rid, code, ReceiptStatus.RECEIVED))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return fresh

    def report_ids(self, page: int = MAX_RECEIPT_REFS) -> Iterator[list[str]]:
        """Every report id of the book, in pages of at most ``page``."""
        after = ""
        while True:
            rows = [r[0] for r in self.db.execute(
                "SELECT report_id FROM receipts WHERE report_id > ? ORDER BY report_id LIMIT ?",
                (after, page))]
            if not rows:
                return
            yield rows
            after = rows[-1]

    def set_statuses(self, statuses: dict[str, ReceiptStatus]) -> None:
        with self.db:
            self.db.executemany("UPDATE receipts SET status = ? WHERE report_id = ?",
                                [(s.value, rid) for rid, s in statuses.items()])

    def undelivered(self, limit: int = MAX_RECEIPT_REFS) -> list[Receipt]:
        """Receipts whose status the platform does not show yet."""
        rows = self.db.execute(
            "SELECT report_id, code, status FROM receipts "
            "WHERE delivered IS NULL OR delivered <> status ORDER BY report_id LIMIT ?", (limit,))
        return [Receipt(r[0], r[1], ReceiptStatus(r[2])) for r in rows]

    def mark_delivered(self, receipts: list[Receipt]) -> None:
        with self.db:
            self.db.executemany("UPDATE receipts SET delivered = ? WHERE report_id = ?",
                                [(r.status.value, r.report_id) for r in receipts])

    def get(self, report_id: str) -> Receipt | None:
        row = self.db.execute("SELECT report_id, code, status FROM receipts WHERE report_id = ?",
                              (report_id,)).fetchone()
        return None if row is None else Receipt(row[0], row[1], ReceiptStatus(row[2]))


class CitizenHubClient(HubClient):
    """The connector's hub client, plus the receipt question (signed and retried alike)."""

    def receipt_statuses(self, name: str, report_ids: list[str]) -> dict[str, ReceiptStatus | None]:
        """The published status of each report's lead; None where the hub knows none *for this
        connector* (not pushed yet, purged — or not ours: the hub answers those alike)."""
        body = ReceiptStatusRequest(source_refs=report_ids).model_dump(mode="json")
        resp = self._post(RECEIPTS_PATH.format(name=name), body)
        try:
            answer = ReceiptStatusAnswer.model_validate_json(resp.content)
        except ValidationError as exc:
            raise HubUnavailable(f"réponse illisible du hub aux récépissés : {exc}") from None
        return {item.source_ref: item.status for item in answer.statuses}

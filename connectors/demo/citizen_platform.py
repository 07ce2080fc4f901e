"""A stand-in for the citizens' platform's receipt desk: the endpoint the citizen connector hands
receipts to (``connectors/citizen/platform.py``), and the page a citizen types their code into.
For tests and demos, not for production. (The platform's report export is written by
``connectors.demo.sources.citizen``.)

* ``POST /api/recepisses`` (``Authorization: Bearer <token>`` when a token is set): files each
  ``{"signalement", "code", "statut"}``; 204. A report keeps the first code it was given: a
  different code for it is refused (409), as a malformed code or an unknown status is (400).
* ``GET /api/recepisses/{code}``: what the citizen sees — ``{"code", "statut"}`` with the French
  label (« reçue », « exploitée », « close ») and nothing else; an unknown code is 404.

Every request body received is kept (``requests``) so a test can assert on the raw bytes.

    python -m connectors.demo.citizen_platform --port 8766 [--token secret]
"""

from __future__ import annotations

import argparse
import json
import threading
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.citizen.platform import RECEIPTS_ENDPOINT
from connectors.citizen.receipts import normalize_code
from hub.contract.receipts import RECEIPT_LABELS_FR, ReceiptStatus


class ReceiptDesk:
    """The app, the receipts it holds (code → report id and status) and the bodies it got."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token
        self.by_code: dict[str, dict[str, str]] = {}
        self.code_of: dict[str, str] = {}  # report id → code
        self.requests: list[bytes] = []
        self._lock = threading.Lock()
        self.app = Starlette(routes=[
            Route(RECEIPTS_ENDPOINT, self._file, methods=["POST"]),
            Route(RECEIPTS_ENDPOINT + "/{code}", self._show, methods=["GET"]),
        ])

    def status_label(self, code: str) -> str | None:
        """What the citizen holding ``code`` reads."""
        entry = self.by_code.get(code)
        return None if entry is None else RECEIPT_LABELS_FR[ReceiptStatus(entry["statut"])]

    def raw_bytes(self) -> bytes:
        with self._lock:
            return b"\n".join(self.requests)

    async def _file(self, request: Request) -> Response:
        body = await request.body()
        with self._lock:
            self.requests.append(body)
        if self.token and request.headers.get("authorization") != f"Bearer {self.token}":
            return JSONResponse({"detail": "jeton absent ou invalide"}, status_code=401)
        try:
            items: list[dict[str, Any]] = json.loads(body)["recepisses"]
            for item in items:
                if normalize_code(item["code"]) != item["code"]:
                    raise ValueError(f"code de récépissé mal formé : {item['code']!r}")
                ReceiptStatus(item["statut"])
                if not isinstance(item["signalement"], str) or not item["signalement"]:
                    raise ValueError("signalement manquant")
        except (ValueError, KeyError, TypeError) as exc:
            return JSONResponse({"detail": f"récépissés invalides : {exc}"}, status_code=400)
        with self._lock:
            for item in items:
                held = self.code_of.get(item["signalement"])
                if held is not None and held != item["code"]:
                    return JSONResponse({"detail": "ce signalement a déjà un code"}, status_code=409)
            for item in items:
                self.code_of[item["signalement"]] = item["code"]
                self.by_code[item["code"]] = {"signalement": item["signalement"],
                                              "statut": item["statut"]}
        return Response(status_code=204)

    async def _show(self, request: Request) -> Response:
        code = normalize_code(request.path_params["code"])
        label = self.status_label(code) if code else None
        if label is None:
            return JSONResponse({"detail": "code de suivi inconnu"}, status_code=404)
        return JSONResponse({"code": code, "statut": label})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Guichet des récépissés de la plateforme citoyenne "
                                             "(substitution : tests, démos)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8766)
    ap.add_argument("--token", default=None, help="jeton exigé (Authorization: Bearer)")
    args = ap.parse_args(argv)
    uvicorn.run(ReceiptDesk(args.token).app, host=args.host, port=args.port)


if __name__ == "__main__":
    main()

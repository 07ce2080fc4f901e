"""Same seed, same demo data: the demo story (``connectors.demo.story``) and every agency's sample
source (``connectors.demo.sources``) give identical output for a seed — within one interpreter,
and across fresh interpreters with different string-hash seeds (so no set or dict order leaks in)
— and a different seed gives different output. An oracle of determinism, not a snapshot: no
digest is written down here."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel

ROOT = Path(__file__).resolve().parents[2]


def _plain(o: Any) -> Any:
    """JSON-able form of what a generator returns, order kept (order is part of the output)."""
    if isinstance(o, BaseModel):
        return o.model_dump(mode="json")
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        # The keyring holds a secret that dumps masked; the linkage is checked through pseudonyms.
        return {f.name: _plain(getattr(o, f.name)) for f in dataclasses.fields(o) if f.name != "keyring"}
    if isinstance(o, dict):
        return [[_plain(k), _plain(v)] for k, v in o.items()]
    if isinstance(o, list | tuple):
        return [_plain(x) for x in o]
    if isinstance(o, set | frozenset):
        return sorted(_plain(x) for x in o)
    if isinstance(o, enum.Enum):
        return o.value
    if isinstance(o, datetime.datetime | datetime.date | decimal.Decimal):
        return str(o)
    return o


def _digest(o: Any) -> str:
    return hashlib.sha256(json.dumps(_plain(o), ensure_ascii=False).encode()).hexdigest()


def _files(directory: Path, *, mtimes: bool) -> list[list[Any]]:
    """Name, content digest and (when the generator sets it) modification time of each file."""
    return [[p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime if mtimes else None]
            for p in sorted(directory.iterdir())]


def fingerprints(seed: int) -> dict[str, str]:
    """A digest of everything each demo generator produces for ``seed``."""
    from connectors.demo.gendarmerie_feed import RecordStore
    from connectors.demo.sources import citizen, douanes, gendarmerie, police
    from connectors.demo.story import MIN_DEMO_LEADS, build_demo_world, generate_demo_leads

    out: dict[str, str] = {}
    for n, kw in ((240, {}), (MIN_DEMO_LEADS, {}),
                  (150, {"start": datetime.datetime(2025, 12, 1, 8, 0), "weeks": 4})):
        w = build_demo_world(seed=seed, n=n, **kw)
        out[f"story world n={n}"] = _digest([w.leads, w.networks, w.identities, w.links,
                                             w.updated_lead_ids, w.start, w.end])
        out[f"story leads n={n}"] = _digest(generate_demo_leads(seed=seed, n=n, **kw))
    # The citizens' platform writes its files without setting their times: only names and bytes.
    for name, module, mtimes in (("police", police, True), ("douanes", douanes, True),
                                 ("citizen", citizen, False)):
        with tempfile.TemporaryDirectory() as tmp:
            truth = module.write_samples(Path(tmp) / "source", seed=seed)
            out[f"source {name}"] = _digest([truth, _files(Path(tmp) / "source", mtimes=mtimes)])
    store = RecordStore()
    truth = gendarmerie.write_samples(store, seed=seed)
    out["source gendarmerie"] = _digest([truth, store.ids(), store.page(None, 1, 1000)])
    return out


def _fresh(seed: int, hash_seed: str) -> dict[str, str]:
    """``fingerprints(seed)`` twice in a fresh interpreter: the two must agree (no state kept
    between calls); return them."""
    code = ("import json, sys\n"
            "from tests.connectors.test_demo_determinism import fingerprints\n"
            f"a, b = fingerprints({seed}), fingerprints({seed})\n"
            "assert a == b, [k for k in a if a[k] != b[k]]\n"
            "print(json.dumps(a))\n")
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_demo_generator_is_a_function_of_its_seed() -> None:
    first = _fresh(2025, "1")
    again = _fresh(2025, "4242")
    assert first == again, [k for k in first if first[k] != again.get(k)]
    assert len(first) == 10  # three story worlds (world and leads each), four sources


def test_another_seed_changes_every_generator() -> None:
    a, b = fingerprints(2025), fingerprints(7)
    assert a.keys() == b.keys()
    assert not [k for k in a if a[k] == b[k]]

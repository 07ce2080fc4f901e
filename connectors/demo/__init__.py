"""Demo data and source stand-ins, kept out of the production connectors: synthetic but realistic
material for the CLI (``crosshub dev``), the benchmarks and the tests. Nothing of production
imports this package — no agency package (``connectors.police`` …) and no shared connector module
(base, push, state, scheduler, sanitize, registry…); it imports them, never the reverse.

- ``world`` — reference places of the CROSS's départements (Doubs 25, Orne 61, Vosges 88) and
  French-format random identifiers (plates, mobiles, IBANs, identities, vehicles).
- ``story`` — the seeded demo world of canonical leads with its ground truth, one module per place.
- ``sources`` — each agency's sample source in its own format (police CSV exports, gendarmerie
  feed records, customs XML reports, citizen-platform JSON lines), with the ground truth.
- ``gendarmerie_feed`` — a stand-in server of the gendarmerie feed, with fault injection.
- ``citizen_platform`` — a stand-in of the citizens' platform's receipt desk (ADR 0015).
- ``pipeline`` — the demo through the real connectors: sample sources written, each connector run
  once against a running hub.

Nothing here is real intelligence: places and INSEE codes are real, everything about people,
vehicles and phones is generated. Persons only ever leave as keyed pseudonyms.
"""

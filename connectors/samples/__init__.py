"""Realistic, synthetic sample data: reference places of the CROSS's départements (Doubs 25,
Orne 61, Vosges 88), French-format random identifiers, and a seeded demo-lead generator.

Nothing here is real intelligence: places and INSEE codes are real, everything about people,
vehicles and phones is generated. Persons only ever leave as keyed pseudonyms.
"""

from connectors.samples.world import (
    COMMUNES,
    PLACES,
    PLACES_BY_KEY,
    Commune,
    FakeIdentity,
    FakeVehicle,
    Place,
    distance_m,
    jitter_point,
    random_fni_plate,
    random_iban,
    random_identity,
    random_mobile,
    random_siv_plate,
    random_vehicle,
)

__all__ = [
    "COMMUNES",
    "PLACES",
    "PLACES_BY_KEY",
    "Commune",
    "FakeIdentity",
    "FakeVehicle",
    "Place",
    "distance_m",
    "jitter_point",
    "random_fni_plate",
    "random_iban",
    "random_identity",
    "random_mobile",
    "random_siv_plate",
    "random_vehicle",
]

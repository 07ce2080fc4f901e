"""Besançon centre-ville: the e-scooter courier (end of July 2025 case) — citizen report →
surveillance (place Pasteur, gare Viotte, rue Battant) → buyers and sellers arrested place de la
Révolution → home search: ketamine, cocaine, cannabis, MDMA, cash; a buyer checked by the
gendarmerie at École-Valentin carries the order line."""

from __future__ import annotations

from connectors.demo.story.builder import CH, G, K, P, R, S, Builder
from connectors.demo.story.model import DemoVehicle
from connectors.demo.story.updates import lab_update, reevaluate_update
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "centre_trottinette", "Livreur à trottinette, centre-ville élargi de Besançon", "25",
        deal_points=[], places=["bes_grande_rue", "bes_place_pasteur", "bes_rue_battant",
                                "bes_gare_viotte", "bes_place_revolution"],
        roles={"courier": (R.COURIER, 19, 27), "seller": (R.SELLER, 20, 30),
               "supplier": (R.SUPPLIER, 25, 40)},
        phones=["order"], vehicles=[], substances=[S.KETAMINE, S.COCAINE, S.CANNABIS_RESIN, S.MDMA],
        origin="la région parisienne")
    scooter = DemoVehicle(plate=None, make="Xiaomi", model="Electric Scooter 4 Pro", colour="noir",
                          kind="e_scooter")
    net.vehicles["scooter"] = scooter
    m, ph = net.members, net.phones

    obs = b.when(0.085, 21, 30)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 12),
          location=b.loc("bes_grande_rue", 60), vehicles=[scooter.lead()],
          substances=[S.COCAINE, S.CANNABIS_RESIN],
          narrative="Signalement via masecurite : un livreur de stupéfiants circule en trottinette "
                    "électrique noire dans le centre-ville élargi (Grande Rue, Battant, gare "
                    "Viotte). Il s'arrête quelques secondes devant des clients qui l'attendent, "
                    "remet un sachet et repart. Vu plusieurs soirs de suite.",
          update=reevaluate_update("le signalement est corroboré par la surveillance mise en "
                                    "place ; source réévaluée."))
    d1 = b.day(0.095)
    for k, (place, hour, text, who) in enumerate((
        ("bes_place_pasteur", 20,
         "Surveillance place Pasteur : le livreur à trottinette effectue trois remises en vingt "
         "minutes. Les clients le contactent au préalable par téléphone.", ["courier"]),
        ("bes_gare_viotte", 21,
         "Surveillance aux abords de la gare Viotte : deux ventes constatées. Le numéro utilisé "
         "par les clients est identifié ([TEL], voir champ téléphones).", ["courier"]),
        ("bes_rue_battant", 19,
         "Surveillance rue Battant : le livreur se réapprovisionne auprès d'un second individu "
         "dans un hall, puis reprend sa tournée vers la place de la Révolution.",
         ["courier", "seller"]),
    )):
        t = b.at(d1 + 2 * k, hour, b.rng.randint(0, 50))
        b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
              location=b.loc(place, 50), vehicles=[scooter.lead()],
              persons=[m[w].ref(describe=True) for w in who],
              phones=[ph["order"]] if k == 1 else [],
              handling=HandlingCode.H2 if k == 1 else HandlingCode.H1, evaluation=("A", "1"),
              narrative=text)
    arrest_day = b.day(0.155)
    t = b.at(arrest_day, 20, 40)
    buyers = [b.passerby(R.BUYER, 18, 40), b.passerby(R.BUYER, 18, 40)]
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("bes_place_revolution", 40), vehicles=[scooter.lead()],
          persons=[m["courier"].ref(), m["seller"].ref()] + [x.ref() for x in buyers],
          seizure=make_seizure((S.COCAINE, "14", "g"), (S.MDMA, "6", "comprimés"), cash="420"),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Interpellation de deux acheteurs et de deux vendeurs, dont le livreur à "
                    "trottinette, place de la Révolution. Découverte de 14 g de cocaïne, "
                    "6 comprimés de MDMA et 420 € en numéraire. Trottinette saisie.")
    t = b.at(arrest_day + 1, 6, 10)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("bes_rue_battant", 60, "Domicile du livreur, secteur Battant"),
          persons=[m["courier"].ref()],
          seizure=make_seizure((S.KETAMINE, "38", "g"), (S.COCAINE, "54", "g"),
                      (S.CANNABIS_RESIN, "210", "g"), (S.CANNABIS_HERB, "95", "g"),
                      (S.MDMA, "60", "comprimés"), cash="3270", packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=lab_update("résultats des analyses toxicologiques"),
          narrative="Perquisition au domicile du livreur : kétamine, cocaïne, résine et herbe de "
                    "cannabis, comprimés de MDMA, 3 270 € en numéraire et matériel de "
                    "conditionnement. Le parfait kit du revendeur.")
    t = b.when(0.20, 17, 50)
    buyer = b.passerby(R.BUYER, 18, 30)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 3),
          location=b.loc_commune("25212", "zone commerciale", 600), persons=[buyer.ref()],
          vehicles=[b.vehicle("25").lead()], phones=[ph["order"]],
          seizure=make_seizure((S.COCAINE, "2", "g")), evaluation=("A", "1"),
          narrative="Contrôle à École-Valentin : le conducteur détient 2 g de cocaïne achetés "
                    "« au livreur en trottinette » du centre de Besançon ; le numéro de commande "
                    "figure dans ses échanges ([TEL], voir champ téléphones).")
    b.link("phone", ph["order"], (P, G), "Ligne du livreur à trottinette : surveillance police, "
           "contrôle gendarmerie d'un acheteur")

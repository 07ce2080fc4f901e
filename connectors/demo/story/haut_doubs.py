"""Haut-Doubs: cocaine crossing the Swiss border (Les Verrières, Jougne-Vallorbe on the N57),
undeclared cash, a reseller of the Morteau sector known to the gendarmerie, his line passed
around Pontarlier station."""

from __future__ import annotations

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "haut_doubs", "Cocaïne venue de Suisse, Haut-Doubs", "25",
        deal_points=[], places=["pon_gare", "n57_pontarlier"],
        roles={"reseller": (R.SELLER, 26, 45), "courier": (R.COURIER, 22, 40)},
        phones=["reseller"], vehicles=["car"], substances=[S.COCAINE], origin="la Suisse")
    m, ph, car = net.members, net.phones, net.vehicles["car"]
    t = b.when(0.23, 18, 40)
    b.add(D, K.SEIZURE, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("border_verrieres", 60), vehicles=[car.lead()],
          persons=[m["courier"].ref(R.DRIVER)], phones=[ph["reseller"]],
          seizure=make_seizure((S.COCAINE, "420", "g")), evaluation=("A", "1"), handling=HandlingCode.H1,
          narrative="Contrôle au point de passage des Verrières, véhicule entrant de Suisse : "
                    "420 g de cocaïne dans une cache aménagée derrière la console centrale. Le "
                    "téléphone du conducteur contient un seul contact ([TEL], voir champ "
                    "téléphones).")
    t = b.when(0.31, 14)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t,
          location=b.loc_commune("25411", None, 1200), persons=[m["reseller"].ref()],
          phones=[ph["reseller"]], substances=[S.COCAINE], handling=HandlingCode.H2,
          evaluation=("B", "2"),
          narrative="Renseignement de source : un revendeur de cocaïne du secteur de Morteau se "
                    "fournit en Suisse et livre sur rendez-vous dans le Haut-Doubs ; joignable sur "
                    "une ligne dédiée ([TEL]).")
    obs = b.when(0.37, 19)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 30),
          location=b.loc("pon_gare", 60), phones=[ph["reseller"]], substances=[S.COCAINE],
          narrative="Signalement : des rendez-vous brefs ont lieu le soir sur le parking de la gare "
                    "de Pontarlier ; le numéro à appeler circule entre frontaliers ([TEL]).")
    t = b.when(0.58, 7, 15)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("border_jougne", 80), persons=[m["reseller"].ref(R.DRIVER)],
          vehicles=[b.vehicle("25").lead()],
          seizure=make_seizure((S.COCAINE, "30", "g"), cash="38000"), evaluation=("A", "1"),
          narrative="Contrôle au poste de Jougne-Vallorbe (N57), sens Suisse-France : 38 000 € en "
                    "espèces non déclarés (manquement à l'obligation déclarative) et 30 g de "
                    "cocaïne. Numéraire consigné.")
    t = b.when(0.70, 6, 0)
    b.add(G, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc_commune("25411", "maison individuelle", 1500),
          persons=[m["reseller"].ref(), m["courier"].ref()],
          seizure=make_seizure((S.COCAINE, "640", "g"), cash="12400", packaging=True),
          evaluation=("A", "1"), handling=HandlingCode.H0,
          narrative="Perquisition au domicile du revendeur, secteur de Morteau : 640 g de cocaïne, "
                    "12 400 € en numéraire, balance de précision et sachets.")
    b.link("phone", ph["reseller"], (D, G, P), "Ligne du revendeur du Haut-Doubs : saisie "
           "douanière aux Verrières, renseignement gendarmerie, signalement citoyen")
    b.link("person", m["reseller"].pseudonym, (G, D), "Revendeur de cocaïne du Haut-Doubs")

"""Pays de Montbéliard: the Petite-Hollande deal point supplied by a car that customs stop at the
A36 aire d'Écot with 12.4 kg of herb; the gendarmerie hears of a storage barn near
L'Isle-sur-le-Doubs."""

from __future__ import annotations

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.updates import lab_update
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "petite_hollande", "Point de deal de la Petite-Hollande (Montbéliard)", "25",
        deal_points=["mtb_petite_hollande"], places=["mtb_gare", "aud_centre"],
        roles={"seller": (R.SELLER, 18, 28), "lookout": (R.LOOKOUT, 16, 19),
               "supplier": (R.SUPPLIER, 28, 45)},
        phones=["order"], vehicles=["supply"], substances=[S.CANNABIS_HERB, S.CANNABIS_RESIN],
        origin="l'Espagne")
    m, veh = net.members, net.vehicles["supply"]
    dp = b.deal_point("mtb_petite_hollande")
    for i, frac in enumerate((0.07, 0.29)):
        obs = b.when(frac, 19)
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 24),
              location=b.loc("mtb_petite_hollande"), deal_point=dp,
              vehicles=[veh.lead()] if i == 1 else [], substances=[S.CANNABIS_HERB],
              narrative=("Signalement : vente d'herbe au pied d'un immeuble de la Petite-Hollande, "
                         "clients nombreux en fin d'après-midi, mineurs employés comme guetteurs."
                         if i == 0 else
                         "Signalement : une voiture vient décharger des sacs au pied de "
                         "l'immeuble tous les jeudis soir ; le déclarant a relevé "
                         "l'immatriculation."))
    t = b.when(0.34, 20)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("mtb_petite_hollande", 50), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["seller"].ref(describe=True), m["supplier"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance : livraison constatée au point de la Petite-Hollande, le "
                    "conducteur repart par l'A36 vers Besançon.")
    t = b.when(0.41, 5, 50)
    b.add(D, K.SEIZURE, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("a36_aire_ecot", 100), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=make_seizure((S.CANNABIS_HERB, "12.4", "kg")),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=lab_update("pesée contradictoire en présence de l'OPJ"),
          narrative="Saisie douanière sur l'aire d'Écot (A36) : 12,4 kg d'herbe de cannabis "
                    "conditionnés sous vide dans le double fond du coffre. Conducteur placé en "
                    "retenue douanière puis remis à l'officier de police judiciaire.")
    t = b.when(0.45, 18, 30)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("mtb_petite_hollande", 40), deal_point=dp,
          persons=[m["seller"].ref(), m["lookout"].ref()],
          seizure=make_seizure((S.CANNABIS_HERB, "64", "g"), cash="910"), evaluation=("A", "1"),
          narrative="Interpellation d'un vendeur et d'un guetteur mineur au point de la "
                    "Petite-Hollande : 64 g d'herbe et 910 € en numéraire.")
    t = b.when(0.54, 11)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("25315", "hangar agricole loué", 1500),
          persons=[m["supplier"].ref()], substances=[S.CANNABIS_HERB],
          handling=HandlingCode.H2, evaluation=("C", "3"),
          narrative="Renseignement : le conducteur interpellé par les douanes sur l'A36 louerait "
                    "un hangar près de L'Isle-sur-le-Doubs, pouvant servir de lieu de stockage.")
    b.link("plate", veh.plate or "", (P, D), "Voiture d'approvisionnement de la Petite-Hollande : "
           "surveillance police, saisie douanière A36")
    b.link("person", m["supplier"].pseudonym, (P, D, G), "Fournisseur de la Petite-Hollande")

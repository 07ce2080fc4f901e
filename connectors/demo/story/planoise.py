"""Planoise (Besançon): the deal point in a hall of rue de Cologne, then rue du Piémont — manager,
sellers, lookouts, a stash-keeper (« nourrice ») and a supplier driving up the A36. Citizens report
it, police watch it, customs check the supplier's car at the A36 aire de Besançon-Marchaux, the
gendarmerie meets the order line in a buyer's phone and the supplier in its own intelligence;
raid, search (≈1.2 kg resin, herb, cocaine, 6 515 € — the 2021 figures), the social landlord ends
the lease."""

from __future__ import annotations

from typing import Any

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.updates import lab_update
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "planoise", "Point de deal de Planoise (rue de Cologne puis rue du Piémont)", "25",
        deal_points=["bes_planoise_cologne", "bes_planoise_piemont"],
        places=["bes_planoise_europe", "bes_planoise_idf", "bes_planoise_bourgogne"],
        roles={"manager": (R.MANAGER, 24, 38), "seller1": (R.SELLER, 18, 26),
               "seller2": (R.SELLER, 18, 26), "lookout1": (R.LOOKOUT, 16, 19),
               "lookout2": (R.LOOKOUT, 16, 20), "lookout3": (R.LOOKOUT, 16, 21),
               "nourrice": (R.UNKNOWN, 30, 55), "supplier": (R.SUPPLIER, 27, 42)},
        phones=["order", "manager"], vehicles=["supply"],
        substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB, S.COCAINE], origin="la région lyonnaise")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp = b.deal_point("bes_planoise_cologne")
    dp2 = b.deal_point("bes_planoise_piemont")

    # Citizens report the hall of rue de Cologne (via the police: urban zone)
    texts = [
        "Signalement via la plateforme : allées et venues incessantes dans le hall de la rue de "
        "Cologne, surtout entre 17 h et 23 h. Deux ou trois jeunes postés en guetteurs à l'entrée, "
        "échanges rapides de main à main. Les clients restent moins de deux minutes.",
        "Le déclarant signale un numéro de commande diffusé sur un réseau social pour des "
        "livraisons à Planoise ([TEL], renseigné dans le champ téléphones). Le même groupe tient "
        "le hall de la rue de Cologne.",
        "Riverain : un véhicule vient se garer plusieurs fois par semaine devant l'immeuble de la "
        "rue de Cologne, le conducteur remet un sac à un jeune du hall puis repart aussitôt. "
        "Immatriculation relevée par le déclarant.",
        "Signalement anonyme : celui qui « donne les ordres » au hall de la rue de Cologne se fait "
        "appeler [NOM] ; il passe récupérer l'argent en fin de soirée. Description jointe.",
        "Riveraine excédée : cris des guetteurs à chaque passage de patrouille, odeur de cannabis "
        "dans la cage d'escalier, boîtes aux lettres forcées pour cacher les sachets.",
    ]
    for i, (frac, text) in enumerate(zip((0.04, 0.10, 0.18, 0.30, 0.52), texts, strict=True)):
        obs = b.when(frac, b.rng.choice((18, 19, 20, 21)))
        kw: dict[str, Any] = {}
        if i == 1:
            kw["phones"] = [ph["order"]]
        if i == 2:
            kw["vehicles"] = [veh.lead()]
        if i == 3:
            kw["persons"] = [m["manager"].ref(describe=True)]
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 20),
              location=b.loc("bes_planoise_cologne"), deal_point=dp,
              substances=[S.CANNABIS_RESIN] if i != 1 else [S.CANNABIS_RESIN, S.COCAINE],
              narrative=text, **kw)
    b.link("citizen_to_raid", b.deal_point_key("bes_planoise_cologne"), (P,),
           "Hall de la rue de Cologne signalé par des citoyens puis démantelé")

    t = b.when(0.14, 10)
    b.add(P, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t,
          location=b.loc("bes_planoise_cologne", 80), deal_point=dp,
          persons=[m["manager"].ref(), m["seller1"].ref(), m["seller2"].ref()],
          phones=[ph["order"], ph["manager"]], substances=[S.CANNABIS_RESIN, S.COCAINE],
          handling=HandlingCode.H2, evaluation=("B", "2"),
          narrative="Renseignement de source : le point de deal du hall de la rue de Cologne est "
                    "tenu par un gérant qui paie vendeurs et guetteurs à la journée. Ligne de "
                    "commande et ligne du gérant identifiées. Approvisionnement hebdomadaire "
                    "depuis la région lyonnaise par l'A36.")

    t = b.when(0.22, 19, 10)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("bes_planoise_cologne", 60), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["manager"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance en civil du hall de la rue de Cologne de 18 h 30 à 22 h : un "
                    "véhicule se gare, le conducteur remet un sac de sport au gérant du point. "
                    "Véhicule reparti en direction de l'A36.")

    t = b.when(0.33, 7, 40)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("a36_aire_marchaux", 80), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)],
          seizure=make_seizure((S.CANNABIS_RESIN, "250", "g"), cash="1350"),
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Contrôle douanier sur l'aire de Besançon-Marchaux (A36, sens Mulhouse) d'un "
                    "véhicule arrivant de la région lyonnaise. Marquage du chien sur les panneaux "
                    "de portière : 250 g de résine de cannabis et 1 350 € en numéraire. Conducteur "
                    "seul à bord, déclare se rendre à Besançon.")
    b.link("plate", veh.plate or "", (P, D, G), "Voiture du fournisseur de Planoise : surveillance "
           "police, contrôle douanier A36, renseignement gendarmerie")
    b.link("person", m["supplier"].pseudonym, (P, D, G), "Fournisseur de Planoise")

    t = b.when(0.40, 16, 20)
    buyer = b.passerby(R.BUYER, 19, 35)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc_commune("25527", "parking de la gare", 500), persons=[buyer.ref()],
          phones=[ph["order"]], vehicles=[b.vehicle("25").lead()],
          seizure=make_seizure((S.CANNABIS_RESIN, "10", "g")), evaluation=("A", "1"),
          narrative="Contrôle routier à Saint-Vit : conducteur en possession de 10 g de résine de "
                    "cannabis, dit s'approvisionner à Planoise. Le numéro de commande du point "
                    "figure dans le répertoire de son téléphone ([TEL], voir champ téléphones).")
    b.link("phone", ph["order"], (P, G), "Ligne de commande de Planoise : signalement citoyen, "
           "renseignement police, contrôle gendarmerie d'un acheteur")

    t = b.when(0.48, 11)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("25467", None, 700), persons=[m["supplier"].ref()],
          vehicles=[veh.lead()], substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB],
          handling=HandlingCode.H1, evaluation=("B", "2"), dept="25",
          narrative="Renseignement BDRIJ : un individu domicilié dans le secteur de "
                    "Pouilley-les-Vignes effectue des allers-retours hebdomadaires vers la région "
                    "lyonnaise avec le même véhicule ; train de vie sans rapport avec ses revenus. "
                    "Serait le fournisseur d'un point de deal de Planoise.")

    t = b.when(0.58, 21, 15)
    b.add(P, K.VIDEO_PROTECTION, CH.VIDEO, observed=t, reported=b.later(t, 10, 40),
          location=b.loc("bes_planoise_idf", 50), deal_point=dp, evaluation=("A", "2"),
          narrative="Exploitation de la vidéoprotection (avenue de l'Île-de-France) : va-et-vient "
                    "caractéristique vers le hall de la rue de Cologne entre 19 h et 23 h, remises "
                    "de sachets et de billets, un guetteur à vélo.")

    t = b.when(0.66, 17, 30)
    raid_day = b.day(0.74)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 4, 8),
          location=b.loc("bes_planoise_cologne", 50), deal_point=dp,
          persons=[m["seller1"].ref(describe=True), m["lookout1"].ref(describe=True),
                   m["lookout2"].ref(describe=True)],
          handling=HandlingCode.H2, evaluation=("A", "1"),
          embargo_until=b.at(raid_day, 23, 0),
          narrative="Surveillance préalable à l'interpellation : un vendeur et deux guetteurs "
                    "identifiés, rotation des équipes à 20 h. Réapprovisionnement depuis un "
                    "appartement de la rue du Piémont. Ne pas intervenir avant l'opération.")

    t = b.at(raid_day, 18, 45)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("bes_planoise_cologne", 30), deal_point=dp,
          persons=[m["seller1"].ref(), m["seller2"].ref(), m["lookout1"].ref(),
                   m["lookout2"].ref(), m["lookout3"].ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "85", "g"), (S.COCAINE, "12", "g"), cash="1600"),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Interpellation de cinq individus au point de deal du hall de la rue de "
                    "Cologne : deux vendeurs et trois guetteurs. Découverte de 85 g de résine de "
                    "cannabis, 12 g de cocaïne et 1 600 € en numéraire. Placement en garde à vue.")
    t = b.at(raid_day + 1, 6, 5)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 7),
          location=b.loc("bes_planoise_piemont", 30, "Appartement, rue du Piémont"),
          deal_point=dp2, persons=[m["nourrice"].ref(), m["manager"].ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "1.2", "kg"), (S.CANNABIS_HERB, "310", "g"),
                      (S.COCAINE, "150", "g"), cash="6515", packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          update=lab_update("pesée et analyses du laboratoire de police scientifique"),
          narrative="Perquisition dans l'appartement servant de nourrice, rue du Piémont : "
                    "1,2 kg de résine de cannabis, 310 g d'herbe, 150 g de cocaïne, 6 515 € en "
                    "numéraire et du matériel de conditionnement. La locataire et le gérant du "
                    "point sont placés en garde à vue.")

    t = b.when(0.82, 10)
    b.add(P, K.LANDLORD_REPORT, CH.PARTNER, reported=t,
          location=b.loc("bes_planoise_piemont", 40), persons=[m["nourrice"].ref()],
          handling=HandlingCode.H1, evaluation=("B", "2"),
          narrative="Le bailleur social informe qu'une procédure de résiliation de bail est "
                    "engagée contre la locataire de l'appartement perquisitionné rue du Piémont, "
                    "pour troubles de jouissance liés au trafic.")

    obs = b.when(0.90, 20)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 18),
          location=b.loc("bes_planoise_piemont"), deal_point=dp2,
          persons=[m["lookout3"].ref(describe=True)], substances=[S.CANNABIS_RESIN],
          narrative="Signalement : depuis l'intervention de la police rue de Cologne, la vente a "
                    "repris au pied d'un immeuble de la rue du Piémont, avec un des anciens "
                    "guetteurs. Description jointe.")

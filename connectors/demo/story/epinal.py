"""Épinal: the Bitola-Champbeauvert deal point supplied over the N57 — citizens report it, the
gendarmerie checks the supply car near Remiremont, customs search it south of Épinal, the police
watch it and raid the point."""

from __future__ import annotations

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "bitola", "Point de deal de Bitola-Champbeauvert (Épinal)", "88",
        deal_points=["epi_bitola"], places=["epi_justice", "epi_vierge", "epi_gare"],
        roles={"seller": (R.SELLER, 18, 28), "lookout": (R.LOOKOUT, 16, 19),
               "supplier": (R.SUPPLIER, 26, 42)},
        phones=["order"], vehicles=["supply"], substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB],
        origin="l'agglomération nancéienne")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp = b.deal_point("epi_bitola")
    for i, frac in enumerate((0.06, 0.26, 0.47)):
        obs = b.when(frac, 18 + i)
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 30),
              location=b.loc("epi_bitola"), deal_point=dp, substances=[S.CANNABIS_RESIN],
              phones=[ph["order"]] if i == 1 else [],
              narrative=[
                  "Signalement : point de vente au pied d'un immeuble de Bitola-Champbeauvert, "
                  "clients en voiture qui ne coupent pas le moteur.",
                  "Le déclarant transmet un numéro qui prend les commandes pour le quartier "
                  "([TEL], voir champ téléphones) et livre jusqu'à Golbey.",
                  "Signalement : les guetteurs ont installé des chaises devant l'entrée ; "
                  "l'activité commence vers 15 h et dure jusqu'à la nuit.",
              ][i])
    t = b.when(0.28, 10)
    b.add(G, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t,
          location=b.loc_commune("88465", None, 900), phones=[ph["order"]],
          substances=[S.CANNABIS_RESIN], evaluation=("B", "3"), handling=HandlingCode.H1,
          narrative="Renseignement : des consommateurs de Thaon-les-Vosges commandent sur une "
                    "ligne d'Épinal ([TEL]) et se font livrer sur le parking d'un supermarché.")
    t = b.when(0.34, 9, 20)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc("n57_remiremont", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=make_seizure((S.CANNABIS_RESIN, "1.1", "kg")),
          evaluation=("A", "1"),
          narrative="Contrôle sur la N57, secteur de Remiremont : 1,1 kg de résine de cannabis en "
                    "plaquettes dans un sac de sport. Le conducteur dit se rendre à Épinal.")
    t = b.when(0.40, 19, 40)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("epi_bitola", 50), deal_point=dp, vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["seller"].ref(describe=True)],
          handling=HandlingCode.H2, evaluation=("A", "1"),
          narrative="Surveillance : le véhicule contrôlé sur la N57 est de nouveau vu au point de "
                    "Bitola-Champbeauvert ; son conducteur s'entretient avec le vendeur.")
    t = b.when(0.52, 14, 10)
    b.add(D, K.STOP_CHECK, CH.CUSTOMS_CONTROL, observed=t, reported=b.later(t, 1, 5),
          location=b.loc("n57_epinal", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], evaluation=("A", "2"),
          narrative="Contrôle douanier sur la N57 au sud d'Épinal : véhicule visité, résultat "
                    "négatif ; odeur de cannabis persistante dans le coffre.")
    t = b.when(0.76, 18, 0)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 5),
          location=b.loc("epi_bitola", 40), deal_point=dp,
          persons=[m["seller"].ref(), m["lookout"].ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "65", "g"), (S.CANNABIS_HERB, "20", "g"), cash="740"),
          evaluation=("A", "1"), handling=HandlingCode.H0,
          narrative="Interpellation d'un vendeur et d'un guetteur au point de Bitola-Champbeauvert "
                    "signalé par les habitants : 65 g de résine, 20 g d'herbe, 740 € en numéraire.")
    b.link("plate", veh.plate or "", (G, P, D), "Voiture d'approvisionnement de Bitola : N57")
    b.link("phone", ph["order"], (P, G), "Ligne de commande de Bitola")
    b.link("person", m["supplier"].pseudonym, (G, P, D), "Fournisseur de Bitola")
    b.link("citizen_to_raid", b.deal_point_key("epi_bitola"), (P,),
           "Point de Bitola-Champbeauvert signalé par des citoyens puis démantelé")

"""Alençon, Perseigne (13 December 2023 operation): citizen reports on the halls of tours Pascal
and Péguy, landlord report, video-protection, an earlier crack-making site in Courteille, the
supply car checked on the A28 by the gendarmerie's flow-control unit and flagged by customs
(DNRED, restricted until the operation); operation night: 5.4 kg resin, 720 g heroin, 900 g herb,
150 g crack, 8 300 €, 2 handguns, packaging."""

from __future__ import annotations

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.updates import lift_restriction_update, reevaluate_update
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import Agency, HandlingCode, WeaponKind


def scenario(b: Builder) -> None:
    net = b.network(
        "perseigne", "Réseau de Perseigne (Alençon), tours Pascal et Péguy", "61",
        deal_points=["aln_perseigne_pascal", "aln_perseigne_peguy"],
        places=["aln_perseigne_paix", "aln_perseigne_stendhal", "aln_courteille"],
        roles={"manager": (R.MANAGER, 25, 38), "seller1": (R.SELLER, 18, 28),
               "seller2": (R.SELLER, 18, 28), "seller3": (R.SELLER, 18, 30),
               "lookout1": (R.LOOKOUT, 16, 19), "lookout2": (R.LOOKOUT, 16, 20),
               "producer": (R.PRODUCER, 24, 40), "old_producer": (R.PRODUCER, 25, 45),
               "supplier": (R.SUPPLIER, 28, 45)},
        phones=["order", "manager"], vehicles=["supply"],
        substances=[S.CANNABIS_RESIN, S.HEROIN, S.CANNABIS_HERB, S.CRACK],
        origin="la région du Mans")
    m, ph, veh = net.members, net.phones, net.vehicles["supply"]
    dp_pascal = b.deal_point("aln_perseigne_pascal")
    dp_peguy = b.deal_point("aln_perseigne_peguy")
    citizen = [
        (0.05, "aln_perseigne_pascal", dp_pascal, [S.CANNABIS_RESIN],
         "Signalement via la plateforme : le hall de la tour Pascal est occupé tous les soirs par "
         "des vendeurs ; les habitants doivent passer entre eux pour rentrer chez eux."),
        (0.16, "aln_perseigne_peguy", dp_peguy, [S.CRACK, S.HEROIN],
         "Une habitante signale des consommateurs de crack dans la cage d'escalier de la tour "
         "Péguy et des ventes dans le hall à toute heure."),
        (0.27, "aln_perseigne_paix", dp_pascal, [S.CANNABIS_RESIN],
         "Signalement : guetteurs postés sur la place de la Paix les jours de marché, qui "
         "sifflent à l'arrivée des véhicules de police."),
        (0.38, "aln_perseigne_pascal", dp_pascal, [S.CANNABIS_RESIN, S.CANNABIS_HERB],
         "Le déclarant transmet le numéro de commande du point de la tour Pascal, qui circule "
         "parmi les jeunes du quartier ([TEL], voir champ téléphones)."),
        (0.50, "aln_perseigne_peguy", dp_peguy, [S.CRACK],
         "Signalement : une cave de la tour Péguy servirait à préparer le crack ; odeur "
         "d'ammoniaque et allées et venues la nuit."),
    ]
    for i, (frac, place, dp, subs, text) in enumerate(citizen):
        obs = b.when(frac, b.rng.choice((17, 19, 21, 22)))
        b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 1, 24),
              location=b.loc(place), deal_point=dp, substances=subs,
              phones=[ph["order"]] if i == 3 else [], narrative=text,
              update=reevaluate_update("numéro confirmé par le renseignement de terrain.")
              if i == 3 else None)
    b.link("citizen_to_raid", b.deal_point_key("aln_perseigne_pascal"), (P,),
           "Hall de la tour Pascal signalé par des citoyens puis visé par l'opération")

    t = b.when(0.12, 6, 0)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 8),
          location=b.loc("aln_courteille", 80, "Appartement, quartier de Courteille"),
          persons=[m["old_producer"].ref()],
          seizure=make_seizure((S.CRACK, "42", "g"), (S.COCAINE, "30", "g"), packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisition d'un lieu de fabrication de crack : 42 g de crack, 30 g de "
                    "cocaïne, bicarbonate, réchaud et matériel de conditionnement.")
    t = b.when(0.20, 14)
    b.add(P, K.LANDLORD_REPORT, CH.PARTNER, reported=t, location=b.loc("aln_perseigne_peguy"),
          deal_point=dp_peguy, evaluation=("B", "2"),
          narrative="Le bailleur social signale une cave de la tour Péguy fracturée et réaménagée, "
                    "et des halls occupés ; il demande un passage des forces de l'ordre avant "
                    "travaux.")
    t = b.when(0.25, 15)
    b.add(P, K.FIELD_INTELLIGENCE, CH.INFORMANT, reported=t, location=b.loc("aln_perseigne_paix", 80),
          deal_point=dp_pascal, persons=[m["manager"].ref(), m["producer"].ref()],
          phones=[ph["order"], ph["manager"]], substances=[S.CRACK, S.HEROIN, S.CANNABIS_RESIN],
          handling=HandlingCode.H2, evaluation=("B", "2"),
          narrative="Renseignement de source : le réseau de la tour Pascal vend résine, herbe, "
                    "héroïne et crack ; le crack est préparé sur place par un « cuisinier ». "
                    "Approvisionnement par la route depuis la région du Mans.")
    t = b.when(0.32, 22, 5)
    b.add(P, K.VIDEO_PROTECTION, CH.VIDEO, observed=t, reported=b.later(t, 12, 36),
          location=b.loc("aln_perseigne_paix", 30), deal_point=dp_pascal, evaluation=("A", "2"),
          narrative="Vidéoprotection, caméra de la place de la Paix : rotation de guetteurs entre "
                    "20 h et minuit, clients à pied vers le hall de la tour Pascal.")
    t = b.when(0.36, 15, 30)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 4),
          location=b.loc("a28_valframbert", 150), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(R.DRIVER)], seizure=make_seizure((S.CANNABIS_RESIN, "300", "g")),
          evaluation=("A", "1"),
          narrative="Contrôle des flux routiers sur l'A28 à hauteur de Valframbert (unité "
                    "spécialisée de la gendarmerie) : 300 g de résine de cannabis dans la roue de "
                    "secours. Le conducteur arrive de la Sarthe et se rend à Alençon.")
    t = b.when(0.44, 10)
    b.add(D, K.FIELD_INTELLIGENCE, CH.INVESTIGATION, reported=t, vehicles=[veh.lead()],
          persons=[m["supplier"].ref()], substances=[S.CANNABIS_RESIN, S.HEROIN],
          location=b.loc("a28_valframbert", 300), douanes_unit="DNRED",
          handling=HandlingCode.H3, restricted_to=[Agency.DOUANES, Agency.POLICE], evaluation=("B", "3"),
          update=lift_restriction_update("opération terminée, diffusion élargie à la CROSS."),
          narrative="Renseignement douanier : le véhicule effectue des allers-retours "
                    "hebdomadaires entre la région parisienne, la Sarthe et Alençon par l'A28. "
                    "Transport présumé de résine et d'héroïne pour le quartier de Perseigne.")
    t = b.when(0.47, 20, 45)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 6),
          location=b.loc("aln_perseigne_stendhal", 60), vehicles=[veh.lead()],
          persons=[m["supplier"].ref(describe=True), m["manager"].ref(describe=True)],
          handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance : le véhicule de livraison stationne rue Henri-Stendhal, le "
                    "conducteur remet un sac au gérant du point de la tour Pascal.")
    op_day = b.day(0.62)
    t = b.when(0.56, 19, 30)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("aln_perseigne_pascal", 30), deal_point=dp_pascal,
          persons=[m["seller1"].ref(describe=True), m["seller2"].ref(describe=True),
                   m["lookout1"].ref(describe=True), m["lookout2"].ref(describe=True)],
          handling=HandlingCode.H2, embargo_until=b.at(op_day, 23, 59), evaluation=("A", "1"),
          narrative="Surveillance préparatoire : deux vendeurs et deux guetteurs identifiés au "
                    "hall de la tour Pascal ; stock présumé dans deux appartements de la tour. "
                    "Ne pas intervenir avant l'opération coordonnée avec le parquet.")
    t = b.at(op_day, 20, 50)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 4, 10),
          location=b.loc("aln_perseigne_paix", 60), deal_point=dp_pascal,
          persons=[m[k].ref() for k in ("manager", "seller1", "seller2", "seller3", "lookout1",
                                        "lookout2", "producer")],
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Opération d'envergure à Perseigne peu avant 21 h : plus de 80 policiers, "
                    "brigades canines et CRS. Interpellation du gérant, de trois vendeurs, de deux "
                    "guetteurs et du préparateur de crack.")
    t = b.at(op_day, 22, 30)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 10, 20),
          location=b.loc("aln_perseigne_pascal", 30, "Appartements de la tour Pascal"),
          deal_point=dp_pascal, persons=[m["manager"].ref(), m["producer"].ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "5.4", "kg"), (S.HEROIN, "720", "g"),
                      (S.CANNABIS_HERB, "900", "g"), (S.CRACK, "150", "g"), cash="8300",
                      weapons=[(WeaponKind.HANDGUN, 2)], packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisitions dans la tour Pascal : 5,4 kg de résine de cannabis, 720 g "
                    "d'héroïne, 900 g d'herbe de cannabis, 150 g de crack, 8 300 € en numéraire, "
                    "deux armes de poing et du matériel de conditionnement.")
    obs = b.when(0.80, 18)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 24),
          location=b.loc("aln_perseigne_peguy"), deal_point=dp_peguy,
          persons=[m["seller3"].ref(describe=True)], substances=[S.CANNABIS_RESIN],
          narrative="Signalement : depuis l'opération, le hall de la tour Pascal est calme mais "
                    "de nouveaux guetteurs sont apparus devant la tour Péguy, avec un vendeur "
                    "déjà présent avant. Description jointe.")
    b.link("plate", veh.plate or "", (G, D, P), "Voiture d'approvisionnement de Perseigne : A28 "
           "(gendarmerie), renseignement douanier, surveillance police")
    b.link("person", m["supplier"].pseudonym, (G, D, P), "Fournisseur de Perseigne")

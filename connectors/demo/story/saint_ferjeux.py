"""Saint-Ferjeux (Besançon), October 2025 case: tip → arrest → home search, just under 1 kg of
resin, herb, packaging bags; the gendarmerie had checked the same man and car at
Pouilley-les-Vignes weeks before."""

from __future__ import annotations

from connectors.demo.story.builder import CH, G, K, P, R, S, Builder
from connectors.demo.story.wording import make_seizure
from hub.contract.lead import HandlingCode


def scenario(b: Builder) -> None:
    net = b.network(
        "saint_ferjeux", "Revente depuis un appartement, Saint-Ferjeux (Besançon)", "25",
        deal_points=[], places=["bes_stferjeux_dole", "bes_stferjeux_basilique"],
        roles={"dealer": (R.SELLER, 22, 35)}, phones=[], vehicles=["car"],
        substances=[S.CANNABIS_RESIN, S.CANNABIS_HERB], origin="l'agglomération dijonnaise")
    dealer, car = net.members["dealer"], net.vehicles["car"]
    t = b.when(0.45, 22, 10)
    b.add(G, K.STOP_CHECK, CH.PATROL, observed=t, reported=b.later(t, 1, 3),
          location=b.loc_commune("25467", "route départementale, sortie du village", 800),
          persons=[dealer.ref(R.DRIVER)], vehicles=[car.lead()],
          seizure=make_seizure((S.CANNABIS_RESIN, "22", "g")), evaluation=("A", "1"),
          narrative="Contrôle routier de nuit à Pouilley-les-Vignes : 22 g de résine de cannabis "
                    "conditionnés en barrettes dans la boîte à gants. Le conducteur, domicilié à "
                    "Besançon, parle de consommation personnelle.")
    obs = b.when(0.86, 18)
    b.add(P, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs, reported=b.later(obs, 2, 20),
          location=b.loc("bes_stferjeux_dole", 40), vehicles=[car.lead()],
          substances=[S.CANNABIS_RESIN],
          narrative="Signalement via la plateforme : va-et-vient dans un immeuble de la rue de "
                    "Dole, à Saint-Ferjeux. Le locataire descend à la voiture de ses clients, forte "
                    "odeur de cannabis dans l'escalier. Il se déplace avec le véhicule signalé.")
    t = b.when(0.90, 17, 0)
    b.add(P, K.SURVEILLANCE, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("bes_stferjeux_dole", 40), persons=[dealer.ref(describe=True)],
          vehicles=[car.lead()], handling=HandlingCode.H1, evaluation=("A", "1"),
          narrative="Surveillance rue de Dole : quatre contacts brefs en une heure avec des "
                    "clients venus en voiture. Le mis en cause est identifié.")
    t = b.when(0.95, 18, 20)
    b.add(P, K.ARREST, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 4),
          location=b.loc("bes_stferjeux_basilique", 60), persons=[dealer.ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "18", "g"), cash="560"), evaluation=("A", "1"),
          handling=HandlingCode.H0,
          narrative="Interpellation du mis en cause dans le quartier de Saint-Ferjeux, porteur de "
                    "18 g de résine de cannabis et de 560 € en numéraire.")
    t = b.at(b.day(0.95) + 1, 6, 0)
    b.add(P, K.SEARCH, CH.INVESTIGATION, observed=t, reported=b.later(t, 3, 6),
          location=b.loc("bes_stferjeux_dole", 30, "Domicile du mis en cause, rue de Dole"),
          persons=[dealer.ref()],
          seizure=make_seizure((S.CANNABIS_RESIN, "960", "g"), (S.CANNABIS_HERB, "120", "g"),
                      packaging=True),
          handling=HandlingCode.H0, evaluation=("A", "1"),
          narrative="Perquisition au domicile : un peu moins d'un kilo de résine de cannabis "
                    "(960 g), 120 g d'herbe de cannabis et des sachets de conditionnement.")
    b.link("person", dealer.pseudonym, (G, P), "Revendeur de Saint-Ferjeux : contrôlé par la "
           "gendarmerie, interpellé par la police")
    b.link("plate", car.plate or "", (G, P), "Voiture du revendeur de Saint-Ferjeux")

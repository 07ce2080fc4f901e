"""The background stream around the scripted cases: citizen reports at the real volume and field
intelligence, surveillance, stops and checks, video-protection, arrests, searches, seizures and
landlord reports — some about the scripted networks (so links grow naturally), most about
passers-by, in the police zone, the gendarmerie's communes or on the roads and borders."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from connectors.demo.story.builder import CH, D, G, K, P, R, S, Builder
from connectors.demo.story.model import Network
from connectors.demo.story.wording import make_seizure, seizure_fr
from connectors.demo.world import COMMUNES, PLACES, PLACES_BY_KEY, POLICE_ZONE, Place
from hub.contract.lead import (
    Agency,
    HandlingCode,
    LeadKind,
    Location,
    PersonRef,
    PersonRole,
    Seizure,
    Substance,
    Vehicle,
)

# Where background leads fall, by département.
DEPT_WEIGHTS: dict[str, float] = {"25": 0.55, "61": 0.20, "88": 0.25}

_RURAL_SPOTS = (
    "parking de la salle des fêtes", "abords du collège", "aire de jeux", "parking du supermarché",
    "arrêt de car", "parking de la gare", "terrain de sport", "zone artisanale",
    "parking du cimetière", "chemin derrière le gymnase",
)
_ORIGINS = (
    "la région lyonnaise", "l'agglomération dijonnaise", "l'agglomération mulhousienne",
    "la région parisienne", "la Suisse", "la région du Mans", "l'agglomération nancéienne",
    "les Pays-Bas via le Luxembourg", "l'Espagne",
)
_CACHES = (
    "une cache aménagée derrière la console centrale", "le double fond du coffre",
    "les panneaux de portière", "la roue de secours", "un sac de sport dans le coffre",
    "le réservoir de lave-glace aménagé", "le plafonnier",
)

# Background leads other than citizen reports, by kind.
KIND_WEIGHTS: dict[LeadKind, int] = {
    K.FIELD_INTELLIGENCE: 20, K.SURVEILLANCE: 16, K.STOP_CHECK: 24, K.VIDEO_PROTECTION: 6,
    K.ARREST: 12, K.SEARCH: 7, K.SEIZURE: 10, K.LANDLORD_REPORT: 3,
}
_DEPT_NETWORKS = {"25": ("planoise", "petite_hollande", "haut_doubs", "saint_ferjeux"),
                  "61": ("perseigne",), "88": ("bitola",)}


def _communes_of(dept: str, urban: bool) -> list[str]:
    return sorted(c for c in COMMUNES if c.startswith(dept) and (c in POLICE_ZONE) == urban)


def _places_of(insee: str, kinds: Iterable[str]) -> list[Place]:
    ks = set(kinds)
    return [p for p in PLACES if p.insee == insee and p.kind in ks]


class Background:
    def __init__(self, b: Builder):
        self.b = b
        self.rng = b.rng

    # -- where --------------------------------------------------------------------------------

    def pick_dept(self) -> str:
        return self.rng.choices(list(DEPT_WEIGHTS), weights=list(DEPT_WEIGHTS.values()))[0]

    def urban_spot(self, dept: str, net: Network | None,
                   kinds: Iterable[str] = ("deal_point", "street", "station", "parking", "residence"),
                   ) -> tuple[Location, Place | None]:
        if net and self.rng.random() < 0.7:
            keys = net.deal_points + net.places
            keys = [k for k in keys if PLACES_BY_KEY[k].kind in set(kinds)] or keys
            p = PLACES_BY_KEY[self.rng.choice(keys)]
            return self.b.loc(p.key, 70), p
        insee = self.rng.choice(_communes_of(dept, True))
        places = _places_of(insee, kinds)
        if places and self.rng.random() < 0.8:
            p = self.rng.choice(places)
            return self.b.loc(p.key, 90), p
        label = self.rng.choice(("pied d'immeuble", "parking d'une résidence", "abords d'un "
                                 "établissement scolaire", "square", "arrêt de bus", "hall "
                                 "d'immeuble"))
        return self.b.loc_commune(insee, label.capitalize(), 1200), None

    def rural_spot(self, dept: str) -> Location:
        insee = self.rng.choice(_communes_of(dept, False))
        return self.b.loc_commune(insee, self.rng.choice(_RURAL_SPOTS).capitalize(), 1500)

    def road_spot(self, dept: str) -> Place:
        roads = [p for p in PLACES if p.insee.startswith(dept) and p.kind in ("road", "border")]
        return self.rng.choice(roads)

    # -- who ----------------------------------------------------------------------------------

    def net_for(self, dept: str, p: float = 0.4) -> Network | None:
        if self.rng.random() < p:
            return self.b.networks[self.rng.choice(_DEPT_NETWORKS[dept])]
        return None

    def members(self, net: Network | None, k: int, roles: Sequence[PersonRole],
                describe: bool = False) -> list[PersonRef]:
        out: list[PersonRef] = []
        if net:
            pool = sorted(net.members.values(), key=lambda x: x.key)
            for mem in self.rng.sample(pool, min(k, len(pool))):
                out.append(mem.ref(describe=describe))
        while len(out) < k:
            out.append(self.b.passerby(self.rng.choice(roles)).ref(describe=describe))
        return out

    def a_vehicle(self, net: Network | None, dept: str, p_net: float = 0.35) -> Vehicle:
        if net and net.vehicles and self.rng.random() < p_net:
            return self.rng.choice(sorted(net.vehicles.values(), key=lambda v: v.model)).lead()
        return self.b.vehicle(dept).lead()

    def a_phone(self, net: Network | None, p_net: float = 0.5) -> str:
        if net and net.phones and self.rng.random() < p_net:
            return net.phones[self.rng.choice(sorted(net.phones))]
        return self.b.phone()

    def small_seizure(self, subs: Sequence[Substance]) -> Seizure:
        items = []
        for s in self.rng.sample(list(subs), self.rng.randint(1, min(2, len(subs)))):
            if s == S.MDMA:
                items.append((s, str(self.rng.randint(2, 25)), "comprimés"))
            else:
                top = 60 if s in (S.COCAINE, S.HEROIN, S.CRACK, S.KETAMINE) else 150
                items.append((s, str(self.rng.randint(1, top)), "g"))
        cash = str(self.rng.randrange(50, 2500, 10)) if self.rng.random() < 0.5 else None
        return make_seizure(*items, cash=cash)

    def big_seizure(self, subs: Sequence[Substance]) -> Seizure:
        items = []
        for s in self.rng.sample(list(subs), self.rng.randint(1, min(3, len(subs)))):
            if s in (S.CANNABIS_RESIN, S.CANNABIS_HERB):
                items.append((s, f"{self.rng.randint(3, 250) / 10:.1f}", "kg"))
            elif s == S.MDMA:
                items.append((s, str(self.rng.randint(100, 3000)), "comprimés"))
            else:
                items.append((s, str(self.rng.randint(50, 2500)), "g"))
        cash = str(self.rng.randrange(500, 45000, 50)) if self.rng.random() < 0.4 else None
        return make_seizure(*items, cash=cash, packaging=self.rng.random() < 0.3)

    def subs(self, net: Network | None) -> list[Substance]:
        if net:
            return list(net.substances)
        return self.rng.choices(
            [S.CANNABIS_RESIN, S.CANNABIS_HERB, S.COCAINE, S.HEROIN, S.CRACK, S.MDMA, S.KETAMINE],
            weights=[10, 6, 6, 2, 1, 1, 1], k=2)

    # -- leads --------------------------------------------------------------------------------

    def citizen(self, dept: str, day: int) -> None:
        b, rng = self.b, self.rng
        urban = rng.random() < 0.72
        net = self.net_for(dept, 0.45) if urban else None
        hour = b.activity_hour()
        obs = b.at(day, hour)
        subs = self.subs(net)[: rng.randint(1, 2)]
        kw: dict[str, Any] = {}
        if urban:
            location, place = self.urban_spot(dept, net)
            agency = P
            where = place.label if place else (location.place_label or "quartier").lower()
            if place and place.kind == "deal_point":
                kw["deal_point"] = b.deal_point(place.key)
        else:
            location, place = self.rural_spot(dept), None
            agency = G
            where = (location.place_label or "centre du village").lower()
        texts = [
            f"Signalement via la plateforme : allées et venues répétées ({where}), surtout en "
            f"soirée. Échanges rapides de main à main, clients qui repartent aussitôt.",
            f"Le déclarant signale un petit groupe posté en permanence ({where}) ; l'un d'eux "
            f"prévient les autres à l'arrivée des patrouilles. Forte odeur de cannabis.",
            f"Signalement anonyme : un véhicule stationne plusieurs fois par jour ({where}), le "
            f"conducteur reçoit des personnes à la vitre puis repart. Immatriculation relevée.",
            f"Riverain : des livraisons de stupéfiants sont organisées par messagerie ({where}) ; "
            f"le numéro de commande circule ([TEL], voir champ téléphones).",
            f"Signalement : vente de stupéfiants ({where}) à des jeunes, parfois mineurs, en "
            f"fin d'après-midi. Le vendeur est décrit dans la fiche jointe.",
        ]
        variant = rng.choices(range(5), weights=[5, 4, 3, 2, 2])[0]
        if variant == 2 or rng.random() < 0.1:
            kw["vehicles"] = [self.a_vehicle(net, dept, 0.5)]
        if variant == 3:
            kw["phones"] = [self.a_phone(net, 0.6)]
        if variant == 4:
            kw["persons"] = self.members(net, 1, (R.SELLER,), describe=True)
        b.add(agency, K.CITIZEN_REPORT, CH.CITIZEN_PLATFORM, observed=obs,
              reported=b.later(obs, 0.5, 36), location=location, substances=subs,
              narrative=texts[variant], scripted=False, **kw)

    def other(self, kind: LeadKind, dept: str, day: int) -> None:
        b, rng = self.b, self.rng
        net = self.net_for(dept, 0.35)
        subs = self.subs(net)
        if kind == K.FIELD_INTELLIGENCE:
            t = b.at(day, rng.randint(8, 18))
            if rng.random() < 0.15:
                road = self.road_spot(dept)
                b.add(D, kind, CH.INVESTIGATION, reported=t, location=b.loc(road.key, 300),
                      vehicles=[self.a_vehicle(net, dept)], persons=self.members(net, 1, (R.DRIVER,)),
                      substances=subs, douanes_unit="DNRED",
                      handling=rng.choice((HandlingCode.H2, HandlingCode.H3)),
                      restricted_to=rng.choice(([], [D, Agency.POLICE_JUDICIAIRE])),
                      scripted=False,
                      narrative=f"Renseignement douanier : convois présumés en provenance de "
                                f"{rng.choice(_ORIGINS)} empruntant cet axe ({road.label}), avec "
                                f"véhicule ouvreur. Passages le plus souvent en fin de semaine.")
                return
            urban = rng.random() < 0.6
            loc = self.urban_spot(dept, net)[0] if urban else self.rural_spot(dept)
            persons = self.members(net, rng.randint(1, 3), (R.SELLER, R.SUPPLIER, R.MANAGER))
            phones = [self.a_phone(net) for _ in range(rng.randint(0, 2))]
            origin = net.origin if net else rng.choice(_ORIGINS)
            b.add(P if urban else G, kind, rng.choice((CH.INFORMANT, CH.INVESTIGATION, CH.PATROL)),
                  reported=t, location=loc, persons=persons, phones=phones, substances=subs,
                  scripted=False,
                  narrative=rng.choice((
                      f"Renseignement de source : approvisionnement régulier depuis {origin}, "
                      f"livraisons en fin de semaine. Stock présumé chez un tiers.",
                      "Renseignement de terrain : un individu connu des services a repris une "
                      "activité de revente ; il utilise plusieurs lignes et change de véhicule.",
                      "Renseignement : des mineurs sont recrutés comme guetteurs et payés à la "
                      "journée ; les ventes se font sur commande et par livraison.",
                  )))
        elif kind == K.SURVEILLANCE:
            urban = rng.random() < 0.75
            t = b.at(day, b.activity_hour())
            loc, place = self.urban_spot(dept, net) if urban else (self.rural_spot(dept), None)
            kw: dict[str, Any] = {}
            if place and place.kind == "deal_point":
                kw["deal_point"] = b.deal_point(place.key)
            if rng.random() < 0.4:
                kw["vehicles"] = [self.a_vehicle(net, dept)]
            n_tx = rng.randint(2, 9)
            b.add(P if urban else G, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 1, 8),
                  location=loc, persons=self.members(net, rng.randint(1, 3),
                                                     (R.SELLER, R.LOOKOUT, R.BUYER), True),
                  scripted=False,
                  narrative=f"Surveillance en civil pendant deux heures : {n_tx} transactions "
                            f"constatées, un guetteur posté à l'entrée, réapprovisionnement "
                            f"depuis un véhicule ou un hall voisin.", **kw)
        elif kind == K.STOP_CHECK:
            on_road = rng.random() < 0.55
            t = b.at(day, rng.randint(6, 23))
            if on_road:
                road = self.road_spot(dept)
                agency = rng.choices((G, D), weights=(6, 4))[0]
                loc = b.loc(road.key, 250)
                where = road.label
                ch = CH.CUSTOMS_CONTROL if agency == D else CH.PATROL
            else:
                loc, place = self.urban_spot(dept, net, ("street", "station", "parking"))
                agency, ch = P, CH.PATROL
                where = place.label if place else (loc.place_label or loc.commune)
            found = rng.random() < 0.5
            seizure = self.small_seizure(subs) if found else None
            b.add(agency, kind, ch, observed=t, reported=b.later(t, 0.5, 4), location=loc,
                  vehicles=[self.a_vehicle(net, dept, 0.25)],
                  persons=self.members(net if rng.random() < 0.3 else None, rng.randint(1, 2),
                                       (R.DRIVER, R.BUYER, R.UNKNOWN)),
                  seizure=seizure, scripted=False,
                  narrative=(f"Contrôle ({where}) : véhicule visité, {seizure_fr(seizure)} "
                             f"découverts. Suites judiciaires en cours." if seizure else
                             f"Contrôle ({where}) : véhicule et occupants contrôlés, résultat "
                             f"négatif. Forte odeur de cannabis signalée, trajets incohérents."))
        elif kind == K.VIDEO_PROTECTION:
            t = b.at(day, b.activity_hour())
            loc, place = self.urban_spot(dept, net, ("deal_point", "street", "station", "parking"))
            kw = {"deal_point": b.deal_point(place.key)} if place and place.kind == "deal_point" else {}
            if rng.random() < 0.3:
                kw["vehicles"] = [self.a_vehicle(net, dept)]
            b.add(P, kind, CH.VIDEO, observed=t, reported=b.later(t, 2, 48), location=loc,
                  scripted=False,
                  narrative="Exploitation de la vidéoprotection : va-et-vient caractéristique, "
                            "remises de sachets et de billets, un guetteur surveille les accès.",
                  **kw)
        elif kind in (K.ARREST, K.SEARCH):
            urban = rng.random() < 0.7
            agency = P if urban else G
            if kind == K.ARREST:
                t = b.at(day, rng.randint(14, 23))
                loc, place = self.urban_spot(dept, net) if urban else (self.rural_spot(dept), None)
                seizure = self.small_seizure(subs) if rng.random() < 0.7 else None
                kw = {"deal_point": b.deal_point(place.key)} if place and place.kind == "deal_point" else {}
                b.add(agency, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 1, 6),
                      location=loc, persons=self.members(net, rng.randint(1, 3),
                                                         (R.SELLER, R.BUYER, R.LOOKOUT)),
                      seizure=seizure, scripted=False,
                      narrative="Interpellation après constatation d'une transaction"
                                + (f" ; découverte de {seizure_fr(seizure)}." if seizure else ".")
                                + " Placement en garde à vue.", **kw)
            else:
                t = b.at(day, 6, rng.randint(0, 40))
                loc = (self.urban_spot(dept, net, ("residence", "street"))[0] if urban
                       else self.rural_spot(dept))
                seizure = (self.big_seizure(subs) if rng.random() < 0.3 else
                           self.small_seizure(subs))
                b.add(agency, kind, CH.INVESTIGATION, observed=t, reported=b.later(t, 2, 8),
                      location=loc, persons=self.members(net, rng.randint(1, 2),
                                                         (R.SELLER, R.SUPPLIER, R.UNKNOWN)),
                      seizure=seizure, scripted=False,
                      narrative=f"Perquisition au domicile d'un mis en cause : {seizure_fr(seizure)}.")
        elif kind == K.SEIZURE:
            t = b.at(day, rng.randint(5, 23))
            if rng.random() < 0.65:
                road = self.road_spot(dept)
                loc, agency, ch = b.loc(road.key, 250), D, CH.CUSTOMS_CONTROL
                where = road.label
            else:
                loc, place = self.urban_spot(dept, net)
                agency, ch = rng.choice((P, G)), CH.INVESTIGATION
                where = place.label if place else (loc.place_label or loc.commune)
            seizure = self.big_seizure(subs)
            b.add(agency, kind, ch, observed=t, reported=b.later(t, 1, 8), location=loc,
                  vehicles=[self.a_vehicle(net, dept, 0.3)],
                  persons=self.members(net, 1, (R.DRIVER, R.COURIER)), seizure=seizure,
                  douanes_unit="DR", scripted=False,
                  narrative=f"Saisie ({where}) : {seizure_fr(seizure)}, dissimulés dans "
                            f"{rng.choice(_CACHES)}. Conducteur placé en "
                            + ("retenue douanière." if agency == D else "garde à vue."))
        elif kind == K.LANDLORD_REPORT:
            t = b.at(day, rng.randint(9, 17))
            loc, place = self.urban_spot(dept, net, ("residence", "deal_point", "street"))
            b.add(P, kind, CH.PARTNER, reported=t, location=loc,
                  persons=self.members(net, 1, (R.UNKNOWN,)), scripted=False,
                  narrative="Le bailleur social signale un logement utilisé pour le stockage ou "
                            "la vente, des dégradations dans les parties communes et des "
                            "plaintes de voisins ; procédure de résiliation de bail envisagée.")

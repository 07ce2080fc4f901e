"""The shared corpus of the reporter-identity detector (``hub.contract.identifiers``).

Both sides are tested on it: the connectors' sanitizer must redact every hostile text and leave
every legitimate one unchanged (tests/connectors/test_sanitize.py), the hub's guard must refuse
every hostile text under its exact field path and accept every legitimate one
(tests/hub/contract/test_identifiers_guard.py). Each test records its outcome as a user property
(``corpus``), and tests/conftest.py prints the false-positive and false-negative counts.

Hostile texts are what a reporter, or a careless mapping, could leave in a lead: a phone, an
e-mail address, an IBAN or an IP address in any writing, in any free-text field. Legitimate
texts are written in the style of the demo world (connectors/demo): plates, times, dates,
quantities, amounts, INSEE codes, postcodes, street numbers, procedure numbers — no person.
"""

from __future__ import annotations

from dataclasses import dataclass

ZW = "\u200b"  # zero-width space
NBSP, NNBSP = "\u00a0", "\u202f"
SHY = "\u00ad"  # soft hyphen


@dataclass(frozen=True)
class Sample:
    field: str  # where the text goes in a lead: "narrative", "location.commune", "vehicles[0].make"...
    text: str
    kind: str | None = None  # the identifier kind a hostile sample holds: phone, email, iban, ip

    @property
    def id(self) -> str:
        return f"{self.field}:{self.text[:40]!r}"


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _zw(text: str) -> str:
    return ZW.join(text)


H = Sample
HOSTILE: list[Sample] = [
    # --- phones, every way a French number gets written ---------------------------------------
    H("narrative", "Le déclarant demande à être rappelé au 06/12/34/56/78 après 18 h.", "phone"),
    H("narrative", "Joignable au 0612 345 678 en journée.", "phone"),
    H("narrative", "Mon numéro : +33 (0)6 12 34 56 78, merci de ne pas le transmettre.", "phone"),
    H("narrative", "Rappeler le " + _fullwidth("06 12 34 56 78") + " svp.", "phone"),
    H("narrative", "Contact " + _zw("0612345678") + " le soir.", "phone"),
    H("narrative", "Tél. 06.12.34.56.78 (portable du déclarant).", "phone"),
    H("narrative", "Tél. 06-12-34-56-78.", "phone"),
    H("narrative", "Numéro du témoin 0612345678.", "phone"),
    H("narrative", "Numéro du témoin +33612345678.", "phone"),
    H("narrative", "Numéro 0033 6 12 34 56 78 (déclarant).", "phone"),
    H("narrative", "Numéro 33 6 12 34 56 78 à rappeler.", "phone"),
    H("narrative", "Me joindre au 6 12 34 56 78.", "phone"),
    H("narrative", "Me joindre au O6 12 34 56 78.", "phone"),
    H("narrative", "Me joindre au (06) 12 34 56 78.", "phone"),
    H("narrative", f"Me joindre au 06{NBSP}12{NBSP}34{NBSP}56{NBSP}78.", "phone"),
    H("narrative", f"Me joindre au 06{NNBSP}12{NNBSP}34{NNBSP}56{NNBSP}78.", "phone"),
    H("narrative", "Rappel au \u0660\u0666\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668.", "phone"),
    H("narrative", f"Rappel au 06{SHY}12{SHY}34{SHY}56{SHY}78.", "phone"),
    H("narrative", "Portable 07 81 23 45 67, fixe 03 81 12 34 56.", "phone"),
    H("narrative", "tél:0612345678", "phone"),
    H("narrative", "Appeler le 06 - 12 - 34 - 56 - 78 de préférence.", "phone"),
    H("narrative", "Numéro guadeloupéen du déclarant : 0690 12 34 56.", "phone"),
    H("narrative", "Chiffres dictés : 0 6 1 2 3 4 5 6 7 8.", "phone"),
    H("narrative", "Contact \U0001d7ce\U0001d7d4\U0001d7cf\U0001d7d0\U0001d7d1\U0001d7d2\U0001d7d3"
                   "\U0001d7d4\U0001d7d5\U0001d7d6 en soirée.", "phone"),
    H("narrative", "Contact 06\u201312\u201334\u201356\u201378 en soirée.", "phone"),
    H("narrative", "Contact " + "\u0332".join("0612345678") + "\u0332 en soirée.", "phone"),
    H("narrative", "Hall 3 06 12 34 56 78 le déclarant habite au-dessus.", "phone"),
    H("narrative", "Belge, joignable au +32 470 12 34 56.", "phone"),
    H("narrative", "Frontalier, joignable au +41 79 123 45 67.", "phone"),
    H("narrative", "Rappeler le zéro six, douze, trente-quatre, cinquante-six, soixante-dix-huit.",
      "phone"),
    H("narrative", "Rappeler le zero sept quatre-vingt-un vingt-trois quarante-cinq soixante-sept.",
      "phone"),
    H("narrative", "Son numéro :\n06 12\n34 56 78\n(hors ligne).",
      "phone"),
    H("location.commune", "Besançon 06 12 34 56 78", "phone"),
    H("location.address", "12 rue de Cologne, tél 0612345678", "phone"),
    H("location.place_label", "Hall 3, rappeler +33 6 12 34 56 78", "phone"),
    H("vehicles[0].make", "Renault 0612345678", "phone"),
    H("vehicles[0].model", "Clio 06 12 34 56 78", "phone"),
    H("vehicles[0].colour", "gris, tél 06.12.34.56.78", "phone"),
    H("deal_point.label", "Tour Pascal — commande au 07 81 23 45 67", "phone"),
    H("persons[0].description.distinctive_marks", "tatouage du numéro 06 12 34 56 78", "phone"),
    # --- e-mails, plain and obfuscated ---------------------------------------------------------
    H("narrative", "Écrire à jean.dupont@gmail.com pour plus d'informations.", "email"),
    H("narrative", "Écrire à jean.dupont [at] gmail [dot] com.", "email"),
    H("narrative", "Écrire à jean.dupont (at) gmail (dot) com.", "email"),
    H("narrative", "Écrire à jean.dupont at gmail dot com.", "email"),
    H("narrative", "Écrire à jean.dupont arobase gmail point com.", "email"),
    H("narrative", "Écrire à jean.dupont＠gmail.com.", "email"),
    H("narrative", "Écrire à jean.dupont\ufe6bgmail.com.", "email"),
    H("narrative", "Écrire à jean.dupont @ gmail . com.", "email"),
    H("narrative", "Écrire à jean.dupont(@)gmail.com.", "email"),
    H("narrative", "Écrire à jean.dupont[@]hotmail[.]fr.", "email"),
    H("narrative", "Écrire à jean.dupont@gmail, c'est mon adresse.", "email"),
    H("narrative", "Écrire à jean point dupont arobase orange point fr.", "email"),
    H("narrative", "ÉCRIRE À JEAN.DUPONT@LAPOSTE.NET.", "email"),
    H("narrative", "Écrire à jean" + ZW + ".dupont@" + ZW + "gmail.com.", "email"),
    H("narrative", "Écrire à " + _fullwidth("jean@gmail.com") + ".", "email"),
    H("narrative", "Écrire à jean_dupont {at} yahoo {dot} fr.", "email"),
    H("narrative", "Écrire à jean.dupont <at> outlook <dot> com.", "email"),
    H("location.commune", "Besançon jean.dupont@gmail.com", "email"),
    H("vehicles[0].make", "Peugeot contact j.d@free.fr", "email"),
    H("vehicles[0].colour", "noir (a.b@sfr.fr)", "email"),
    H("persons[0].description.clothing", "t-shirt « contact arobase planoise point fr »", "email"),
    H("location.place_label", "Parking, écrire jdupont [at] laposte [dot] net", "email"),
    # --- IBANs (real checksums) ----------------------------------------------------------------
    H("narrative", "Virement sur FR76 3000 6000 0112 3456 7890 189 chaque lundi.", "iban"),
    H("narrative", "Virement sur fr76 3000 6000 0112 3456 7890 189 chaque lundi.", "iban"),
    H("narrative", "Virement sur fr7630006000011234567890189 chaque lundi.", "iban"),
    H("narrative", "Virement sur FR76-3000-6000-0112-3456-7890-189.", "iban"),
    H("narrative", "Virement sur " + _fullwidth("FR7630006000011234567890189") + ".", "iban"),
    H("narrative", "Compte allemand DE89 3704 0044 0532 0130 00 utilisé pour les paiements.", "iban"),
    H("narrative", "Compte suisse CH93 0076 2011 6238 5295 7 utilisé pour les paiements.", "iban"),
    # A failed candidate ("au 12…", "le 12…") just before the IBAN must not hide it.
    H("narrative", "Il répond au 12 rue Bersot et se fait payer sur FR76 3000 6000 0112 3456 7890 189.", "iban"),
    H("narrative", "Virement sur " + _zw("FR7630006000011234567890189") + ".", "iban"),
    H("deal_point.label", "Paiement FR7630006000011234567890189", "iban"),
    # Mistyped check digits or account digit: still the account (right country, length, structure).
    H("narrative", "Virement sur FR76 3000 6000 0112 3456 7890 188 chaque lundi.", "iban"),
    H("narrative", "Compte anglais GB12 BANK 1234 5678 9012 34 pour les virements.", "iban"),
    # --- IP addresses --------------------------------------------------------------------------
    H("narrative", "Signalement envoyé depuis 192.168.1.20.", "ip"),
    H("narrative", "Connexion du déclarant depuis 203.0.113.77 hier soir.", "ip"),
    H("narrative", "Connexion depuis 203[.]0[.]113[.]77.", "ip"),
    H("narrative", "Connexion depuis 203(dot)0(dot)113(dot)77.", "ip"),
    H("narrative", "Connexion depuis 2001:db8::8a2e:370:7334.", "ip"),
    H("narrative", "Connexion depuis " + _fullwidth("203.0.113.77") + ".", "ip"),
    H("vehicles[0].colour", "bleu 198.51.100.4", "ip"),
]

L = Sample
LEGITIMATE: list[Sample] = [
    # --- narratives ----------------------------------------------------------------------------
    L("narrative", "Le 28/07/2025 vers 21h30, 3 pochons de 10 g et 150 € ; scooter AB-123-CD ; "
                   "rendez-vous à 12:30:45 hall 3, 25000 Besançon, 1,2 kg de résine."),
    L("narrative", "Renseignement de source : le point de deal du hall de la rue de Cologne est "
                   "tenu par un gérant qui paie vendeurs et guetteurs à la journée. Ligne de "
                   "commande et ligne du gérant identifiées ([TEL], voir champ téléphones)."),
    L("narrative", "Surveillance en civil du hall de la rue de Cologne de 18 h 30 à 22 h : un "
                   "véhicule se gare, le conducteur remet un sac de sport au gérant du point."),
    L("narrative", "Contrôle douanier sur l'aire de Besançon-Marchaux (A36, sens Mulhouse) : "
                   "250 g de résine de cannabis et 1 350 € en numéraire."),
    L("narrative", "Contrôle routier à Saint-Vit : conducteur en possession de 10 g de résine, "
                   "véhicule immatriculé 1234 AB 25."),
    L("narrative", "Saisie douanière sur l'aire d'Écot (A36) : 12,4 kg d'herbe de cannabis "
                   "dans le coffre, 8 300 € en coupures de 50."),
    L("narrative", "Contrôle au poste de Jougne-Vallorbe (N57), sens Suisse-France : 38 000 € "
                   "en numéraire non déclarés."),
    L("narrative", "Perquisitions dans la tour Pascal : 5,4 kg de résine de cannabis, 720 g "
                   "d'herbe, 2 armes de poing et 14 250 € en numéraire."),
    L("narrative", "Opération d'envergure à Perseigne peu avant 21 h : plus de 80 policiers, "
                   "12 interpellations, 3 véhicules saisis (GH-456-JK, LM-789-NP, 456 XYZ 61)."),
    L("narrative", "Procédure PN-25-2025-000433, PV 2025/118 : suites judiciaires en cours."),
    L("narrative", "Référence GN-BDRIJ25-2025-00042 ; dossier DR-BES-2025-00017 joint."),
    L("narrative", "Passage constaté le 06/07/2025 - 21h30 sur le parking de la gare."),
    L("narrative", "Va-et-vient du 06/07/2025 au 12/07/2025 entre 19 h et 23 h."),
    L("narrative", "Relevés des 12.07.2025 et 13.07.2025 à 22.15 : même véhicule."),
    L("narrative", "Code INSEE 25056, 25000 Besançon ; quartier Planoise, 7 avenue de "
                   "l'Île-de-France."),
    L("narrative", "Point de deal au pied de la tour, 3e étage, appartement 12, bâtiment B."),
    L("narrative", "Rendez-vous au point de rencontre habituel, puis au point de deal de la "
                   "tour Pascal à Alençon."),
    L("narrative", "Commandes via le compte Snapchat @planoise_shop, livraisons en trottinette."),
    L("narrative", "Contrôle sur la N57, secteur de Remiremont : 1,1 kg de résine de cannabis "
                   "en pains de 100 g, conducteur seul à bord."),
    L("narrative", "Vidéoprotection, caméra n° 14 de la place de la Paix : rotation de "
                   "guetteurs entre 17:45 et 23:10."),
    L("narrative", "Saisie de 4 200 comprimés d'ecstasy et de 500 g de MDMA cristal."),
    L("narrative", "Chiffre d'affaires estimé à 1 200 000 € sur 2 ans, soit environ "
                   "1 650 € par jour."),
    L("narrative", "Interpellation à 06 h 15 au domicile, 14 rue de Dole, 25000 Besançon."),
    L("narrative", "Trajet de 47 km entre Besançon et Montbéliard, 130 km/h relevés sur l'A36 "
                   "au PR 45+300."),
    L("narrative", "12 sachets de 0,5 g de cocaïne, 2 barrettes de 25 g, 3 pochons de 10 g."),
    L("narrative", "Immatriculation suisse VD 123456, immatriculation allemande M-AB 1234."),
    L("narrative", "Le bailleur social signale une cave de la tour Péguy fracturée et "
                   "réaménagée ; scellés n° 1 à 12 posés le 14/10/2025."),
    L("narrative", "Guetteurs postés aux tours 1, 2, 3, 4 et 5 de la résidence."),
    L("narrative", "Exploitation téléphonique : [TEL] en contact avec [TEL] ; e-mail [EMAIL] "
                   "relevé, IBAN [IBAN] et adresse [IP] déjà masqués."),
    L("narrative", "Signalement via la plateforme : allées et venues répétées (parking d'une "
                   "résidence), surtout en soirée. Échanges rapides de main à main."),
    L("narrative", "Contrôle des flux routiers sur l'A28 à hauteur de Valframbert : 2 véhicules "
                   "visités, 15 g d'herbe."),
    L("narrative", "Point GPS relevé : 47.2378, 6.0241 (parking du centre commercial)."),
    L("narrative", "Le 14 juillet 2025 à 23 h 40, 3 individus, 2 scooters, 1 voiture."),
    L("narrative", "Renseignement douanier : convois présumés en provenance d'Espagne "
                   "empruntant l'A36 avec véhicule ouvreur, le week-end des 12 et 13."),
    L("narrative", "Tarifs relevés : 10 € le pochon, 50 € les 6, 80 € le gramme de cocaïne."),
    L("narrative", "Perquisition d'un lieu de fabrication de crack : 42 g de crack, 30 g de "
                   "cocaïne, 1 balance de précision, 2 400 € en numéraire."),
    L("narrative", "Surveillance rue de Dole : quatre contacts brefs en une heure avec des "
                   "véhicules immatriculés 25 et 39."),
    L("narrative", "Rue du 8-Mai-1945, angle de la rue du 19-Mars-1962, caméra 06."),
    L("narrative", "Passages à 06:12, 06:34, 06:56 et 07:18 devant le hall."),
    L("narrative", "Heures de vente : 10h-13h / 16h-23h, 7 jours sur 7."),
    L("narrative", "Lots 2025-0147 et 2025-0152 transmis au laboratoire le 3 novembre."),
    L("narrative", "Quantité totale : 1 250,5 g ; valeur estimée 6 252,50 €."),
    L("narrative", "Ligne 3 du tram, arrêt Allée de l'Europe ; bus 5, arrêt Planoise."),
    L("narrative", "Vente constatée at the usual place selon le témoin ; au point de deal du "
                   "hall, rien à signaler."),
    L("narrative", "Code postal 61000 Alençon, INSEE 61001 ; 88000 Épinal, INSEE 88160."),
    L("narrative", "Saisie de 2,350 kg de résine et 0,75 kg d'herbe, 3 téléphones et 1 "
                   "ordinateur portable."),
    L("narrative", f"Saisie de 8{NNBSP}300{NNBSP}€ et de 1{NNBSP}200{NNBSP}g de résine."),
    L("narrative", "Du 01/09/2025 au 30/09/2025 : 27 signalements, 14 contrôles, 6 "
                   "interpellations."),
    L("narrative", "Surveillances des 06, 07, 08, 09, 10 et 11 juillet au hall de la rue de "
                   "Cologne."),
    L("narrative", "Faits prévus et réprimés par les articles 222-34 à 222-37 du code pénal et "
                   "L. 3421-1 du code de la santé publique."),
    L("narrative", "Rendez-vous @ 21h au hall, selon les messages relevés sur le téléphone saisi."),
    L("narrative", "Trois individus, deux scooters et une voiture ; vingt-deux heures trente "
                   "environ, quatre passages."),
    L("narrative", "Site de commande planoise-shop.fr signalé à PHAROS, compte « planoise.25 »."),
    L("narrative", "Scellés 25-2025-000433-01 à 25-2025-000433-12 ; 06 h 00 - 07 h 30."),
    # --- short fields --------------------------------------------------------------------------
    L("location.commune", "Besançon"),
    L("location.commune", "Saint-Dié-des-Vosges"),
    L("location.address", "12 rue de Cologne, 25000 Besançon"),
    L("location.address", "3 bis avenue de l'Île-de-France"),
    L("location.place_label", "Hall 3, place Cassin"),
    L("location.place_label", "Aire de Besançon-Marchaux (A36), PR 12+300"),
    L("vehicles[0].make", "Peugeot"),
    L("vehicles[0].model", "308 SW 1.6 HDi"),
    L("vehicles[0].model", "Série 1 118d"),
    L("vehicles[0].colour", "gris platine"),
    L("deal_point.label", "Planoise — hall de la rue de Cologne"),
    L("deal_point.label", "Tour Pascal, entrée 2"),
    L("persons[0].description.clothing", "survêtement noir, casquette, sacoche 2 poches"),
    L("persons[0].description.distinctive_marks", "tatouage « 1312 » sur la main droite"),
]


# --- helpers for the tests of both sides ----------------------------------------------------------

PROPERTY = "identifier_corpus"


def lead_with(field: str, text: str) -> dict:
    """A valid lead (tests.factories.lead) with ``text`` put at ``field``."""
    from tests.factories import lead, pseudonym

    location = {"insee_code": "25056", "commune": "Besançon", "address": "Place Cassin"}
    vehicle = {"plate": "AB-123-CD", "make": "Renault"}
    person = {"pseudonym": pseudonym("corpus"), "description": {}}
    deal_point = {"insee_code": "25056", "label": "Planoise"}
    if field == "narrative":
        return lead(narrative=text)
    if field.startswith("location."):
        return lead(location=location | {field.split(".", 1)[1]: text})
    if field.startswith("vehicles[0]."):
        return lead(vehicles=[vehicle | {field.rsplit(".", 1)[1]: text}])
    if field.startswith("deal_point."):
        return lead(deal_point=deal_point | {field.rsplit(".", 1)[1]: text})
    if field.startswith("persons[0].description."):
        return lead(persons=[person | {"description": {field.rsplit(".", 1)[1]: text}}])
    raise ValueError(f"no such corpus field: {field}")


def record_outcome(record_property, side: str, sample: Sample, *, detected: bool) -> None:
    """Record one test's outcome for the report (tests/conftest.py prints the counts):
    a hostile sample not detected is a false negative, a legitimate one detected a false
    positive."""
    if sample.kind is not None:
        outcome = "vrai positif" if detected else "faux négatif"
    else:
        outcome = "faux positif" if detected else "vrai négatif"
    record_property(PROPERTY, f"{side}|{outcome}")

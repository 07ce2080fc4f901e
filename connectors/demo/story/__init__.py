"""The demo story: a seeded, coherent world of leads for the CROSS hub (Doubs 25, Orne 61,
Vosges 88).

``generate_demo_leads()`` returns canonical :class:`~hub.contract.lead.Lead` objects;
``build_demo_world()`` returns the same leads plus the ground truth (networks, who is behind each
pseudonym, the cross-agency links that were planted) so tests and demos can check that the hub
finds them.

What the world contains (modelled on the cases in ``shared/seeds``; dates are placed relative to
the window, so any ``start``/``weeks`` gives the same story):

* **Planoise (Besançon)** — deal point in a hall of rue de Cologne, then rue du Piémont: manager,
  sellers, lookouts, a stash-keeper (« nourrice ») and a supplier driving up the A36. Citizens
  report it, police watch it, customs check the supplier's car on the A36, the gendarmerie meets the
  order line in a buyer's phone and the supplier in its own intelligence; raid, search (≈1.2 kg
  resin, herb, cocaine, 6 515 € — the 2021 figures), the social landlord ends the lease.
* **E-scooter courier, Besançon centre-ville** (end of July 2025 case): citizen report →
  surveillance → buyers and sellers arrested → search: ketamine, cocaine, cannabis, MDMA, cash.
* **Saint-Ferjeux** (October 2025 case): tip → arrest → home search, just under 1 kg of resin,
  herb, packaging bags; the gendarmerie had checked the same man and car weeks before.
* **Alençon, Perseigne** (13 December 2023 operation): citizen reports on the halls of tours
  Pascal and Péguy, landlord report, video-protection, an earlier crack-making site, the supply car
  checked on the A28 by the gendarmerie's flow-control unit and flagged by customs; operation
  night: 5.4 kg resin, 720 g heroin, 900 g herb, 150 g crack, 8 300 €, 2 handguns, packaging.
* **Pays de Montbéliard** — Petite-Hollande deal point supplied by a car that customs stop at the
  A36 aire d'Écot with 12.4 kg of herb.
* **Haut-Doubs** — cocaine crossing the Swiss border (Les Verrières, Jougne-Vallorbe on the N57),
  undeclared cash, a reseller known to the gendarmerie.
* **Épinal** — Bitola-Champbeauvert deal point supplied over the N57, seen by gendarmerie, police
  and customs.
* A background stream: citizen reports at the real volume (Doubs ≈16 a month, 186 in Jan–Nov
  2025; Orne and Vosges scaled by population) times ``n / 600``, and field intelligence,
  surveillance, stops and checks, video-protection, arrests, searches, seizures and landlord
  reports, some about the networks above (so links grow naturally), most about passers-by.
* A handful of leads appear twice: version 1 then version 2 (lab-confirmed weights, a
  re-evaluated source, a lifted restriction), as separate objects, the later after the earlier.

Persons are only keyed pseudonyms of fake identities under the demo linkage key (never a name);
narratives are French and sanitized (typed placeholders [TEL], [NOM]). Same seed, same leads.

One module per place (``planoise``, ``centre_ville``, ``saint_ferjeux``, ``perseigne``,
``montbeliard``, ``haut_doubs``, ``epinal``), each writing its scripted case with the ``builder``;
``background`` writes the stream around them; ``assemble`` plays them in order and returns the
world; ``model`` holds the world's entities and its linkage key, ``wording`` the French wording of
seizures, ``updates`` the version-2 changes. This package is the public face.
"""

from connectors.demo.story.assemble import (
    CITIZEN_REPORTS_PER_MONTH,
    MIN_DEMO_LEADS,
    build_demo_world,
    generate_demo_leads,
)
from connectors.demo.story.model import (
    DEFAULT_START,
    DEMO_KEY_ID,
    DEMO_KEY_SECRET,
    CrossAgencyLink,
    DemoWorld,
    Network,
    demo_keyring,
)
from connectors.demo.story.wording import seizure_fr
from hub.contract.lead import source_key

__all__ = [
    "CITIZEN_REPORTS_PER_MONTH",
    "DEFAULT_START",
    "DEMO_KEY_ID",
    "DEMO_KEY_SECRET",
    "MIN_DEMO_LEADS",
    "CrossAgencyLink",
    "DemoWorld",
    "Network",
    "build_demo_world",
    "demo_keyring",
    "generate_demo_leads",
    "source_key",
    "seizure_fr",
]

// French labels of the hub's vocabularies (the API speaks in codes).
export const AGENCIES = {
  police: "Police nationale", gendarmerie: "Gendarmerie nationale", douanes: "Douanes",
  police_judiciaire: "Police judiciaire", paf: "Police aux frontières", gir: "GIR",
  prefecture: "Préfecture", ofast: "OFAST", bailleur_social: "Bailleur social",
};
export const KINDS = {
  vehicle: "Véhicule", person: "Personne (pseudonyme)", phone: "Téléphone", location: "Lieu",
  deal_point: "Point de deal", seizure: "Saisie", agency: "Service", substance: "Produit",
  commune: "Commune", lead: "Piste", operation: "Opération",
};
export const HANDLING = {
  H0: "H0 — diffusion à la CROSS",
  H1: "H1 — diffusion aux services membres",
  H2: "H2 — sur demande à l'émetteur",
  H3: "H3 — aucune diffusion",
};
export const FIELDS = {
  narrative: "Récit", source_ref: "Référence source", persons: "Personnes", phones: "Téléphones",
  vehicles: "Véhicules", location: "Lieu", observed_at: "Date d'observation",
  reported_at: "Date de signalement", seizure: "Saisie", deal_point: "Point de deal",
  substances: "Produits", channel: "Canal", source_reliability: "Fiabilité de la source",
  information_credibility: "Crédibilité de l'information", restricted_to: "Diffusion restreinte",
  embargo_until: "Sous embargo jusqu'au",
};
export const agency = (code) => AGENCIES[code] || code || "—";
export const kind = (code) => KINDS[code] || code;

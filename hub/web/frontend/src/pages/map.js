// The map of the département: communes, readable leads, deal points, hotspots and their
// movement, co-presence discs and the caller's agency's active operations. Everything drawn
// comes from the API (what the caller's policy lets it answer) and is listed again in a table
// under the map, so the page is usable without the canvas.
import { api } from "../lib/api.js";
import { alertBox, clear, errorMessage, h } from "../lib/dom.js";
import { basemapNote, createMap, fit, leafletStylesheet } from "../lib/map/base.js";
import { copresenceLayers, hotspotLayers, mapFeatures } from "../lib/map/layers.js";
import { itemsTable } from "../lib/map/list.js";
import { boot } from "../lib/shell.js";

const root = boot();
const LAYERS = [
  ["communes", "Communes"], ["leads", "Pistes"], ["deal_points", "Points de deal"],
  ["hotspots", "Points chauds"], ["operations", "Opérations de mon service"], ["copresence", "Co-présence"],
];

function select(id, label, options, value) {
  return h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: id }, label),
    h("select", { class: "fr-select", id, name: id },
      options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
}

function input(id, label, attrs = {}, hint = null) {
  return h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, label, hint ? h("span", { class: "fr-hint-text" }, hint) : null),
    h("input", { class: "fr-input", id, name: id, ...attrs }));
}

function localInput(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

const PERIODS = [["", "Toute la période"], ["30", "30 derniers jours"], ["90", "90 derniers jours"], ["365", "12 derniers mois"]];
const SPANS = [["7", "7 jours"], ["30", "30 jours"], ["90", "90 jours"]];

async function main() {
  await leafletStylesheet();
  const config = await api("/api/v1/analysis/map-config");
  const status = h("div", { id: "etat-carte", "aria-live": "polite" });
  const toolbar = h("form", { class: "ch-toolbar", id: "filtres-carte" },
    select("periode", "Pistes de la carte", PERIODS, ""),
    select("chauds", "Points chauds : période récente", SPANS, "30"),
    select("comparaison", "comparée aux", SPANS, "30"),
    h("button", { class: "fr-btn fr-btn--secondary", type: "submit" }, "Actualiser"));
  const toggles = h("fieldset", { class: "fr-fieldset", id: "couches" },
    h("legend", { class: "fr-fieldset__legend fr-text--regular" }, "Couches affichées"),
    LAYERS.map(([name, label]) => h("div", { class: "fr-fieldset__element fr-fieldset__element--inline" },
      h("div", { class: "fr-checkbox-group fr-checkbox-group--sm" },
        h("input", { type: "checkbox", id: `couche-${name}`, name, checked: true }),
        h("label", { class: "fr-label", for: `couche-${name}` }, label)))));
  const container = h("div", { id: "carte", class: "ch-map", role: "region",
                               "aria-label": "Carte du département : flèches pour déplacer, + et − pour zoomer ; chaque élément est aussi listé dans le tableau sous la carte" });
  const legend = h("div", { class: "ch-map-legend", id: "legende-carte" },
    h("p", { id: "fond-de-carte", class: "fr-text--sm fr-mb-1v" }, basemapNote(config)),
    h("ul", { class: "ch-map-keys fr-text--sm" },
      h("li", {}, h("span", { class: "ch-key ch-key--lead", "aria-hidden": "true" }), "Piste (couleur du service)"),
      h("li", {}, h("span", { class: "ch-key ch-key--deal", "aria-hidden": "true" }), "Point de deal"),
      h("li", {}, h("span", { class: "ch-key ch-key--operation", "aria-hidden": "true" }), "Opération de mon service et son rayon"),
      h("li", {}, h("span", { class: "ch-key ch-key--recent", "aria-hidden": "true" }), "Point chaud, période récente"),
      h("li", {}, h("span", { class: "ch-key ch-key--previous", "aria-hidden": "true" }), "Point chaud, période précédente (flèche : déplacement)"),
      h("li", {}, h("span", { class: "ch-key ch-key--copresence", "aria-hidden": "true" }), "Disque de co-présence")));
  const now = new Date();
  const copresenceForm = h("form", { id: "form-copresence", class: "ch-toolbar" },
    input("cp-lat", "Latitude", { type: "number", step: "any", min: "-90", max: "90", required: true }, "Cliquer la carte pour choisir"),
    input("cp-lon", "Longitude", { type: "number", step: "any", min: "-180", max: "180", required: true }),
    input("cp-rayon", "Rayon (m)", { type: "number", min: "10", max: "2000", value: "300", required: true }),
    input("cp-debut", "Du", { type: "datetime-local", value: localInput(new Date(now - 7 * 86400e3)), required: true }),
    input("cp-fin", "Au", { type: "datetime-local", value: localInput(now), required: true }),
    input("cp-fenetre", "Fenêtre (min)", { type: "number", min: "1", max: "1440", value: "30", required: true }),
    h("button", { class: "fr-btn fr-btn--tertiary", type: "button", id: "cp-centre" }, "Centre de la carte"),
    h("button", { class: "fr-btn", type: "submit" }, "Chercher les co-présences"));
  const copresenceOut = h("div", { id: "resultat-copresence", "aria-live": "polite" });
  const listing = h("div", { id: "liste-carte" });
  clear(root).append(status, toolbar, toggles, container, legend,
    h("h2", { class: "fr-h5 fr-mt-3w" }, "Co-présence autour d'un lieu"), copresenceForm, copresenceOut,
    h("h2", { class: "fr-h5 fr-mt-3w" }, "Éléments placés"), listing);

  const map = createMap(container, config);
  const shown = Object.fromEntries(LAYERS.map(([name]) => [name, null]));
  let base = [];
  let hot = [];
  let near = [];

  function setLayer(name, layer) {
    if (shown[name]) map.removeLayer(shown[name]);
    shown[name] = layer;
    if (layer && document.getElementById(`couche-${name}`).checked) layer.addTo(map);
  }
  toggles.addEventListener("change", (event) => {
    const layer = shown[event.target.name];
    if (!layer) return;
    if (event.target.checked) layer.addTo(map); else map.removeLayer(layer);
  });

  function locate(item) {
    map.setView(item.position, Math.max(map.getZoom(), 14));
    const el = item.layer?.getElement?.();
    if (el && el.tabIndex === 0) el.focus(); else container.focus();
    item.layer?.openPopup?.();
  }
  function list() {
    clear(listing).append(itemsTable([...base, ...hot, ...near], locate));
    root.dataset.placed = String(document.querySelectorAll("#carte .leaflet-marker-icon").length);
  }

  async function refresh() {
    clear(status).append(h("p", { class: "ch-loading" }, "Chargement de la carte…"));
    const warnings = [];
    try {
      const collection = await api("/api/v1/analysis/map", { query: { days: toolbar.periode.value }, consult: true });
      const drawn = mapFeatures(collection);
      for (const [name, group] of Object.entries(drawn.groups)) setLayer(name, group);
      base = drawn.items;
      if (collection.truncated) warnings.push("Seules les pistes les plus récentes sont placées : réduisez la période.");
    } catch (err) {
      clear(status).append(alertBox("error", errorMessage(err)));
      return;
    }
    try {
      const spots = await api("/api/v1/analysis/hotspots", { query: { days: toolbar.chauds.value, compare_days: toolbar.comparaison.value } });
      const drawn = hotspotLayers(spots);
      setLayer("hotspots", drawn.group);
      hot = drawn.items;
    } catch (err) {
      warnings.push(`Points chauds indisponibles : ${errorMessage(err)}`);
    }
    list();
    fit(map, [...base, ...hot].map((item) => item.position));
    const placed = base.filter((item) => item.position).length;
    clear(status).append(h("p", { class: "fr-text--sm", role: "status" },
      `${placed} élément(s) placé(s) sur ${base.length} ; ${hot.length} point(s) chaud(s).`),
      warnings.map((w) => alertBox("info", w)));
  }

  map.on("click", (event) => {
    copresenceForm["cp-lat"].value = event.latlng.lat.toFixed(5);
    copresenceForm["cp-lon"].value = event.latlng.lng.toFixed(5);
  });
  copresenceForm.querySelector("#cp-centre").addEventListener("click", () => {
    const c = map.getCenter();
    copresenceForm["cp-lat"].value = c.lat.toFixed(5);
    copresenceForm["cp-lon"].value = c.lng.toFixed(5);
  });
  copresenceForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const f = copresenceForm;
    clear(copresenceOut).append(h("p", { class: "ch-loading" }, "Recherche…"));
    try {
      const result = await api("/api/v1/analysis/copresence", { consult: true, query: {
        lat: f["cp-lat"].value, lon: f["cp-lon"].value, radius_m: f["cp-rayon"].value,
        since: f["cp-debut"].value, until: f["cp-fin"].value, window_min: f["cp-fenetre"].value } });
      const drawn = copresenceLayers(result);
      setLayer("copresence", drawn.group);
      near = drawn.items;
      if (drawn.centre) map.setView(drawn.centre, Math.max(map.getZoom(), 14));
      list();
      clear(copresenceOut).append(h("p", { role: "status" },
        `${result.pairs.length} paire(s) co-présente(s) — ${result.lead_count} piste(s) examinée(s) dans le ${result.place}.`),
        result.pairs.length ? h("ul", {}, result.pairs.map((p) => h("li", {},
          `${p.a.label} et ${p.b.label} : ${p.occurrences} fois, à ${p.min_gap_minutes} min au plus près`,
          p.relation === "plate_variant" ? ` (même véhicule probable : ${p.reason})` : ""))) : null,
        result.hits.length ? h("p", { class: "fr-text--sm" },
          `D'autres services détiennent ${result.hits.reduce((n, x) => n + x.lead_count, 0)} piste(s) en ces lieux : voir les fiches des lieux.`) : null);
    } catch (err) {
      clear(copresenceOut).append(alertBox("error", errorMessage(err)));
    }
  });
  toolbar.addEventListener("submit", (event) => { event.preventDefault(); refresh(); });
  await refresh();
}

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
main().catch((err) => clear(root).append(alertBox("error", errorMessage(err))))
  .finally(() => { root.dataset.state = "ready"; });

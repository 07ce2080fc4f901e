// The link chart (issue 12, item 5): starts from an entity (?depart=kind:key) or a lead
// (?piste=<id>: its entities), asks the API one neighbourhood at a time (never the whole graph),
// expands a node by relation type, undo/redo, filters, analyses, hits as locked nodes, exports.
// Keyboard and screen readers: lib/chart/keyboard.js and the list of visible nodes.
import cytoscape from "cytoscape";
import fcose from "cytoscape-fcose";
import { api } from "../lib/api.js";
import { alertBox, clear, errorMessage, h } from "../lib/dom.js";
import { boot } from "../lib/shell.js";
import { centralActors, copresence, shortestPaths } from "../lib/chart/analysis.js";
import { exportApi, exportPng, exportSvg } from "../lib/chart/export.js";
import { createFilters } from "../lib/chart/filters.js";
import { INSTRUCTIONS, keyboardLayer } from "../lib/chart/keyboard.js";
import { networkElements, sheetHref, splitId } from "../lib/chart/model.js";
import { periodFromUrl, periodQuery } from "../lib/chart/period.js";
import { stylesheet } from "../lib/chart/style.js";
import { legend, nodeList, nodePanel } from "../lib/chart/views.js";

cytoscape.use(fcose);
// Cytoscape would add a <style> element for its container (refused by the CSP, style-src 'self'):
// it skips that when an element holds the id; the rule it wanted is in app.css (.ch-chart).
if (!document.getElementById("__________cytoscape_stylesheet")) {
  document.head.append(h("meta", { id: "__________cytoscape_stylesheet", name: "crosshub-chart" }));
}
const root = boot();
const params = new URLSearchParams(window.location.search);

// The relation that reaches a lead from an entity of each kind: expanding "by a relation type"
// follows it and shows only that type of link from the leads found.
const REACH = { vehicle: ["MENTIONS_VEHICLE"], person: ["INVOLVES"], phone: ["MENTIONS_PHONE"], location: ["AT"],
                deal_point: ["CONCERNS"], seizure: ["RECORDED"], substance: ["REPORTS_SUBSTANCE", "OF_SUBSTANCE", "RECORDED"],
                commune: ["IN_COMMUNE", "AT"] };
const RELS = [["", "Tous les liens"], ["MENTIONS_VEHICLE", "Véhicules"], ["INVOLVES", "Personnes"],
              ["MENTIONS_PHONE", "Téléphones"], ["AT", "Lieux"], ["CONCERNS", "Points de deal"],
              ["RECORDED", "Saisies"], ["REPORTS_SUBSTANCE", "Produits signalés"]];
const MAX_ELEMENTS = 3000;

const live = h("p", { class: "ch-visually-hidden", id: "graphe-annonce", "aria-live": "polite", "aria-atomic": "true" });
const messages = h("div", { id: "graphe-messages", "aria-live": "polite" });
const panel = h("section", { class: "ch-chart-panel", id: "panneau", "aria-labelledby": "panneau-titre" },
  h("h2", { class: "fr-h5", id: "panneau-titre" }, "Nœud"), h("p", {}, "Choisissez un nœud (clic, ou flèches du clavier dans le graphe)."));
const results = h("section", { class: "ch-chart-results", id: "resultats-analyse", "aria-live": "polite" });
const list = h("section", { class: "ch-chart-list", id: "liste" });
const container = h("div", { class: "ch-chart", id: "graphe", tabindex: "0", role: "application",
                             "aria-label": "Graphe de liens", "aria-describedby": "graphe-aide" });
const relSelect = h("select", { class: "fr-select", id: "type-lien" },
  RELS.map(([value, label]) => h("option", { value }, label)));
const undoButton = h("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-arrow-go-back-line fr-btn--icon-left", disabled: true }, "Annuler");
const redoButton = h("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary fr-icon-arrow-go-forward-line fr-btn--icon-left", disabled: true }, "Rétablir");
const topN = h("input", { class: "fr-input ch-input-narrow", id: "acteurs-n", type: "number", min: 1, max: 50, value: 5 });

const undo = [];
const redo = [];
let anchor = null;
let cy = null;
let filters = null;
let keys = null;
const filtersBox = h("div", {});

const chart = {
  get cy() { return cy; },
  get anchor() { return anchor; },
  get keys() { return keys; },
  period: () => filters.period(),
  report(content) { clear(results).append(content); },
  addBatch,
};

// Made once the container is in the page (Cytoscape measures it).
function init() {
  cy = cytoscape({ container, style: stylesheet(), minZoom: 0.1, maxZoom: 4, layout: { name: "preset" },
                   boxSelectionEnabled: true, selectionType: "additive" });
  filters = createFilters(cy, { initialPeriod: periodFromUrl(), onChange: () => nodeList(list, cy, { onShow: show }) });
  filtersBox.append(filters.element);
  keys = keyboardLayer(cy, container, live, {
    onExpand: (node) => (node.data("kind") === "hit" ? show(node, { focusAction: true }) : expand(node)),
    onOpen: (node) => {
      const href = sheetHref(node.data());
      if (href) window.location.assign(href); else show(node, { focusAction: true });
    },
    onFocus: (node) => show(node),
  });
}

function timelineHref(ids) {
  const query = new URLSearchParams(ids.map((id) => ["entite", id]));
  for (const [k, v] of Object.entries(periodQuery(filters.period() && !filters.period().full ? filters.period() : {}))) {
    if (v) query.set(k, v);
  }
  return `/chronologie?${query}`;
}

function show(node, { focusAction = false } = {}) {
  nodePanel(panel, node, { onExpand: expand, onCopresence: (n) => guarded(() => copresence(chart, n)), timelineHref,
                           onRequested: () => { live.textContent = "Demande de communication envoyée."; } });
  if (focusAction) panel.querySelector("button, a")?.focus();
}

const LARGE = 150;

function layout(fit) {
  cy.nodes(".hit").unlock();
  // Past a few hundred nodes fCoSE's force-directed refinement costs seconds; its spectral
  // "draft" stage alone stays readable and takes milliseconds (bench/ui.py measures it).
  const big = cy.nodes().length > LARGE;
  const run = cy.layout({ name: "fcose", quality: big ? "draft" : "default", randomize: fit || big,
                          animate: false, fit, padding: 40, nodeRepulsion: 9000,
                          idealEdgeLength: 90, nodeSeparation: 90, numIter: big ? 500 : 2500 });
  run.one("layoutstop", () => {
    cy.nodes(".hit").lock();
    if (fit && cy.zoom() > 1.4) { cy.zoom(1.4); cy.center(); }
  });
  run.run();
}

// Adds what is not on the chart yet, as one step of the undo stack.
function addBatch(elements, what, origin) {
  const fresh = elements.filter((el) => cy.getElementById(el.data.id).empty());
  const unique = [...new Map(fresh.map((el) => [el.data.id, el])).values()];
  if (!unique.length) return 0;
  if (cy.elements().length + unique.length > MAX_ELEMENTS) {
    chart.report(alertBox("warning", `Le graphe dépasserait ${MAX_ELEMENTS} éléments : filtrez ou annulez des développements avant d'en ajouter.`));
    return 0;
  }
  const at = origin?.position() || { x: 0, y: 0 };
  const added = cy.add(unique.map((el, i) => el.group === "nodes"
    ? { ...el, position: { x: at.x + 60 * Math.cos(i), y: at.y + 60 * Math.sin(i) } } : el));
  undo.push({ what, json: added.jsons(), expanded: origin && what === "développement" ? origin.id() : null });
  redo.length = 0;
  refresh(cy.nodes().length === added.nodes().length);
  return added.nodes().length;
}

function refresh(fit = false) {
  layout(fit);
  filters.render();
  undoButton.disabled = !undo.length;
  redoButton.disabled = !redo.length;
}

function reach(kind) {
  const rel = relSelect.value;
  return rel ? [...new Set([...(REACH[kind] || []), rel])] : undefined;
}

async function network(id) {
  const { kind, key } = splitId(id);
  return api(`/api/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(key)}/network`,
    { query: { depth: 1, rel: reach(kind) }, consult: true });
}

async function expand(node) {
  const data = node.data();
  if (data.kind === "hit") return show(node, { focusAction: true });
  const targets = data.kind === "lead"
    ? node.neighborhood("node").filter((n) => !["lead", "hit"].includes(n.data("kind")) && !n.hasClass("expanded")).slice(0, 6)
    : [node];
  if (!targets.length) { live.textContent = "Rien à développer : les entités de cette piste sont déjà développées."; return; }
  live.textContent = `Développement de ${data.label}…`;
  root.dataset.state = "loading";
  await guarded(async () => {
    const nets = await Promise.all(targets.map((n) => network(n.id())));
    const count = addBatch(nets.flatMap(networkElements), "développement", node);
    targets.forEach((n) => n.addClass("expanded"));
    if (nets.some((n) => n.truncated)) chart.report(alertBox("warning", "Voisinage tronqué par le hub (trop de nœuds) : filtrez par type de lien."));
    live.textContent = count ? `${data.label} développé : ${count} nœud(s) ajouté(s).` : `${data.label} : aucun nœud nouveau.`;
    keys.focus(node, { announce: false });
  });
  root.dataset.state = "ready";
}

async function guarded(work) {
  try { await work(); } catch (err) { chart.report(alertBox("error", errorMessage(err))); }
}

function undoStep() {
  const step = undo.pop();
  if (!step) return;
  cy.remove(cy.collection(step.json.map((j) => cy.getElementById(j.data.id))));
  if (step.expanded) cy.getElementById(step.expanded).removeClass("expanded");
  redo.push(step);
  live.textContent = `Annulé : ${step.what}.`;
  refresh();
}

function redoStep() {
  const step = redo.pop();
  if (!step) return;
  cy.add(step.json);
  if (step.expanded) cy.getElementById(step.expanded).addClass("expanded");
  undo.push(step);
  live.textContent = `Rétabli : ${step.what}.`;
  refresh();
}

// ?piste=<id>: the lead's own entities are the points of departure.
async function leadEntities(leadId) {
  const view = await api(`/api/v1/leads/${encodeURIComponent(leadId)}`, { consult: true });
  if (!view.lead_id) return { ids: [], hit: view };
  const ids = [...(view.vehicles || []).filter((v) => v.plate).map((v) => `vehicle:${v.plate}`),
               ...(view.phones || []).map((p) => `phone:${p}`),
               ...(view.persons || []).map((p) => `person:${p.pseudonym}`),
               ...(view.location?.key ? [`location:${view.location.key}`] : [])];
  return { ids: ids.slice(0, 6), lead: `lead:${view.lead_id}` };
}

function button(label, icon, onClick) {
  return h("button", { type: "button", class: `fr-btn fr-btn--sm fr-btn--secondary ${icon} fr-btn--icon-left`, onclick: onClick }, label);
}

function toolbar(anchorLabel) {
  const { kind, key } = splitId(anchor);
  undoButton.addEventListener("click", undoStep);
  redoButton.addEventListener("click", redoStep);
  const exportsBox = h("ul", { class: "ch-actions ch-exports" },
    h("li", {}, button("PNG", "fr-icon-image-line", () => exportPng(cy, `graphe-${key}`))),
    h("li", {}, button("SVG", "fr-icon-image-line", () => exportSvg(cy, `graphe-${key}`))),
    ["csv", "graphml", "anx", "ftm"].map((f) => h("li", {}, button(f.toUpperCase(), "fr-icon-download-line",
      () => guarded(async () => { await exportApi(kind, key, f); live.textContent = `Export ${f.toUpperCase()} téléchargé (journalisé).`; })))));
  return h("div", { class: "ch-chart-toolbar" },
    h("div", { class: "ch-toolbar" },
      h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "type-lien" }, "Développer par type de lien"), relSelect),
      h("ul", { class: "ch-actions" },
        h("li", {}, button("Développer le nœud", "fr-icon-add-circle-line", () => keys.focused && expand(keys.focused))),
        h("li", {}, undoButton), h("li", {}, redoButton),
        h("li", {}, button("Réorganiser", "fr-icon-refresh-line", () => layout(true))),
        h("li", {}, button("Plus courts chemins", "fr-icon-road-map-line", () => guarded(() => shortestPaths(chart)))),
        h("li", {}, button("Chronologie de la sélection", "fr-icon-calendar-line", () => {
          const ids = cy.nodes(":selected").filter((n) => !["lead", "hit"].includes(n.data("kind"))).map((n) => n.id());
          window.location.assign(timelineHref(ids.length ? ids : [anchor]));
        })))),
    h("div", { class: "ch-toolbar" },
      h("div", { class: "fr-input-group" }, h("label", { class: "fr-label", for: "acteurs-n" }, "Acteurs centraux (nombre)"), topN),
      button("Acteurs centraux", "fr-icon-team-line", () => guarded(() => centralActors(chart, Math.min(50, Math.max(1, Number(topN.value) || 5))))),
      h("p", { class: "fr-text--sm fr-mb-0" }, `Exporter le réseau de ${anchorLabel} :`), exportsBox));
}

async function start() {
  let starts = [];
  let leadAnchor = null;
  try {
    if (params.get("piste")) {
      const found = await leadEntities(params.get("piste"));
      if (found.hit) {
        clear(root).append(alertBox("info", "Cette piste ne vous est pas consultable : elle n'a pas de graphe à montrer."));
        return;
      }
      starts = found.ids;
      leadAnchor = found.lead;
    } else if (params.get("depart")) {
      starts = [params.get("depart")];
    }
    if (!starts.length) {
      clear(root).append(alertBox("info", "Choisissez un point de départ depuis la recherche (« Ouvrir dans le graphe »)."),
        h("p", {}, h("a", { class: "fr-link", href: "/" }, "Aller à la recherche")));
      return;
    }
    performance.mark("chart:fetch-start");
    const nets = await Promise.all(starts.map(network));
    performance.mark("chart:fetched");
    anchor = nets[0].anchor;
    render(nets, leadAnchor);
    performance.mark("chart:drawn");
  } catch (err) {
    clear(root).append(alertBox("error", errorMessage(err)));
  }
}

function render(nets, leadAnchor) {
  const first = nets[0].nodes.find((n) => n.id === anchor);
  const anchorLabel = first?.label || splitId(anchor).key;
  document.getElementById("page-title").textContent = `Graphe de liens — ${anchorLabel}`;
  document.title = `Graphe de liens — ${anchorLabel} — CROSS Hub`;
  clear(root).append(
    h("p", { id: "graphe-aide", class: "fr-text--sm" }, INSTRUCTIONS),
    toolbar(anchorLabel), messages,
    h("div", { class: "fr-grid-row fr-grid-row--gutters" },
      h("div", { class: "fr-col-12 fr-col-lg-8" }, container, legend()),
      h("div", { class: "fr-col-12 fr-col-lg-4 ch-side" }, panel, results, filtersBox)),
    list, live);
  init();
  // addBatch lays the first batch out (and fits it): no second layout here.
  const added = addBatch(nets.flatMap(networkElements), "départ", null);
  undo.length = 0;  // the point of departure is not a step one can undo
  undoButton.disabled = true;
  for (const id of [anchor, leadAnchor]) cy.getElementById(id || "").addClass("anchor");
  nets.forEach((n) => cy.getElementById(n.anchor).addClass("expanded"));
  if (nets.some((n) => n.truncated)) messages.append(alertBox("warning", "Voisinage tronqué par le hub (trop de nœuds) : filtrez par type de lien."));
  live.textContent = `Graphe chargé : ${added} nœud(s).`;
  keys.focus(cy.getElementById(leadAnchor || anchor), { announce: false, center: false });
}

// data-state=ready: everything the page asked for is drawn (tests wait on it).
start().finally(() => { root.dataset.state = "ready"; });

// The entity sheet: an entity, the leads that cite it which the caller may read, and the hits.
import { api, when } from "../lib/api.js";
import { alertBox, clear, errorMessage, h } from "../lib/dom.js";
import { agency, kind as kindLabel } from "../lib/labels.js";
import { federationSection } from "../lib/federation.js";
import { hitCard } from "../lib/hits.js";
import { boot } from "../lib/shell.js";

const root = boot();
const { kind, key } = root.dataset;

async function render() {
  const base = `/api/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(key)}`;
  let net;
  let timeline = null;
  try {
    net = await api(`${base}/network`, { query: { depth: 1 }, consult: true });
  } catch (err) {
    clear(root).append(alertBox("error", errorMessage(err)));
    return;
  }
  try { timeline = await api(`${base}/timeline`, { query: { limit: 50 }, consult: true }); } catch { /* optional */ }
  const anchor = net.nodes.find((n) => n.id === net.anchor);
  document.getElementById("page-title").textContent = `${kindLabel(kind)} ${anchor?.label || key}`;
  clear(root).append(
    h("p", {}, h("a", { class: "fr-btn fr-btn--secondary fr-icon-git-branch-line fr-btn--icon-left",
                        href: `/graphe?depart=${encodeURIComponent(net.anchor)}` }, "Ouvrir dans le graphe"), " ",
      h("a", { class: "fr-btn fr-btn--tertiary", href: `/chronologie?entite=${encodeURIComponent(net.anchor)}` }, "Chronologie")));
  const leads = net.nodes.filter((n) => n.kind === "lead");
  root.append(h("h2", { class: "fr-h4" }, `Pistes consultables (${leads.length})`),
    leads.length ? h("ul", {}, leads.map((n) => h("li", {}, h("a", { href: `/pistes/${encodeURIComponent(n.key)}` }, n.label))))
                 : h("p", {}, "Aucune piste que vous puissiez consulter."));
  const others = net.nodes.filter((n) => n.kind !== "lead" && n.id !== net.anchor);
  if (others.length) {
    root.append(h("h2", { class: "fr-h4" }, "Entités voisines"),
      h("ul", {}, others.map((n) => h("li", {}, h("a", { href: `/entites/${encodeURIComponent(n.kind)}/${encodeURIComponent(n.key)}` }, `${kindLabel(n.kind)} ${n.label}`)))));
  }
  root.append(h("h2", { class: "fr-h4" }, "Détenu aussi par d'autres services"),
    net.hits.length ? net.hits.map((hit) => hitCard(hit)) : h("p", {}, "Aucun autre service ne signale détenir cette entité."));
  const shared = federationSection(net.federation); // other CROSS holding this plate or phone
  if (shared) root.append(shared);
  if (timeline?.events?.length || timeline?.items?.length) {
    const events = timeline.events || timeline.items;
    root.append(h("h2", { class: "fr-h4" }, "Dernières observations"),
      h("ul", {}, events.slice(0, 10).map((e) => h("li", {}, `${when(e.at || e.observed_at)} — ${e.label || e.lead_id || ""} ${e.agency ? `(${agency(e.agency)})` : ""}`))));
  }
}

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
render().finally(() => { root.dataset.state = "ready"; });

// The chart's analyses, each one API call whose answer is merged into the chart and
// highlighted: shortest paths between two selected entities, co-presence around a place over
// the period, central actors of the neighbourhood.
import { api } from "../api.js";
import { alertBox, h } from "../dom.js";
import { kind as kindLabel } from "../labels.js";
import { copresenceElements, pathElements, shortDate, splitId } from "./model.js";

const PATH_KINDS = new Set(["vehicle", "person", "phone", "location", "deal_point"]);
const MAX_SPAN_MS = 366 * 86_400_000;

export async function shortestPaths(chart) {
  const picked = chart.cy.nodes(":selected").filter((n) => PATH_KINDS.has(n.data("kind")));
  if (picked.length !== 2) {
    chart.report(alertBox("info", "Sélectionnez exactement deux entités (véhicule, personne, téléphone, lieu, point de deal) : Espace sur un nœud, ou clic puis Maj+clic."));
    return;
  }
  const [a, b] = [picked[0].data(), picked[1].data()];
  const result = await api("/api/v1/analysis/paths", { consult: true, query: {
    from_kind: a.kind, from_key: a.key, to_kind: b.kind, to_key: b.key, max_hops: 4, limit: 3 } });
  chart.cy.elements(".path").removeClass("path");
  chart.addBatch(pathElements(result), "chemins", picked[0]);
  for (const path of result.paths) {
    for (const n of path.nodes) chart.cy.getElementById(n.id).addClass("path");
    for (const e of path.edges) {
      chart.cy.edges().filter((x) => x.data("source") === e.source && x.data("target") === e.target).addClass("path");
    }
  }
  const said = result.paths.length
    ? `${result.paths.length} plus court(s) chemin(s) entre ${a.label} et ${b.label}, surligné(s) en rouge.`
    : `Aucun chemin entre ${a.label} et ${b.label} par des pistes que vous pouvez consulter.`;
  chart.report(h("div", {}, alertBox(result.paths.length ? "success" : "info", said),
    result.paths.length ? h("ol", {}, result.paths.map((p) => h("li", {},
      `${p.hops} piste(s) : ${p.nodes.filter((n) => n.kind !== "lead").map((n) => n.label).join(" → ")}`))) : null));
}

export async function centralActors(chart, limit) {
  const focused = chart.keys.focused;
  const origin = focused && !["lead", "hit"].includes(focused.data("kind")) ? focused.data("id") : chart.anchor;
  const { kind, key } = splitId(origin);
  const result = await api("/api/v1/analysis/central", { consult: true, query: { kind, key, depth: 2, limit } });
  chart.cy.nodes(".central").removeClass("central");
  const present = result.actors.filter((a) => chart.cy.getElementById(a.node.id).nonempty());
  for (const a of present) chart.cy.getElementById(a.node.id).addClass("central");
  chart.report(h("div", {},
    alertBox("info", `${result.actors.length} acteur(s) central(aux) autour de ${origin} (intermédiarité) ; ${present.length} déjà sur le graphe, cerclé(s) de jaune.`),
    h("ol", {}, result.actors.map((a) => h("li", {},
      h("a", { href: `/entites/${encodeURIComponent(a.node.kind)}/${encodeURIComponent(a.node.key)}` }, `${kindLabel(a.node.kind)} ${a.node.label}`),
      ` — ${a.degree} voisin(s), intermédiarité ${a.betweenness.toFixed(2)}`)))));
}

function spanFor(chart) {
  const p = chart.period();
  if (p && !p.full) return { since: new Date(p.from), until: new Date(p.to + 1) };
  const times = chart.cy.nodes('[kind = "lead"]').map((n) => n.data("time")).filter((t) => t != null);
  const until = times.length ? Math.max(...times) + 86_400_000 : Date.now();
  const since = Math.max(times.length ? Math.min(...times) : until - MAX_SPAN_MS, until - MAX_SPAN_MS + 1);
  return { since: new Date(since), until: new Date(until) };
}

export async function copresence(chart, node) {
  const { since, until } = spanFor(chart);
  const result = await api("/api/v1/analysis/copresence", { consult: true, query: {
    location_key: node.data("key"), since: since.toISOString(), until: until.toISOString(), window_min: 60 } });
  chart.addBatch(copresenceElements(result), "co-présence", node);
  chart.report(h("div", {},
    alertBox(result.pairs.length ? "success" : "info",
      `${result.pairs.length} co-présence(s) à ${node.data("label")} du ${shortDate(since)} au ${shortDate(until)} (fenêtre de 60 min) : liens pointillés rouges.`),
    h("ul", {}, result.pairs.map((p) => h("li", {},
      `${p.a.label} et ${p.b.label} : ${p.occurrences} fois, écart minimal ${Math.round(p.min_gap_minutes)} min`)))));
}

// The timeline (issue 12, item 6) of an entity, or of the chart's selection (?entite= repeated):
// the leads the caller may read that cite it, in time order, with the chart's period filter
// (?du=&au=, the same time slider). Hits are listed with whom to contact. Readable as a table
// (keyboard, screen readers); the track above it is a drawing of the same dates.
import { api, when } from "../lib/api.js";
import { alertBox, clear, errorMessage, h } from "../lib/dom.js";
import { hitCard } from "../lib/hits.js";
import { agency, kind as kindLabel } from "../lib/labels.js";
import { boot } from "../lib/shell.js";
import { nodeData, splitId } from "../lib/chart/model.js";
import { isoDay, periodControl, periodFromUrl } from "../lib/chart/period.js";
import { AGENCY_COLOURS } from "../lib/chart/style.js";

const root = boot();
const DAY = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeZone: "UTC" });
const params = new URLSearchParams(window.location.search);
const RELATIONS = { INVOLVES: "Personne impliquée", MENTIONS_VEHICLE: "Véhicule cité", MENTIONS_PHONE: "Téléphone cité",
                    AT: "Lieu de la piste", CONCERNS: "Point de deal", IN_COMMUNE: "Commune" };

function entriesTable(rows) {
  return h("div", { class: "fr-table fr-table--sm" },
    h("table", { id: "chronologie-table" },
      h("caption", {}, `Pistes dans la période : ${rows.length}`),
      h("thead", {}, h("tr", {}, ["Date", "Piste", "Service", "Lien", "Lieu", "Entité"].map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map(({ entry, entity }) => {
        const lead = nodeData(entry.lead);
        return h("tr", { dataset: { lead: entry.lead.key } },
          h("td", {}, entry.at ? when(entry.at) : "date masquée"),
          h("td", {}, h("a", { href: `/pistes/${encodeURIComponent(entry.lead.key)}` }, lead.label)),
          h("td", {}, agency(lead.agency)),
          h("td", {}, `${RELATIONS[entry.relation] || entry.relation}${entry.role ? ` (${entry.role})` : ""}`),
          h("td", {}, entry.place || "—"),
          h("td", {}, `${kindLabel(entity.kind)} ${entity.label}`));
      }))));
}

function track(rows, from, to) {
  const span = Math.max(1, to - from);
  const line = h("div", { class: "ch-track", "aria-hidden": "true" });
  for (const { entry } of rows) {
    if (!entry.at) continue;
    const dot = h("span", { class: "ch-track__dot", title: when(entry.at) });
    dot.style.left = `${(100 * (Date.parse(entry.at) - from)) / span}%`;
    dot.style.backgroundColor = AGENCY_COLOURS[entry.lead.properties?.agency] || "#000091";
    line.append(dot);
  }
  return h("div", { class: "ch-track-box" }, line,
    h("div", { class: "ch-track__ends", "aria-hidden": "true" }, h("span", {}, DAY.format(new Date(from))), h("span", {}, DAY.format(new Date(to)))));
}

async function render() {
  const ids = params.getAll("entite").filter((id) => id.includes(":")).slice(0, 10);
  if (!ids.length) {
    clear(root).append(alertBox("info", "Choisissez une entité depuis sa fiche ou depuis le graphe."));
    return;
  }
  let answers;
  try {
    answers = await Promise.all(ids.map((id) => {
      const { kind, key } = splitId(id);
      return api(`/api/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(key)}/timeline`,
        { query: { limit: 500 }, consult: true });
    }));
  } catch (err) {
    clear(root).append(alertBox("error", errorMessage(err)));
    return;
  }
  const names = answers.map((a) => `${kindLabel(a.entity.kind)} ${a.entity.label}`);
  document.getElementById("page-title").textContent = `Chronologie — ${names.join(", ")}`;
  document.title = `Chronologie — ${names.join(", ")} — CROSS Hub`;
  const rows = answers.flatMap((a) => a.entries.map((entry) => ({ entry, entity: a.entity })))
    .sort((x, y) => (x.entry.at ? Date.parse(x.entry.at) : 0) - (y.entry.at ? Date.parse(y.entry.at) : 0));
  const times = rows.map((r) => (r.entry.at ? Date.parse(r.entry.at) : null)).filter((t) => t != null);
  const body = h("div", { id: "chronologie", "aria-live": "polite" });
  const chartLink = h("a", { class: "fr-btn fr-btn--secondary fr-icon-git-branch-line fr-btn--icon-left", href: "#" }, "Ouvrir dans le graphe");
  const draw = (period) => {
    const inside = rows.filter((r) => !r.entry.at || !period || period.full
      || (Date.parse(r.entry.at) >= period.from && Date.parse(r.entry.at) <= period.to));
    const query = new URLSearchParams({ depart: ids[0] });
    if (period && !period.full) { query.set("du", isoDay(period.from)); query.set("au", isoDay(period.to)); }
    chartLink.setAttribute("href", `/graphe?${query}`);
    clear(body).append(times.length ? track(inside, period ? period.from : Math.min(...times), period ? period.to : Math.max(...times)) : null,
      inside.length ? entriesTable(inside) : h("p", {}, "Aucune piste consultable dans la période."));
  };
  const parts = [h("p", {}, chartLink)];
  let period = null;
  if (times.length) {
    const initial = periodFromUrl();
    const control = periodControl({ idPrefix: "chronologie", min: Math.min(...times), max: Math.max(...times),
      from: initial.from, to: initial.to, onChange: (v) => draw(v) });
    period = control.value();
    parts.push(control.element);
  }
  const hits = answers.flatMap((a) => a.hits);
  clear(root).append(...parts, body,
    h("h2", { class: "fr-h4 fr-mt-4w" }, "Détenu aussi par d'autres services"),
    ...(hits.length ? hits.map((hit) => hitCard(hit)) : [h("p", {}, "Aucun autre service ne signale détenir ces entités.")]));
  if (answers.some((a) => a.truncated)) root.prepend(alertBox("info", "Seules les 500 pistes les plus récentes sont montrées."));
  draw(period);
}

// data-state=ready: everything the page asked for is drawn (tests wait on it).
render().finally(() => { root.dataset.state = "ready"; });

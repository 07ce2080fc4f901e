// The chart's HTML companions: the list of visible nodes (the chart's content without the
// canvas), the legend, and the side panel of the focused node (a hit: its holder, whom to
// contact, and "Demander la communication").
import { h, clear } from "../dom.js";
import { hitCard } from "../hits.js";
import { agency, kind as kindLabel } from "../labels.js";
import { sheetHref, shortDate } from "./model.js";
import { legendEntries } from "./style.js";

export function legend() {
  return h("div", { class: "ch-legend", id: "legende" },
    h("p", { class: "fr-text--sm fr-text--bold fr-mb-1v" }, "Légende"),
    h("ul", { class: "ch-legend__list" }, legendEntries().map((e) =>
      h("li", {}, h("span", { class: `ch-swatch ${e.swatch}`, "aria-hidden": "true" }), e.label))));
}

const typeOf = (data) => (data.kind === "hit" ? "Hit (autre service)" : kindLabel(data.kind));

export function nodeList(out, cy, { onShow }) {
  const all = cy.nodes();
  const visible = all.filter((n) => !n.hasClass("filtered"));
  const rows = visible.sort((a, b) => (a.data("kind") + a.data("label")).localeCompare(b.data("kind") + b.data("label")));
  clear(out).append(
    h("h2", { class: "fr-h5", id: "liste-titre" }, `Nœuds affichés : ${visible.length} sur ${all.length}`),
    h("div", { class: "fr-table fr-table--sm ch-node-table" },
      h("table", { id: "liste-noeuds", "aria-labelledby": "liste-titre" },
        h("thead", {}, h("tr", {}, ["Type", "Libellé", "Service", "Date", "Action"].map((x) => h("th", { scope: "col" }, x)))),
        h("tbody", {}, rows.map((node) => {
          const data = node.data();
          const href = sheetHref(data);
          const action = href
            ? h("a", { class: "fr-link fr-link--sm", href }, "Ouvrir la fiche", h("span", { class: "ch-visually-hidden" }, ` : ${data.label}`))
            : h("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary", onclick: () => onShow(node) },
              "Voir le hit", h("span", { class: "ch-visually-hidden" }, ` : ${data.label}`));
          return h("tr", { dataset: { node: data.id, kind: data.kind } },
            h("td", {}, typeOf(data)), h("td", {}, data.label),
            h("td", {}, data.agency ? agency(data.agency) : "—"),
            h("td", {}, data.time ? shortDate(data.time) : "—"), h("td", {}, action));
        })))));
}

// The panel of one node: what it is, and what can be done from it.
export function nodePanel(out, node, actions) {
  const data = node.data();
  clear(out).append(h("h2", { class: "fr-h5", id: "panneau-titre" }, data.kind === "hit" ? "Hit" : typeOf(data)));
  if (data.kind === "hit") {
    out.append(
      h("p", { class: "fr-mb-1w" }, `Service détenteur : ${agency(data.agency)}`),
      hitCard({ entity: data.entity, agency: data.agency, lead_count: data.lead_count, contact: data.contact, handle: data.handle },
              { onRequested: actions.onRequested }));
    return;
  }
  out.append(h("p", { class: "fr-mb-1w" }, data.description));
  const buttons = [];
  if (data.kind !== "lead") {
    buttons.push(h("button", { type: "button", class: "fr-btn fr-btn--sm", onclick: () => actions.onExpand(node) },
      node.hasClass("expanded") ? "Développer à nouveau" : "Développer"));
  }
  const href = sheetHref(data);
  if (href) buttons.push(h("a", { class: "fr-btn fr-btn--sm fr-btn--secondary", href }, "Ouvrir la fiche"));
  if (data.kind !== "lead") {
    buttons.push(h("a", { class: "fr-btn fr-btn--sm fr-btn--tertiary", href: actions.timelineHref([data.id]) }, "Chronologie"));
  }
  if (data.kind === "location") {
    buttons.push(h("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary",
                               onclick: () => actions.onCopresence(node) }, "Co-présence en ce lieu"));
  }
  out.append(h("ul", { class: "ch-actions" }, buttons.map((b) => h("li", {}, b))));
}

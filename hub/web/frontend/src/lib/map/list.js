// The table under the map: every mapped item, reachable without the canvas (RGAA), with a link to
// its sheet and a button that shows it on the map.
import { h } from "../dom.js";

export function itemsTable(items, onLocate) {
  const rows = items.map((item, i) => h("tr", {},
    h("td", {}, item.kind),
    h("td", {}, item.label, item.detail ? h("br") : null, item.detail ? h("span", { class: "fr-text--xs" }, item.detail) : null),
    h("td", {}, item.commune || "—"),
    h("td", {}, item.agency || "—"),
    h("td", {}, item.href ? h("a", { href: item.href, class: "fr-link" }, "Fiche",
                              h("span", { class: "ch-visually-hidden" }, ` : ${item.kind} ${item.label}`)) : "—"),
    h("td", {}, item.position
      ? h("button", { type: "button", class: "fr-btn fr-btn--sm fr-btn--tertiary", "data-item": String(i),
                      onclick: () => onLocate(item) }, "Localiser",
          h("span", { class: "ch-visually-hidden" }, ` : ${item.label}`))
      : "Position inconnue")));
  return h("div", { class: "fr-table", id: "elements-carte" },
    h("table", {},
      h("caption", {}, `Éléments de la carte (${items.length})`),
      h("thead", {}, h("tr", {}, ["Type", "Libellé", "Commune", "Service", "Fiche", "Sur la carte"]
        .map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows)));
}

// Filters of the chart: by agency (leads and hits), by kind, and by period (the shared time
// slider). Elements outside are hidden, not removed: clearing a filter shows them again. An
// entity all of whose leads are hidden is hidden too (the point of departure never is).
import { clear, h } from "../dom.js";
import { agency as agencyLabel, kind as kindLabel } from "../labels.js";
import { periodControl } from "./period.js";

export function createFilters(cy, { onChange, initialPeriod }) {
  const state = { agencies: new Set(), kinds: new Set(), period: null, initial: initialPeriod };
  const box = h("div", { class: "ch-filters", id: "filtres" });

  function apply() {
    cy.batch(() => {
      const { from, to } = state.period && !state.period.full ? state.period : { from: null, to: null };
      const hidden = (n) => {
        const d = n.data();
        if (state.kinds.has(d.kind)) return true;
        if ((d.kind === "lead" || d.kind === "hit") && state.agencies.has(d.agency)) return true;
        if (d.kind === "lead" && d.time != null && from != null && (d.time < from || d.time > to)) return true;
        return false;
      };
      cy.nodes().forEach((n) => n.toggleClass("filtered", hidden(n)));
      cy.nodes().filter((n) => !["lead", "hit"].includes(n.data("kind")) && !n.hasClass("anchor")).forEach((n) => {
        const leads = n.neighborhood('node[kind = "lead"]');
        if (leads.nonempty() && leads.every((l) => l.hasClass("filtered"))) n.addClass("filtered");
      });
      cy.nodes(".hit").forEach((n) => {
        const entity = cy.getElementById(n.data("entity"));
        if (entity.nonempty() && entity.hasClass("filtered")) n.addClass("filtered");
      });
    });
    onChange();
  }

  function checkboxGroup(legend, name, values, labelOf, hiddenSet) {
    return h("fieldset", { class: "fr-fieldset ch-filter-group" },
      h("legend", { class: "fr-fieldset__legend fr-text--regular" }, legend),
      values.map((value) => {
        const id = `filtre-${name}-${value}`;
        const input = h("input", { type: "checkbox", id, name, value, checked: !hiddenSet.has(value) });
        input.addEventListener("change", () => {
          if (input.checked) hiddenSet.delete(value); else hiddenSet.add(value);
          apply();
        });
        return h("div", { class: "fr-fieldset__element fr-fieldset__element--inline" },
          h("div", { class: "fr-checkbox-group fr-checkbox-group--sm" }, input, h("label", { class: "fr-label", for: id }, labelOf(value))));
      }));
  }

  // Rebuilt after each change of the chart's content (new agencies, kinds, dates).
  function render() {
    const agencies = [...new Set(cy.nodes().filter((n) => ["lead", "hit"].includes(n.data("kind"))).map((n) => n.data("agency")))].filter(Boolean).sort();
    const kinds = [...new Set(cy.nodes().map((n) => n.data("kind")))].sort();
    const times = cy.nodes('[kind = "lead"]').map((n) => n.data("time")).filter((t) => t != null);
    const parts = [
      checkboxGroup("Services", "service", agencies, agencyLabel, state.agencies),
      checkboxGroup("Types", "type", kinds, (k) => (k === "hit" ? "Hits" : kindLabel(k)), state.kinds),
    ];
    if (times.length) {
      const prior = state.period && !state.period.full ? state.period : state.initial;
      const control = periodControl({ idPrefix: "graphe", min: Math.min(...times), max: Math.max(...times),
        from: prior?.from, to: prior?.to, onChange: (v) => { state.period = v; apply(); } });
      state.period = control.value();
      state.initial = null;
      parts.push(control.element);
    }
    clear(box).append(...parts);
    apply();
  }

  return { element: box, render, apply, period: () => state.period };
}

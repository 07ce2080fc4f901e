// The period filter the chart and the timeline share: two range inputs (start, end) stepping by
// day over the dates at hand, carried in the address as ?du=AAAA-MM-JJ&au=AAAA-MM-JJ so that
// the timeline opened from the chart starts on the chart's period.
import { h } from "../dom.js";

const UTC_DAY = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeZone: "UTC" });
const shortDate = (t) => UTC_DAY.format(new Date(t));

const DAY_MS = 86_400_000;
const dayStart = (t) => Math.floor(t / DAY_MS) * DAY_MS;
export const isoDay = (t) => new Date(t).toISOString().slice(0, 10);

export function periodFromUrl(search = window.location.search) {
  const params = new URLSearchParams(search);
  const parse = (v) => (v && /^\d{4}-\d{2}-\d{2}$/.test(v) ? Date.parse(`${v}T00:00:00Z`) : null);
  return { from: parse(params.get("du")), to: parse(params.get("au")) };
}

export function periodQuery({ from, to }) {
  return { du: from != null ? isoDay(from) : undefined, au: to != null ? isoDay(to) : undefined };
}

// A period control over [min, max] (epoch ms). onChange({from, to}) with to inclusive (end of day).
export function periodControl({ idPrefix, min, max, from, to, onChange }) {
  const lo = dayStart(min);
  const hi = dayStart(max);
  const days = Math.max(0, Math.round((hi - lo) / DAY_MS));
  const start = h("input", { type: "range", class: "fr-range__input ch-range", id: `${idPrefix}-du`,
                             min: 0, max: days, step: 1 });
  const end = h("input", { type: "range", class: "fr-range__input ch-range", id: `${idPrefix}-au`,
                           min: 0, max: days, step: 1 });
  start.value = String(from != null ? Math.min(days, Math.max(0, Math.round((dayStart(from) - lo) / DAY_MS))) : 0);
  end.value = String(to != null ? Math.min(days, Math.max(0, Math.round((dayStart(to) - lo) / DAY_MS))) : days);
  const shown = h("p", { class: "fr-hint-text ch-period__shown", id: `${idPrefix}-periode`, "aria-live": "polite" });
  const value = () => {
    const a = Math.min(Number(start.value), Number(end.value));
    const b = Math.max(Number(start.value), Number(end.value));
    return { from: lo + a * DAY_MS, to: lo + b * DAY_MS + DAY_MS - 1, full: a === 0 && b === days };
  };
  const say = () => {
    const v = value();
    shown.textContent = `Du ${shortDate(v.from)} au ${shortDate(v.to)}`;
    start.setAttribute("aria-valuetext", shortDate(v.from));
    end.setAttribute("aria-valuetext", shortDate(v.to));
  };
  for (const input of [start, end]) {
    input.addEventListener("input", () => { say(); onChange(value()); });
  }
  say();
  const box = h("fieldset", { class: "fr-fieldset ch-period" },
    h("legend", { class: "fr-fieldset__legend fr-text--regular" }, "Période"),
    h("div", { class: "ch-period__row" },
      h("label", { class: "fr-label", for: start.id }, "Début"), start),
    h("div", { class: "ch-period__row" },
      h("label", { class: "fr-label", for: end.id }, "Fin"), end),
    shown);
  return { element: box, value };
}

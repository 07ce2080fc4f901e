// Building the page from API answers: elements and text nodes only (never innerHTML), so no
// value received can become markup or script.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function alertBox(kind, message) {
  // kind: error | warning | info | success (DSFR alerts)
  return h("div", { class: `fr-alert fr-alert--${kind} fr-alert--sm fr-mb-2w`,
                    role: kind === "error" ? "alert" : "status" }, h("p", {}, message));
}

export function errorMessage(err) {
  if (err?.status === 403) return `Accès refusé : ${err.message}`;
  if (err?.status === 404) return "Rien à afficher : cet élément est inconnu ou ne vous est pas accessible.";
  // Details the message does not already say (the API often states the reason in both).
  const extra = (err?.details || []).filter((d) => d.reason && !(err.message || "").includes(d.reason));
  if (extra.length) return `${err.message} (${extra.map((d) => `${d.field} : ${d.reason}`).join(" ; ")})`;
  return err?.message || "Erreur inattendue.";
}

export function table(caption, headers, rows) {
  // The DSFR table wrapper scrolls on narrow screens: focusable, so the keyboard can scroll it.
  return h("div", { class: "fr-table fr-table--no-caption", tabindex: "0" },
    h("table", {},
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", {}, rows.map((row) => h("tr", {}, row.map((cell) => h("td", {}, cell)))))));
}

export function badge(text, kind = "info") {
  return h("p", { class: `fr-badge fr-badge--sm fr-badge--${kind}` }, text);
}

// Home: one search box (plate in any spelling, phone in any French format, place, free text).
import { api } from "../lib/api.js";
import { alertBox, clear, errorMessage, h } from "../lib/dom.js";
import { agency, kind as kindLabel } from "../lib/labels.js";
import { boot } from "../lib/shell.js";

const root = boot();
const PLATE = /^\s*[a-z]{2}[\s.-]*\d{3}[\s.-]*[a-z]{2}\s*$/i;
const PHONE = /^[\s+().0-9-]{8,}$/;

export function guessKind(q) {
  if (PLATE.test(q)) return "plate";
  if (PHONE.test(q) && q.replace(/\D/g, "").length >= 9) return "phone";
  return "text";
}

function entityHref(node) {
  return `/entites/${encodeURIComponent(node.kind)}/${encodeURIComponent(node.key)}`;
}

function renderResults(out, result) {
  clear(out);
  const total = result.entities.length + result.leads.length;
  out.append(h("p", { role: "status" }, total ? `${total} résultat(s) pour « ${result.q} ».`
                                                 : `Aucun résultat pour « ${result.q} ».`));
  if (result.entities.length) {
    out.append(h("h2", { class: "fr-h4" }, "Entités"),
      h("ul", { class: "ch-results" }, result.entities.map((m) => h("li", {},
        h("a", { href: entityHref(m.node) }, `${kindLabel(m.node.kind)} ${m.node.label}`),
        ` — ${m.lead_count} piste(s) consultable(s)`,
        m.match !== "exact" ? ` (correspondance ${m.match === "fuzzy" ? "approchée" : "partielle"}${m.reason ? ` : ${m.reason}` : ""})` : "",
        m.hits.length ? h("ul", {}, m.hits.map((hit) => h("li", { class: "ch-hit" },
          `Également détenu par ${agency(hit.agency)} (${hit.lead_count} piste(s)) — contact : ${hit.contact || "non communiqué"}`))) : null,
        " ",
        h("a", { class: "fr-link fr-icon-git-branch-line fr-link--icon-left",
                 href: `/graphe?depart=${encodeURIComponent(m.node.id)}` }, "Ouvrir dans le graphe")))));
  }
  if (result.leads.length) {
    out.append(h("h2", { class: "fr-h4" }, "Pistes"),
      h("ul", { class: "ch-results" }, result.leads.map((m) => h("li", {},
        h("a", { href: `/pistes/${encodeURIComponent(m.lead.key)}` }, m.lead.label)))));
  }
  if (result.truncated) out.append(alertBox("info", "Résultats tronqués : précisez la recherche."));
}

function render() {
  const params = new URLSearchParams(window.location.search);
  const out = h("div", { id: "resultats", "aria-live": "polite" });
  const input = h("input", { class: "fr-input", id: "q", name: "q", type: "search", required: true,
                             value: params.get("q") || "", autocomplete: "off" });
  const select = h("select", { class: "fr-select", id: "kind", name: "kind" },
    [["", "Détection automatique"], ["plate", "Immatriculation"], ["phone", "Téléphone"],
     ["place", "Lieu"], ["text", "Texte libre"]].map(([value, label]) =>
      h("option", { value, selected: (params.get("kind") || "") === value }, label)));
  const form = h("form", { role: "search", class: "ch-toolbar", id: "recherche" },
    h("div", { class: "fr-input-group" }, h("label", { class: "fr-label", for: "q" },
      "Rechercher", h("span", { class: "fr-hint-text" }, "Immatriculation (toute graphie), téléphone, lieu ou texte")), input),
    h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "kind" }, "Type"), select),
    h("button", { class: "fr-btn fr-icon-search-line fr-btn--icon-left", type: "submit" }, "Rechercher"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    const url = new URL(window.location.href);
    url.searchParams.set("q", q);
    if (select.value) url.searchParams.set("kind", select.value); else url.searchParams.delete("kind");
    window.history.pushState({}, "", url);
    run(out, q, select.value || guessKind(q));
  });
  clear(root).append(form, out);
  if (params.get("q")) run(out, params.get("q"), params.get("kind") || guessKind(params.get("q")));
}

async function run(out, q, kind) {
  clear(out).append(h("p", { class: "ch-loading", role: "status" }, "Recherche en cours…"));
  root.dataset.state = "loading";
  try {
    const query = { q, kind, limit: 50 };
    if (kind === "plate") query.fuzzy = "confusable";
    renderResults(out, await api("/api/v1/search", { query, consult: true }));
  } catch (err) {
    clear(out).append(alertBox("error", errorMessage(err)));
  }
  root.dataset.state = "ready";
}

window.addEventListener("popstate", render);
render();

// The triage board: the queue of leads as the API orders it (precision score by default), one
// page at a time (limit/offset: the board never loads the whole queue); per lead, a change of
// state along the lifecycle, assignment and outcome; hit rates per channel and connector; the
// cross-agency link alerts of the caller's agency.
//
// No lifecycle rule lives here: the API does not list the transitions a lead allows, so the form
// offers every other state and the API refuses what the lifecycle forbids, in its own French
// words, which the page shows as they come.
import { api, when } from "../lib/api.js";
import { AGENCIES, agency, kind as entityKind } from "../lib/labels.js";
import { alertBox, clear, errorMessage, h, table } from "../lib/dom.js";
import { boot, busyTracker } from "../lib/shell.js";

const root = boot();
const PAGE_SIZE = 25;

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
const busy = busyTracker(root);

// Vocabularies of the API (codes → French). Labels only: which of them applies is the API's call.
const STATES = {
  new: "Nouvelle", under_assessment: "En cours d'évaluation", assigned: "Attribuée",
  acted_on: "Exploitée", closed: "Clôturée", dismissed: "Écartée",
};
const OUTCOMES = {
  arrest: "Interpellation", seizure: "Saisie", no_follow_up: "Sans suite",
  transferred: "Transmise (hors CROSS)", other: "Autre (préciser en commentaire)",
};
const REASONS = {
  imprecise: "Imprécise", duplicate: "Doublon", out_of_scope: "Hors champ (urgence 17/112 ou simple nuisance)",
  malicious: "Malveillante", other: "Autre (préciser en commentaire)",
};
const LEAD_KINDS = {
  citizen_report: "Signalement citoyen", field_intelligence: "Renseignement de terrain",
  surveillance: "Surveillance", stop_check: "Contrôle", video_protection: "Vidéoprotection",
  arrest: "Interpellation", search: "Perquisition", seizure: "Saisie", landlord_report: "Signalement bailleur",
};
const CHANNELS = {
  citizen_platform: "Plateforme citoyenne", patrol: "Patrouille", investigation: "Enquête",
  informant: "Informateur", video: "Vidéo", customs_control: "Contrôle douanier", partner: "Partenaire",
};
const ORDERS = {
  score: "Score de précision (décroissant)", received: "Arrivée (plus anciennes d'abord)",
  updated: "Dernier changement (plus récent d'abord)",
};
// Which fields a target state takes (the request's shape, as the API documents it).
const FIELDS_FOR = { assigned: "assign", closed: "outcome", dismissed: "reason" };

const label = (map, code) => map[code] || code || "—";

// The API's message names the field and the reason its details repeat: say it once.
function refusal(err) {
  const details = err?.details || [];
  const repeated = details.length && details.every((d) => String(err.message || "").includes(d.reason));
  return errorMessage(repeated ? { status: err.status, message: err.message } : err);
}

function options(map, selected, { blank } = {}) {
  return [blank ? h("option", { value: "", selected: !selected, disabled: true }, blank) : null,
    ...Object.entries(map).map(([value, text]) => h("option", { value, selected: value === selected }, text))];
}

function selectGroup(id, text, select, hint) {
  return h("div", { class: "fr-select-group" },
    h("label", { class: "fr-label", for: id }, text, hint ? h("span", { class: "fr-hint-text" }, hint) : null), select);
}

function inputGroup(id, text, input, hint) {
  return h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, text, hint ? h("span", { class: "fr-hint-text" }, hint) : null), input);
}

// --- the queue ----------------------------------------------------------------------------------

function readFilters() {
  const q = new URLSearchParams(window.location.search);
  const state = q.get("etat") in STATES ? q.get("etat") : "new";
  const order = q.get("ordre") in ORDERS ? q.get("ordre") : "score";
  const service = q.get("service") in AGENCIES ? q.get("service") : "";
  const page = Math.max(1, Number.parseInt(q.get("page") || "1", 10) || 1);
  return { state, order, service, page };
}

function filtersUrl({ state, order, service, page }) {
  const q = new URLSearchParams({ etat: state, ordre: order });
  if (service) q.set("service", service);
  if (page > 1) q.set("page", String(page));
  return `${window.location.pathname}?${q}`;
}

function statusForm(item, index, onChanged) {
  const id = (name) => `${name}-${index}`;
  const target = h("select", { class: "fr-select", id: id("etat"), name: "state", required: true });
  const fillTargets = () => target.replaceChildren(...options(
    Object.fromEntries(Object.entries(STATES).filter(([code]) => code !== item.state)), "",
    { blank: "Choisir un état" }));
  fillTargets();
  const assignee = h("select", { class: "fr-select", id: id("service"), name: "assignee_agency" },
    options(AGENCIES, item.agency));
  const unit = h("input", { class: "fr-input", id: id("unite"), name: "unit", type: "text", maxlength: 200,
                            autocomplete: "off" });
  const outcome = h("select", { class: "fr-select", id: id("issue"), name: "outcome" }, options(OUTCOMES, "", { blank: "Choisir l'issue" }));
  const reason = h("select", { class: "fr-select", id: id("motif"), name: "reason" }, options(REASONS, "", { blank: "Choisir le motif" }));
  const note = h("textarea", { class: "fr-input", id: id("note"), name: "note", rows: 2, maxlength: 2000 });
  const groups = {
    assign: h("div", { class: "ch-status-extra" },
      selectGroup(id("service"), "Service attributaire", assignee),
      inputGroup(id("unite"), "Unité attributaire", unit, "Par exemple : BR Besançon, GIR 25")),
    outcome: h("div", { class: "ch-status-extra" }, selectGroup(id("issue"), "Issue", outcome)),
    reason: h("div", { class: "ch-status-extra" }, selectGroup(id("motif"), "Motif de mise à l'écart", reason)),
  };
  const controls = { assign: [assignee, unit], outcome: [outcome], reason: [reason] };
  const showFields = () => {
    const wanted = FIELDS_FOR[target.value];
    for (const [name, group] of Object.entries(groups)) {
      const on = name === wanted;
      group.hidden = !on;
      for (const control of controls[name]) { control.disabled = !on; control.required = on; }
    }
  };
  target.addEventListener("change", showFields);
  showFields();
  const status = h("div", { class: "ch-status-result", "aria-live": "polite" });
  const submit = h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Enregistrer le changement");
  const form = h("form", { class: "ch-status-form", dataset: { leadId: item.lead_id } },
    h("fieldset", { class: "fr-fieldset" },
      h("legend", { class: "fr-fieldset__legend fr-text--md" }, `Changer l'état de la piste ${item.lead_id}`,
        h("span", { class: "fr-hint-text" }, `État actuel : ${label(STATES, item.state)}. Le hub refuse les transitions que le cycle de vie ne permet pas et dit pourquoi.`)),
      h("div", { class: "fr-fieldset__element" }, selectGroup(id("etat"), "Nouvel état", target)),
      h("div", { class: "fr-fieldset__element" }, groups.assign, groups.outcome, groups.reason),
      h("div", { class: "fr-fieldset__element" },
        inputGroup(id("note"), "Commentaire", note, "Obligatoire si l'issue ou le motif est « autre »")),
      h("div", { class: "fr-fieldset__element" }, submit)),
    status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { expected_state: item.state, state: target.value, note: note.value.trim() };
    const extra = FIELDS_FOR[target.value];
    if (extra === "assign") Object.assign(body, { assignee_agency: assignee.value, unit: unit.value.trim() });
    if (extra === "outcome") body.outcome = outcome.value;
    if (extra === "reason") body.reason = reason.value;
    submit.disabled = true;
    try {
      const result = await api(`/api/v1/leads/${encodeURIComponent(item.lead_id)}/status`, { method: "POST", body });
      const before = item.state;
      Object.assign(item, { state: result.state, assignee_agency: result.assignee_agency, unit: result.unit });
      status.replaceChildren(alertBox("success",
        `État changé : « ${label(STATES, before)} » → « ${label(STATES, result.state)} » (changement n° ${result.seq}).`));
      form.querySelector(".fr-fieldset__legend .fr-hint-text").textContent =
        `État actuel : ${label(STATES, item.state)}. Le hub refuse les transitions que le cycle de vie ne permet pas et dit pourquoi.`;
      fillTargets();
      note.value = "";
      unit.value = "";
      showFields();
      onChanged(item);
    } catch (err) {
      status.replaceChildren(alertBox("error", refusal(err)));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function stateCell(item) {
  const text = label(STATES, item.state);
  const assigned = item.assignee_agency ? ` — ${agency(item.assignee_agency)}${item.unit ? `, ${item.unit}` : ""}` : "";
  return `${text}${assigned}`;
}

function queueRows(items, offset) {
  const rows = [];
  items.forEach((item, i) => {
    const index = offset + i + 1;
    const panelId = `traiter-${index}`;
    const state = h("td", { class: "ch-lead-state" }, stateCell(item));
    const toggle = h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "button",
                                 "aria-expanded": "false", "aria-controls": panelId },
      "Traiter", h("span", { class: "fr-sr-only" }, ` la piste ${item.lead_id}`));
    const panel = h("tr", { id: panelId, class: "ch-lead-actions", hidden: true },
      h("td", { colspan: 9 }));
    toggle.addEventListener("click", () => {
      const open = panel.hidden;
      if (open && !panel.firstChild.firstChild) {
        panel.firstChild.append(statusForm(item, index, (changed) => { state.textContent = stateCell(changed); }));
      }
      panel.hidden = !open;
      toggle.setAttribute("aria-expanded", String(open));
      if (open) panel.querySelector("select")?.focus();
    });
    rows.push(h("tr", { class: "ch-lead-row", dataset: { leadId: item.lead_id, score: item.score ?? "" } },
      h("td", { class: "ch-score" }, item.score ?? "—"),
      h("td", {}, h("a", { href: `/pistes/${encodeURIComponent(item.lead_id)}` }, item.lead_id)),
      h("td", {}, label(LEAD_KINDS, item.kind)),
      h("td", {}, agency(item.agency)),
      h("td", {}, label(CHANNELS, item.channel)),
      h("td", {}, when(item.reported_at)),
      h("td", {}, item.insee_code || "—"),
      state,
      h("td", {}, toggle)), panel);
  });
  return rows;
}

function pagination(filters, more, go) {
  const link = (text, page, cls, enabled) => h("li", {}, enabled
    ? h("a", { class: `fr-pagination__link ${cls} fr-pagination__link--lg-label`, href: filtersUrl({ ...filters, page }),
               onclick: (event) => { event.preventDefault(); go({ ...filters, page }); } }, text)
    : h("a", { class: `fr-pagination__link ${cls} fr-pagination__link--lg-label`, "aria-disabled": "true", role: "link" }, text));
  return h("nav", { class: "fr-pagination fr-mt-2w", role: "navigation", "aria-label": "Pages de la file de triage" },
    h("ul", { class: "fr-pagination__list" },
      link("Page précédente", filters.page - 1, "fr-pagination__link--prev", filters.page > 1),
      h("li", {}, h("a", { class: "fr-pagination__link", "aria-current": "page", title: `Page ${filters.page}` }, String(filters.page))),
      link("Page suivante", filters.page + 1, "fr-pagination__link--next", more)));
}

function queueSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-file" },
    h("h2", { class: "fr-h4", id: "titre-file" }, "File de triage"));
  const filters = readFilters();
  const state = h("select", { class: "fr-select", id: "filtre-etat", name: "etat" }, options(STATES, filters.state));
  const order = h("select", { class: "fr-select", id: "filtre-ordre", name: "ordre" }, options(ORDERS, filters.order));
  const service = h("select", { class: "fr-select", id: "filtre-service", name: "service" },
    h("option", { value: "", selected: !filters.service }, "Tous les services"), options(AGENCIES, filters.service));
  const form = h("form", { class: "ch-toolbar", id: "filtres-file", "aria-label": "Filtres de la file de triage" },
    selectGroup("filtre-etat", "État", state),
    selectGroup("filtre-ordre", "Ordre", order),
    selectGroup("filtre-service", "Service d'origine", service),
    h("button", { class: "fr-btn", type: "submit" }, "Afficher"));
  const out = h("div", { id: "file-triage" });
  section.append(form, out);

  const load = (wanted, how) => busy(() => loadPage(wanted, how));
  async function loadPage(wanted, { push = false } = {}) {
    if (push) window.history.pushState(null, "", filtersUrl(wanted));
    out.replaceChildren(h("p", { class: "ch-loading", role: "status" }, "Chargement de la file…"));
    const offset = (wanted.page - 1) * PAGE_SIZE;
    let items;
    try {
      // One more than a page: whether a next page exists, without counting the whole queue.
      items = await api("/api/v1/triage/queue", { query: {
        state: wanted.state, order: wanted.order, agency: wanted.service || undefined,
        limit: PAGE_SIZE + 1, offset } });
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
      return;
    }
    const more = items.length > PAGE_SIZE;
    const shown = items.slice(0, PAGE_SIZE);
    clear(out);
    out.append(h("p", { role: "status", id: "file-resume" }, shown.length
      ? `Pistes ${offset + 1} à ${offset + shown.length} à l'état « ${label(STATES, wanted.state)} », ordre : ${ORDERS[wanted.order].toLowerCase()}.`
      : `Aucune piste à l'état « ${label(STATES, wanted.state)} »${wanted.page > 1 ? " sur cette page" : ""}.`));
    if (shown.length) {
      out.append(h("div", { class: "fr-table fr-table--no-caption ch-queue" },
        h("table", { id: "table-file" },
          h("caption", {}, "File de triage"),
          h("thead", {}, h("tr", {}, ["Score", "Piste", "Nature", "Service", "Canal", "Signalée le", "Commune (INSEE)", "État", "Action"]
            .map((x) => h("th", { scope: "col" }, x)))),
          h("tbody", {}, queueRows(shown, offset)))));
    }
    if (shown.length || wanted.page > 1) out.append(pagination(wanted, more, (next) => load(next, { push: true })));
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load({ state: state.value, order: order.value, service: service.value, page: 1 }, { push: true });
  });
  window.addEventListener("popstate", () => {
    const now = readFilters();
    state.value = now.state; order.value = now.order; service.value = now.service;
    load(now);
  });
  load(filters);
  return section;
}

// --- hit rates ----------------------------------------------------------------------------------

function percent(rate) {
  return rate == null ? "—" : `${(rate * 100).toLocaleString("fr-FR", { maximumFractionDigits: 1 })} %`;
}

function rateRows(rates) {
  return rates.map((r) => [r.label_fr, r.resolved, r.closed, r.dismissed, r.hits, percent(r.rate)]);
}

function hitRatesSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-taux" },
    h("h2", { class: "fr-h4", id: "titre-taux" }, "Taux de réussite par canal et par connecteur"));
  const since = h("input", { class: "fr-input", type: "date", id: "taux-depuis", name: "since" });
  const until = h("input", { class: "fr-input", type: "date", id: "taux-jusqua", name: "until" });
  const form = h("form", { class: "ch-toolbar", "aria-label": "Période des taux de réussite" },
    inputGroup("taux-depuis", "Depuis le", since, "Inclus"),
    inputGroup("taux-jusqua", "Jusqu'au", until, "Exclu"),
    h("button", { class: "fr-btn fr-btn--secondary", type: "submit" }, "Calculer"));
  const out = h("div", { id: "taux-reussite", "aria-live": "polite" });
  section.append(form, out);
  const day = (value) => (value ? new Date(`${value}T00:00:00`).toISOString() : undefined);

  const load = () => busy(loadRates);
  async function loadRates() {
    let rates;
    try {
      rates = await api("/api/v1/stats/hit-rates", { query: { since: day(since.value), until: day(until.value) } });
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
      return;
    }
    const headers = ["", "Résolues", "Clôturées", "Écartées", "Succès", "Taux de réussite"];
    out.replaceChildren(
      h("p", {}, `Succès : piste clôturée par ${rates.hit_outcomes.map((o) => label(OUTCOMES, o).toLowerCase()).join(" ou ")}. `,
        `Ensemble : ${rates.overall.hits} succès sur ${rates.overall.resolved} piste(s) résolue(s) (${percent(rates.overall.rate)}).`),
      rates.by_channel.length
        ? h("div", { id: "taux-canal" }, table("Taux de réussite par canal", ["Canal", ...headers.slice(1)], rateRows(rates.by_channel)))
        : h("p", {}, "Par canal : aucune piste résolue sur la période."),
      rates.by_connector.length
        ? h("div", { id: "taux-connecteur" }, table("Taux de réussite par connecteur", ["Connecteur", ...headers.slice(1)], rateRows(rates.by_connector)))
        : h("p", {}, "Par connecteur : aucune piste résolue sur la période."));
  }
  form.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
  return section;
}

// --- link alerts --------------------------------------------------------------------------------

// A place may gather dozens of one's own leads: a few shown, the rest one click away.
function ownLeads(ids) {
  const list = (some) => h("ul", { class: "ch-plain-list" }, some.map((id) => h("li", {},
    h("a", { href: `/pistes/${encodeURIComponent(id)}` }, id))));
  if (ids.length <= 3) return list(ids);
  return h("div", {}, list(ids.slice(0, 2)),
    h("details", {}, h("summary", {}, `et ${ids.length - 2} autre(s) piste(s)`), list(ids.slice(2))));
}

function linkAlertsSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-liens" },
    h("h2", { class: "fr-h4", id: "titre-liens" }, "Liens entre services"),
    h("p", { class: "fr-text--sm" }, "Entités sur lesquelles une de vos pistes rejoint celles d'un autre service : "
      + "le hub dit qui détient combien de pistes et qui contacter, jamais leur contenu."));
  const out = h("div", { id: "alertes-liens" }, h("p", { class: "ch-loading", role: "status" }, "Chargement…"));
  section.append(out);
  busy(async () => {
    try {
      const alerts = await api("/api/v1/link-alerts", { consult: true });
      out.replaceChildren(alerts.length ? table("Liens entre services",
        ["Levée le", "Entité", "Vos pistes", "Détenu aussi par"],
        alerts.map((a) => [
          when(a.created_at),
          h("a", { href: `/entites/${encodeURIComponent(a.entity_kind)}/${encodeURIComponent(a.entity_key)}` },
            `${entityKind(a.entity_kind)} ${a.entity_key}`),
          ownLeads(a.own_lead_ids),
          h("ul", { class: "ch-plain-list" }, a.holdings.map((x) => h("li", {},
            `${x.agency_label_fr} : ${x.lead_count} piste(s) — contact : ${x.contact_fr || "non communiqué"}`))),
        ])) : h("p", {}, "Aucun lien avec un autre service."));
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
    }
  });
  return section;
}

clear(root).append(queueSection(), hitRatesSection(), linkAlertsSection());

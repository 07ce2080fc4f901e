// The audit trail, for auditors: the integrity check of the hash chain and its signed
// checkpoints as a status, and the entries searchable with the API's own filters
// (GET /api/v1/audit: period, user, agency, operation, lead, entity, decision, exact entries),
// newest first.
import { api, when } from "../lib/api.js";
import { alertBox, badge, clear, errorMessage, h, table } from "../lib/dom.js";
import { AGENCIES, agency } from "../lib/labels.js";
import { boot } from "../lib/shell.js";

const root = boot();

const ACTIONS = {
  collection: "Collecte", alteration: "Modification", consultation: "Consultation",
  disclosure: "Communication", combination: "Interconnexion", erasure: "Effacement",
  authentication: "Authentification", log_recovery: "Reprise du journal",
  log_opened: "Ouverture d'un segment du journal", backup: "Sauvegarde", restore: "Restauration",
  log_archived: "Archivage d'un segment du journal",
  log_archive_deleted: "Suppression d'une archive du journal (conservation échue)",
  configuration: "Déploiement des règles",
};
const OUTCOMES = {
  full: ["accès complet", "info"], redacted: ["accès expurgé", "info"], hit: ["hit/no-hit", "new"],
  none: ["aucun accès", "warning"], allow: ["autorisé", "success"], deny: ["refusé", "error"],
  not_applicable: ["sans objet", "info"],
};
const PAGE_SIZES = ["50", "100", "500"];
const SHOWN_IDS = 5;

// "2026-02-03" → midnight of that day in Paris, as an aware ISO datetime the API accepts.
function parisMidnight(day) {
  const probe = new Date(`${day}T00:00:00Z`);
  const offset = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", timeZoneName: "longOffset" })
    .formatToParts(probe).find((p) => p.type === "timeZoneName")?.value.replace("GMT", "");
  return `${day}T00:00:00${offset || "+00:00"}`;
}

function nextDay(day) {
  const date = new Date(`${day}T00:00:00Z`);
  date.setUTCDate(date.getUTCDate() + 1);
  return date.toISOString().slice(0, 10);
}

// A table wider than the page scrolls: reachable from the keyboard (RGAA, axe
// scrollable-region-focusable).
function scrollable(wrapper) {
  wrapper.querySelector("table")?.setAttribute("tabindex", "0");
  return wrapper;
}

function ids(list) {
  if (!list?.length) return null;
  const shown = list.slice(0, SHOWN_IDS).join(", ");
  return list.length > SHOWN_IDS ? `${shown} et ${list.length - SHOWN_IDS} autre(s)` : shown;
}

// A writer id (ADR 0012) as a person reads it: what kind of process, on which host, which pid.
function shortSegment(name) {
  const m = /^(\d{8}T\d{6,12}Z)-([a-z]+)-(.+)-(\d+)-[0-9a-f]{6}$/.exec(name || "");
  if (!m) return name || "—";
  const kind = { hub: "hub", cli: "commande", job: "tâche" }[m[2]] || m[2];
  return `${kind} ${m[3]} (pid ${m[4]})`;
}

async function integrity(box) {
  try {
    const report = await api("/api/v1/audit/integrity");
    clear(box).append(report.ok
      ? alertBox("success", `Journal intègre : ${report.summary}.`)
      : alertBox("error", `Intégrité du journal compromise : ${report.summary}`));
  } catch (err) {
    clear(box).append(alertBox("error", `Vérification d'intégrité impossible : ${errorMessage(err)}`));
  }
}

function select(id, name, label, options, value) {
  return h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: id }, label),
    h("select", { class: "fr-select", id, name },
      options.map(([v, text]) => h("option", { value: v, selected: v === (value || "") }, text))));
}

function input(id, name, label, value, attrs = {}) {
  return h("div", { class: "fr-input-group" }, h("label", { class: "fr-label", for: id }, label),
    h("input", { class: "fr-input", id, name, value: value || "", autocomplete: "off", ...attrs }));
}

function entryRow(e) {
  const [label, kind] = OUTCOMES[e.decision.outcome] || [e.decision.outcome, "info"];
  const actor = e.actor.kind === "system" ? "le hub"
    : `${e.actor.name} (${e.actor.user_id}, ${agency(e.actor.agency)}, ${e.actor.role})`;
  const objects = [e.lead_ids?.length ? `Pistes : ${ids(e.lead_ids)}` : null,
                   e.entity_keys?.length ? `Entités : ${ids(e.entity_keys)}` : null].filter(Boolean);
  const details = Object.entries(e.details || {}).map(([k, v]) => `${k} = ${v}`).join(" ; ");
  // seq counts within the writer's segment (one per hub process or command, ADR 0012).
  return [h("span", { title: `segment ${e.segment}` }, `${String(e.seq)} · ${shortSegment(e.segment)}`), when(e.at), ACTIONS[e.action] || e.action, actor,
    [badge(label, kind), ` règle ${e.decision.rule_id}`],
    objects.length ? objects.flatMap((x, i) => (i ? [h("br"), x] : [x])) : "—",
    e.justification || "—", e.recipients?.length ? ids(e.recipients) : "—",
    e.client_address || e.connector_id || "—", details || "—"];
}

async function search(out, query, limit, offset, go) {
  clear(out).append(h("p", { class: "ch-loading", role: "status" }, "Recherche dans le journal…"));
  let entries;
  try {
    entries = await api("/api/v1/audit", { query: { ...query, limit, offset } });
  } catch (err) {
    clear(out).append(alertBox("error", errorMessage(err)));
    return;
  }
  const first = offset + 1;
  clear(out).append(
    h("p", { role: "status", id: "journal-resultat" }, entries.length
      ? `Entrées ${first} à ${offset + entries.length}, les plus récentes d'abord.`
      : "Aucune entrée ne correspond à ces critères."),
    entries.length ? scrollable(table("Entrées du journal d'audit",
      ["N° · segment", "Date", "Opération", "Auteur", "Décision", "Objet", "Motif", "Destinataires", "Origine", "Détails"],
      entries.map(entryRow))) : null,
    h("nav", { class: "ch-toolbar", "aria-label": "Pages du journal" },
      offset > 0 ? h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "button",
                                 onclick: () => go(Math.max(0, offset - limit)) }, "Entrées plus récentes") : null,
      entries.length === limit ? h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "button",
                                               onclick: () => go(offset + limit) }, "Entrées plus anciennes") : null));
}

// The DPD's weekly report (GET /api/v1/dpd/weekly, ADR 0030), downloaded with its own motif:
// reading it is a consultation of the trail, logged.
async function downloadReport(form, format, status) {
  const data = new FormData(form);
  const week = String(data.get("semaine") || "").trim();
  status.replaceChildren(h("p", { class: "ch-loading", role: "status" }, "Préparation du rapport…"));
  try {
    const response = await api("/api/v1/dpd/weekly", { raw: true, query: {
      week: week || undefined, format, justification: String(data.get("motif-dpd") || "").trim() } });
    const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1]
      || `controle-dpd-${week || "derniere-semaine"}.${format}`;
    const url = URL.createObjectURL(await response.blob());
    const link = h("a", { href: url, download: name, class: "ch-visually-hidden" }, name);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    status.replaceChildren(alertBox("success", `Rapport téléchargé : ${name}.`));
  } catch (err) {
    status.replaceChildren(alertBox("error", errorMessage(err)));
  }
}

function dpdSection() {
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { id: "controle-dpd", class: "ch-audit-filters" },
    input("semaine", "semaine", "Semaine (AAAA-Www, p. ex. 2026-W49 ; vide : la dernière complète)", ""),
    input("motif-dpd", "motif-dpd", "Motif de la lecture", ""),
    h("div", { class: "ch-audit-filters__actions" },
      h("button", { class: "fr-btn fr-btn--secondary", type: "button",
                    onclick: () => downloadReport(form, "html", status) }, "Rapport (HTML)"),
      h("button", { class: "fr-btn fr-btn--secondary", type: "button",
                    onclick: () => downloadReport(form, "pdf", status) }, "Rapport (PDF)")));
  return h("section", { class: "fr-mt-4w", "aria-labelledby": "titre-dpd" },
    h("h2", { class: "fr-h4", id: "titre-dpd" }, "Contrôle du DPD"),
    h("p", {}, "Constats de la semaine (consultations au-dessus des pairs, hors heures, motifs "
      + "réutilisés ou vides de sens, rafales, communications), chacun avec ses entrées du journal."),
    form, status);
}

function render() {
  const params = new URLSearchParams(window.location.search);
  const integrityBox = h("div", { id: "integrite", "aria-live": "polite" },
    h("p", { class: "ch-loading" }, "Vérification de l'intégrité du journal…"));
  const out = h("div", { id: "journal", "aria-live": "polite" });
  const form = h("form", { id: "filtres-journal", class: "ch-audit-filters", role: "search" },
    input("du", "du", "Du", params.get("du"), { type: "date" }),
    input("au", "au", "Au (inclus)", params.get("au"), { type: "date" }),
    input("utilisateur", "utilisateur", "Utilisateur (service:nom)", params.get("utilisateur")),
    select("service", "service", "Service", [["", "Tous"], ...Object.entries(AGENCIES)], params.get("service")),
    select("operation", "operation", "Opération", [["", "Toutes"], ...Object.entries(ACTIONS)], params.get("operation")),
    select("decision", "decision", "Décision", [["", "Toutes"], ...Object.entries(OUTCOMES).map(([k, [l]]) => [k, l])], params.get("decision")),
    input("piste", "piste", "Piste (identifiant)", params.get("piste")),
    input("entite", "entite", "Entité (type:clé)", params.get("entite")),
    // The DPD's report links to the exact entries behind a finding (ADR 0030).
    input("entrees", "entrees", "Entrées (segment:numéro, séparées par des virgules)", params.get("entrees")),
    select("taille", "taille", "Entrées par page", PAGE_SIZES.map((n) => [n, n]), params.get("taille") || "100"),
    h("div", { class: "ch-audit-filters__actions" },
      h("button", { class: "fr-btn fr-icon-search-line fr-btn--icon-left", type: "submit" }, "Rechercher"),
      h("button", { class: "fr-btn fr-btn--tertiary", type: "button", onclick: () => {
        for (const el of form.elements) if (el.name && el.name !== "taille") el.value = "";
        run(0);
      } }, "Effacer les filtres")));
  clear(root).append(
    h("section", { "aria-labelledby": "titre-integrite" }, h("h2", { class: "fr-h4", id: "titre-integrite" }, "Intégrité"),
      integrityBox, h("button", { class: "fr-btn fr-btn--sm fr-btn--secondary", type: "button",
                                  onclick: () => integrity(integrityBox) }, "Vérifier à nouveau")),
    h("section", { class: "fr-mt-4w", "aria-labelledby": "titre-recherche" },
      h("h2", { class: "fr-h4", id: "titre-recherche" }, "Rechercher dans le journal"), form, out),
    dpdSection());

  const run = (offset) => {
    const data = new FormData(form);
    const value = (name) => String(data.get(name) || "").trim();
    const query = {
      since: value("du") ? parisMidnight(value("du")) : undefined,
      until: value("au") ? parisMidnight(nextDay(value("au"))) : undefined,
      user_id: value("utilisateur"), agency: value("service"), action: value("operation"),
      outcome: value("decision"), lead_id: value("piste"), entity_key: value("entite"),
      entry: value("entrees") ? value("entrees").split(",").map((x) => x.trim()).filter(Boolean) : undefined,
    };
    const kept = new URLSearchParams([...data.entries()].filter(([, v]) => String(v).trim()));
    window.history.replaceState(null, "", `/journal${kept.size ? `?${kept}` : ""}`);
    const limit = Number(value("taille")) || 100;
    search(out, query, limit, offset, run);
  };
  form.addEventListener("submit", (event) => { event.preventDefault(); run(0); });
  integrity(integrityBox);
  run(0);
}

render();

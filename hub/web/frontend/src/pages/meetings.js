// The meeting room: the CROSS's weekly meeting — create it, read its generated agenda (what is
// new, what links agencies, what needs a decision, follow-up of earlier actions), record the
// decisions taken as actions, follow them up, and download one's own brief (HTML/PDF).
// Everything comes from /api/v1/meetings with the caller's session: the agenda and the brief
// are the caller's copy, cut by the API to what they may see. The create and record forms are
// shown only if the API accepts them from this caller (asked once, see `mayManage`).
import { api, when } from "../lib/api.js";
import { alertBox, badge, clear, errorMessage, h, table } from "../lib/dom.js";
import { meetingSection as federationSection } from "../lib/federation.js";
import { AGENCIES, HANDLING, agency } from "../lib/labels.js";
import { boot } from "../lib/shell.js";

const root = boot();

const STATUS = { open: "En cours", done: "Réalisée", cancelled: "Annulée" };
const DIRECTION = { hausse: "en hausse", baisse: "en baisse", nouveau: "nouveau foyer" };
// Lead kinds (hub.contract.lead.LEAD_KIND_LABELS_FR).
const LEAD_KINDS = {
  citizen_report: "Signalement citoyen", field_intelligence: "Renseignement de terrain",
  surveillance: "Surveillance", stop_check: "Contrôle", video_protection: "Vidéoprotection",
  arrest: "Interpellation", search: "Perquisition", seizure: "Saisie", landlord_report: "Signalement bailleur",
};
const leadKind = (code) => LEAD_KINDS[code] || code;
const LEAD_ACCESS = { full: "accès complet", redacted: "version expurgée" };

// --- weeks -------------------------------------------------------------------------------------

// The ISO week of today in Paris ("2026-W07"), the meeting's default.
export function currentWeek(now = new Date()) {
  const [y, m, d] = new Intl.DateTimeFormat("en-CA", {
    timeZone: "Europe/Paris", year: "numeric", month: "2-digit", day: "2-digit",
  }).format(now).split("-").map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  const weekday = date.getUTCDay() || 7;
  date.setUTCDate(date.getUTCDate() + 4 - weekday); // the Thursday of this week names its year
  const yearStart = Date.UTC(date.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((date.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${date.getUTCFullYear()}-W${String(week).padStart(2, "0")}`;
}

const frDate = new Intl.DateTimeFormat("fr-FR", { dateStyle: "medium", timeZone: "UTC" });
function day(iso) {
  if (!iso) return "—";
  const date = new Date(`${String(iso).slice(0, 10)}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? String(iso) : frDate.format(date);
}

// --- may the caller manage meetings? -----------------------------------------------------------

// The API decides (meetings.manage): an empty creation is refused 403 to a caller who may not
// create a meeting, and 422 (nothing created: the body is incomplete) to one who may.
async function mayManage() {
  try {
    await api("/api/v1/meetings", { method: "POST", body: {} });
    return true; // not expected: an empty body is never accepted
  } catch (err) {
    return err.status === 422;
  }
}

// --- small pieces ------------------------------------------------------------------------------

function marking(code) {
  return h("span", { class: `ch-meeting-code ch-marking--${code}`, title: HANDLING[code] || code }, code);
}

function section(id, title, ...content) {
  return h("section", { class: "ch-meeting-section fr-mt-4w", "aria-labelledby": id },
    h("h2", { class: "fr-h4", id }, title), ...content);
}

function leadLink(ref) {
  return h("a", { href: `/pistes/${encodeURIComponent(ref.lead_id)}` }, ref.lead_id);
}

function hitsList(hits) {
  if (!hits?.length) return null;
  return h("ul", { class: "ch-meeting-hits" }, hits.map((x) => h("li", { class: "ch-hit" },
    `${agency(x.agency)} détient ${x.lead_count} piste(s) que vous ne pouvez pas consulter — contact : ${x.contact || "non communiqué"}`)));
}

function countsTable(caption, headers, counts, label) {
  const rows = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]).map(([k, n]) => [label(k), String(n)]);
  return rows.length ? table(caption, headers, rows) : null;
}

function field(id, label, input, hint) {
  return h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, label, hint ? h("span", { class: "fr-hint-text" }, hint) : null),
    input);
}

function splitIds(text) {
  return text.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
}

// Downloads the caller's brief through the API (the motif rides along as `justification`).
async function downloadBrief(meetingId, format, status) {
  status.replaceChildren(h("p", { class: "ch-loading" }, "Préparation de la note…"));
  try {
    const response = await api(`/api/v1/meetings/${encodeURIComponent(meetingId)}/brief.${format}`,
                               { consult: true, raw: true });
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const name = /filename="([^"]+)"/.exec(disposition)?.[1] || `note-${meetingId}.${format}`;
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: name, class: "ch-visually-hidden" }, name);
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    const code = response.headers.get("X-Handling-Code");
    status.replaceChildren(alertBox("success", `Note téléchargée : ${name}${code ? ` (marquage ${code})` : ""}.`));
  } catch (err) {
    status.replaceChildren(alertBox("error", errorMessage(err)));
  }
}

// --- the agenda --------------------------------------------------------------------------------

function newLeads(n) {
  return section("odj-nouveau", "Ce qui est nouveau",
    h("p", {}, marking(n.handling_code), " ",
      `${n.visible} nouvelle(s) piste(s) consultable(s) depuis la dernière réunion`,
      n.unlocated ? `, dont ${n.unlocated} non localisée(s)` : "", "."),
    h("div", { class: "ch-meeting-counts" },
      countsTable("Par service", ["Service", "Pistes"], n.by_agency, agency),
      countsTable("Par type", ["Type", "Pistes"], n.by_kind, leadKind),
      countsTable("Par commune", ["Commune", "Pistes"], n.by_commune, (k) => n.commune_names?.[k] || k)),
    hitsList(n.hits));
}

function links(agenda) {
  const items = agenda.cross_agency_links;
  const content = items.length ? h("ul", { class: "ch-meeting-links" }, items.map((link) => h("li", {},
    h("p", { class: "fr-mb-1v" }, marking(link.handling_code), " ",
      h("strong", {}, link.label),
      ` — ${link.agencies.map(agency).join(", ")} · ${link.new_lead_count} nouvelle(s) piste(s)`,
      link.link_alert_id ? " · alerte de lien émise" : "", " ",
      h("a", { class: "fr-link fr-link--sm", href: `/graphe?depart=${encodeURIComponent(link.entity_id)}` }, "ouvrir dans le graphe")),
    link.leads.length ? h("ul", {}, link.leads.map((ref) => h("li", {}, leadLink(ref),
      ` — ${agency(ref.agency)}, ${leadKind(ref.kind)}, ${ref.handling_code}, ${LEAD_ACCESS[ref.access] || ref.access}`,
      ref.commune ? `, ${ref.commune}` : ""))) : null,
    hitsList(link.hits))))
    : h("p", {}, "Aucun lien nouveau entre services.");
  return section("odj-liens", "Ce qui relie les services",
    agenda.cross_agency_links_total > items.length
      ? h("p", {}, `${items.length} lien(s) affiché(s) sur ${agenda.cross_agency_links_total}.`) : null,
    content);
}

function decisions(agenda) {
  const parts = [];
  if (agenda.pending_disclosures.length) {
    parts.push(table("Demandes de communication en attente",
      ["Piste", "Service détenteur", "Demandée le", "Réponse attendue le", "Marquage"],
      agenda.pending_disclosures.map((d) => [leadLink(d), agency(d.owner_agency), when(d.created_at),
        // Past its deadline (ADR 0023): flagged, and escalated once the job told the coordinators.
        [d.due_at ? when(d.due_at) : "—", d.overdue ? [" ", badge(d.escalated ? "délai dépassé, escaladée" : "délai dépassé", "warning")] : null],
        marking(d.handling_code)])),
    h("p", {}, h("a", { class: "fr-link", href: "/communications" }, "Traiter les demandes de communication")));
  }
  if (agenda.deconfliction_alerts.length) {
    parts.push(table("Alertes de déconfliction ouvertes", ["Ouverte le", "Services", "Pistes", "Marquage"],
      agenda.deconfliction_alerts.map((a) => [when(a.opened_at), a.agencies.map(agency).join(", "),
        a.lead_ids.length ? a.lead_ids.map((id) => leadLink({ lead_id: id })).flatMap((x, i) => (i ? [", ", x] : [x])) : "—",
        marking(a.handling_code)])),
    h("p", {}, h("a", { class: "fr-link", href: "/deconfliction" }, "Voir la déconfliction")));
  }
  const t = agenda.triage;
  parts.push(h("p", {}, marking(t.handling_code), " ", `${t.visible} piste(s) en attente de tri.`, " ",
    h("a", { class: "fr-link", href: "/tri" }, "Ouvrir le tri")));
  if (t.leads.length) {
    parts.push(table("Pistes à trier", ["Piste", "Service", "Type", "Commune", "Marquage"],
      t.leads.map((ref) => [leadLink(ref), agency(ref.agency), leadKind(ref.kind), ref.commune || "—", marking(ref.handling_code)])));
  }
  parts.push(hitsList(t.hits));
  if (agenda.hotspots.length) {
    parts.push(table("Points chauds", ["Commune", "Pistes", "Moyenne habituelle", "Tendance", "Marquage"],
      agenda.hotspots.map((x) => [x.commune || x.insee_code, String(x.count), x.baseline_mean.toFixed(1),
        DIRECTION[x.direction] || x.direction, marking(x.handling_code)])));
  }
  return section("odj-decider", "Ce qui appelle une décision", ...parts);
}

function followUp(action, onChange) {
  const id = `statut-${action.action_id}`;
  const select = h("select", { class: "fr-select", id },
    Object.entries(STATUS).map(([value, label]) => h("option", { value, selected: value === action.status }, label)));
  const status = h("span", { "aria-live": "polite" });
  const form = h("form", { class: "ch-meeting-follow" },
    h("label", { class: "fr-label ch-visually-hidden", for: id }, `Statut de l'action ${action.title || action.action_id}`),
    select,
    h("button", { class: "fr-btn fr-btn--sm fr-btn--secondary", type: "submit" }, "Mettre à jour"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/meetings/actions/${encodeURIComponent(action.action_id)}`,
                { method: "PATCH", body: { status: select.value } });
      onChange(`Action « ${action.title || action.action_id} » : ${STATUS[select.value]}.`);
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

function actionsTable(caption, actions, onChange) {
  const wrapper = table(caption, ["Action", "Réunion", "Pilote", "Chargé", "Échéance", "Statut", "Marquage", "Suivi"],
    actions.map((a) => [
      a.withheld ? h("span", { class: "ch-withheld" }, "Intitulé retenu : l'action vise une piste que vous ne pouvez pas consulter")
                 : a.title,
      a.week || a.meeting_id, agency(a.lead_agency), a.tasked, day(a.deadline),
      [STATUS[a.status] || a.status, a.overdue ? [" ", badge("en retard", "warning")] : null],
      marking(a.handling_code), followUp(a, onChange)]));
  wrapper.querySelector("table").setAttribute("tabindex", "0"); // scrolls on a narrow screen: keyboard-reachable
  return wrapper;
}

function actionForm(meetingId, onDone) {
  const title = h("input", { class: "fr-input", id: "action-titre", name: "title", required: true, maxlength: 200 });
  const pilot = h("select", { class: "fr-select", id: "action-pilote", name: "lead_agency", required: true },
    h("option", { value: "" }, "Choisir le service pilote"),
    Object.entries(AGENCIES).map(([value, label]) => h("option", { value }, label)));
  const tasked = h("input", { class: "fr-input", id: "action-charge", name: "tasked", required: true, maxlength: 200 });
  const deadline = h("input", { class: "fr-input", id: "action-echeance", name: "deadline", type: "date", required: true });
  const leads = h("input", { class: "fr-input", id: "action-pistes", name: "lead_ids", autocomplete: "off" });
  const entities = h("input", { class: "fr-input", id: "action-entites", name: "entity_ids", autocomplete: "off" });
  const code = h("select", { class: "fr-select", id: "action-code", name: "handling_code" },
    h("option", { value: "" }, "Celui des pistes visées"),
    Object.entries(HANDLING).map(([value, label]) => h("option", { value }, label)));
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { id: "form-decision", class: "ch-meeting-form" },
    field("action-titre", "Décision ou action", title, "Sans identifiant brut (ni nom, ni immatriculation)"),
    h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "action-pilote" }, "Service pilote"), pilot),
    field("action-charge", "Service ou unité chargé(e)", tasked),
    field("action-echeance", "Échéance", deadline),
    field("action-pistes", "Pistes visées (facultatif)", leads, "Identifiants séparés par des espaces ou des virgules"),
    field("action-entites", "Entités visées (facultatif)", entities, "type:clé, p. ex. vehicle:AB-123-CD"),
    h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "action-code" }, "Code de traitement"), code),
    h("button", { class: "fr-btn", type: "submit" }, "Enregistrer la décision"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { title: title.value.trim(), lead_agency: pilot.value, tasked: tasked.value.trim(),
                   deadline: deadline.value, lead_ids: splitIds(leads.value), entity_ids: splitIds(entities.value) };
    if (code.value) body.handling_code = code.value;
    try {
      const made = await api(`/api/v1/meetings/${encodeURIComponent(meetingId)}/actions`, { method: "POST", body });
      onDone(`Décision enregistrée : « ${made.title || made.action_id} ».`);
    } catch (err) {
      if (err.status === 403) form.replaceWith(alertBox("info", errorMessage(err)));
      else status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

async function showAgenda(box, meetingId, manage, notice) {
  clear(box).append(h("p", { class: "ch-loading", role: "status" }, "Chargement de l'ordre du jour…"));
  let agenda;
  try {
    agenda = await api(`/api/v1/meetings/${encodeURIComponent(meetingId)}/agenda`, { consult: true });
  } catch (err) {
    clear(box).append(alertBox(err.status === 404 ? "info" : "error", err.status === 404
      ? "Cette réunion n'a pas encore été créée : le chef de la CROSS la crée pour la semaine." : errorMessage(err)));
    return;
  }
  const m = agenda.meeting;
  const reload = (message) => showAgenda(box, meetingId, manage, message);
  const briefStatus = h("div", { "aria-live": "polite" });
  clear(box).append(
    notice ? alertBox("success", notice) : null,
    h("h2", { class: "fr-h3", id: "titre-reunion" }, `Réunion CROSS ${m.departement} — semaine ${m.week}`),
    h("p", {}, `Du ${when(m.starts_at)} au ${when(m.ends_at)} (exclu). Ordre du jour établi le ${when(agenda.generated_at)} `,
      `pour ${agency(agenda.participant_agency)}, nouveautés depuis le ${when(agenda.window_start)}.`),
    h("div", { class: "ch-toolbar", id: "note-de-seance" },
      h("button", { class: "fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left", type: "button",
                    onclick: () => downloadBrief(meetingId, "html", briefStatus) }, "Ma note de séance (HTML)"),
      h("button", { class: "fr-btn fr-btn--secondary fr-icon-download-line fr-btn--icon-left", type: "button",
                    onclick: () => downloadBrief(meetingId, "pdf", briefStatus) }, "Ma note de séance (PDF)")),
    briefStatus,
    newLeads(agenda.new_leads),
    links(agenda),
    decisions(agenda),
    federationSection(agenda.federation), // tickets with other CROSS (issue 16)
    section("odj-suivi", "Suivi des actions précédentes",
      agenda.actions_due.length ? actionsTable("Actions des réunions précédentes à échéance", agenda.actions_due, reload)
        : h("p", {}, "Aucune action antérieure à suivre.")),
    section("odj-seance", "Décisions de la séance",
      agenda.actions_decided.length ? actionsTable("Actions décidées en séance", agenda.actions_decided, reload)
        : h("p", {}, "Aucune décision enregistrée pour cette réunion."),
      manage ? actionForm(meetingId, reload) : null),
    agenda.trend.length ? section("odj-tendance", "Tendance des dernières semaines",
      table("Pistes nouvelles par semaine", ["Semaine", "Consultables", "Détenues par d'autres (hits)"],
        agenda.trend.map((p) => [p.week, String(p.visible), String(p.hits)]))) : null,
  );
}

// --- the page ----------------------------------------------------------------------------------

async function meetingsList(box, departement) {
  clear(box);
  if (!departement) return;
  try {
    const meetings = await api("/api/v1/meetings", { query: { departement } });
    if (!meetings.length) {
      box.append(h("p", {}, `Aucune réunion enregistrée pour le département ${departement}.`));
      return;
    }
    box.append(h("h2", { class: "fr-h5" }, `Réunions du département ${departement}`),
      h("ul", { class: "ch-meeting-list" }, meetings.map((m) => h("li", {},
        h("a", { href: `/reunions?${new URLSearchParams({ departement: m.departement, semaine: m.week })}` },
          `Semaine ${m.week}`), ` — du ${when(m.starts_at)}`))));
  } catch (err) {
    box.append(alertBox("error", errorMessage(err)));
  }
}

async function render() {
  const params = new URLSearchParams(window.location.search);
  const remembered = window.localStorage.getItem("crosshub-departement") || "";
  const deptInput = h("input", { class: "fr-input", id: "departement", name: "departement", required: true,
                                 pattern: "[0-9]{2}|2[ABab]|97[0-9]", maxlength: 3, autocomplete: "off",
                                 value: params.get("departement") || root.dataset.departement || remembered });
  const weekInput = h("input", { class: "fr-input", id: "semaine", name: "semaine", type: "week", required: true,
                                 value: params.get("semaine") || currentWeek() });
  const createButton = h("button", { class: "fr-btn fr-btn--secondary", type: "button", id: "creer-reunion" },
    "Créer la réunion de la semaine");
  const status = h("div", { "aria-live": "polite" });
  const list = h("div", { class: "fr-mt-2w" });
  const agendaBox = h("div", { id: "ordre-du-jour", "aria-live": "polite" });
  const form = h("form", { class: "ch-toolbar", id: "choix-reunion" },
    field("departement", "Département", deptInput, "p. ex. 25, 2A, 974"),
    field("semaine", "Semaine", weekInput, "AAAA-Www, p. ex. 2025-W47"),
    h("button", { class: "fr-btn", type: "submit" }, "Ouvrir l'ordre du jour"));
  clear(root).append(form, status, list, agendaBox);

  let manage = false;
  const chosen = () => ({ departement: deptInput.value.trim().toUpperCase(), week: weekInput.value.trim() });
  const open = (message) => {
    const { departement, week } = chosen();
    window.localStorage.setItem("crosshub-departement", departement);
    window.history.replaceState(null, "", `/reunions?${new URLSearchParams({ departement, semaine: week })}`);
    meetingsList(list, departement);
    showAgenda(agendaBox, `${departement}-${week}`, manage, message);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    status.replaceChildren();
    if (!form.reportValidity()) return;
    open();
  });
  createButton.addEventListener("click", async () => {
    status.replaceChildren();
    if (!form.reportValidity()) return;
    try {
      const made = await api("/api/v1/meetings", { method: "POST", body: chosen() });
      open(`Réunion de la semaine ${made.week} prête : l'ordre du jour ci-dessous est généré pour vous.`);
    } catch (err) {
      if (err.status === 403) createButton.remove();
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });

  manage = await mayManage();
  if (manage) form.append(createButton); // shown only to whom the API lets create
  if (deptInput.value && params.get("semaine")) open();
  else meetingsList(list, deptInput.value.trim().toUpperCase());
}

render();

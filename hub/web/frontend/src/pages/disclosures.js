// Communications: the hit/no-hit disclosure workflow and what the user was told.
//  - Demandes reçues: requests made to the caller's agency (roles that decide disclosure:
//    the API answers 403 to the others), approved with an end date or declined with a reason;
//  - Mes demandes: the caller's own requests and what became of them;
//  - Demandes en retard (coordinators only: the API answers 403 to the others): requests left
//    unanswered past their deadline, escalated to the CROSS;
//  - each request's thread (« Échange »): questions and answers between the two sides, loaded
//    when opened, refreshed live when the other side writes;
// A holder releases the lead group by group (graded disclosure: the groups come from
// GET /api/v1/disclosure-groups, all ticked by default).
//  - Notifications (#notifications, the header counter's target): marked read one by one.
// Everything shown is what the API answers; the lists refresh live from the notification
// stream the header already listens to (lib/shell.js).
import { api, when } from "../lib/api.js";
import { alertBox, badge, clear, errorMessage, h } from "../lib/dom.js";
import { agency } from "../lib/labels.js";
import { boot, onNotification, refreshNotifications } from "../lib/shell.js";

const root = boot();

const STATUS = {
  requested: ["En attente", "info"],
  approved: ["Acceptée", "success"],
  declined: ["Refusée", "error"],
  expired: ["Expirée", "warning"],
};
const KIND = {
  disclosure_requested: "Demande de communication reçue",
  disclosure_approved: "Communication acceptée",
  disclosure_declined: "Communication refusée",
  disclosure_expired: "Communication expirée",
  guest_grant_created: "Autorisation d'invité accordée",
  guest_grant_revoked: "Autorisation d'invité retirée",
  guest_grant_expired: "Autorisation d'invité expirée",
  cross_agency_link: "Lien entre services",
  lead_operation_clash: "Piste touchant une de vos opérations",
  contact_requested: "Prise de contact demandée",
  watch_hit: "Veille",
  watch_ended: "Veille arrêtée",
  watch_digest: "Récapitulatif quotidien des veilles",
  resolution_countersign: "Fusion d'entités à contre-signer",
  resolution_decided: "Fusion d'entités décidée",
  disclosure_escalated: "Demande de communication en retard",
  disclosure_message: "Message sur une demande de communication",
};
const SIDE = { requester: "demandeur", holder: "service détenteur", coordinator: "coordinateur de la CROSS" };

const statusBadge = (status) => {
  const [label, kind] = STATUS[status] || [status, "info"];
  return badge(label, kind);
};
const leadLink = (leadId) => h("a", { href: `/pistes/${encodeURIComponent(leadId)}` }, leadId);

// yyyy-mm-dd of a local date, `days` from today.
function isoDay(days) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// The end of the chosen day, in the browser's time, as an instant the API takes.
function endOfDay(day) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d, 23, 59, 59).toISOString();
}

let serial = 0;
const uid = (prefix) => `${prefix}-${++serial}`;

// --- sections -----------------------------------------------------------------------------------

const section = (id, title, ...content) => h("section", { class: "fr-mb-6w", "aria-labelledby": id },
  h("h2", { class: "fr-h4", id }, title), ...content);

const inboxStatus = h("select", { class: "fr-select", id: "filtre-recues", name: "status" },
  h("option", { value: "requested" }, "En attente"),
  h("option", { value: "approved" }, "Acceptées"),
  h("option", { value: "declined" }, "Refusées"),
  h("option", { value: "expired" }, "Expirées"));
const inboxMessage = h("div", { role: "status", "aria-live": "polite" });
const inboxList = h("div", { id: "demandes-recues" });
const inbox = section("titre-recues", "Demandes reçues par votre service",
  h("div", { class: "fr-select-group ch-filter" },
    h("label", { class: "fr-label", for: "filtre-recues" }, "Afficher les demandes"), inboxStatus),
  inboxMessage, inboxList);

const overdueList = h("div", { id: "demandes-en-retard" });
const overdue = section("titre-en-retard", "Demandes en retard (escaladées à la CROSS)", overdueList);

const outboxList = h("div", { id: "mes-demandes" });
const outbox = section("titre-mes-demandes", "Mes demandes", outboxList);

const notesList = h("div", { id: "liste-notifications" });
const notes = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-notifications", id: "notifications" },
  h("h2", { class: "fr-h4", id: "titre-notifications" }, "Notifications"), notesList);

// --- inbox --------------------------------------------------------------------------------------

// The groups a holder may release, and the longest a release may last (policy data).
let options = null;
async function releaseOptions() {
  options = options || await api("/api/v1/disclosure-groups");
  return options;
}

function groupChoice(groups) {
  const legendId = uid("groupes");
  return h("fieldset", { class: "fr-fieldset ch-release", "aria-labelledby": legendId },
    h("legend", { class: "fr-fieldset__legend fr-text--regular", id: legendId }, "Ce que vous communiquez",
      h("span", { class: "fr-hint-text" }, "Décochez ce que vous retenez ; le reste de la piste reste masqué au demandeur.")),
    groups.map((g) => {
      const id = uid(`groupe-${g.id}`);
      return h("div", { class: "fr-fieldset__element" }, h("div", { class: "fr-checkbox-group fr-checkbox-group--sm" },
        h("input", { type: "checkbox", id, name: "groups", value: g.id, checked: true }),
        h("label", { class: "fr-label", for: id }, g.label_fr)));
    }));
}

function approveForm(req, groups) {
  const dateId = uid("fin");
  const date = h("input", { class: "fr-input", type: "date", id: dateId, name: "valid_until",
                            required: true, min: isoDay(1), value: isoDay(30) });
  const status = h("div", { "aria-live": "polite" });
  if (options) date.max = isoDay(options.max_release_days - 1);
  const choice = groupChoice(groups);
  const form = h("form", { class: "ch-decision" },
    choice,
    h("div", { class: "fr-input-group" },
      h("label", { class: "fr-label", for: dateId }, "Fin de la communication",
        h("span", { class: "fr-hint-text" }, "La communication prend fin le soir de ce jour.")),
      date),
    h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Accepter"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!date.value) { status.replaceChildren(alertBox("error", "Indiquez la fin de la communication.")); return; }
    const chosen = [...choice.querySelectorAll("input[name=groups]:checked")].map((x) => x.value);
    if (!chosen.length) { status.replaceChildren(alertBox("error", "Cochez au moins un groupe, ou refusez la demande.")); return; }
    try {
      const done = await api(`/api/v1/disclosure-requests/${encodeURIComponent(req.request_id)}/approve`,
        { method: "POST", body: { valid_until: endOfDay(date.value), groups: chosen } });
      inboxMessage.replaceChildren(alertBox("success",
        `Demande ${done.request_id} acceptée : ${done.requester_name} peut consulter la piste ${done.lead_id} jusqu'au ${when(done.valid_until)}.`));
      loadInbox();
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

function declineForm(req) {
  const reasonId = uid("raison");
  const reason = h("textarea", { class: "fr-input", id: reasonId, name: "reason", rows: 2, required: true,
                                 minlength: 3, maxlength: 1000 });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "ch-decision" },
    h("div", { class: "fr-input-group" },
      h("label", { class: "fr-label", for: reasonId }, "Motif du refus",
        h("span", { class: "fr-hint-text" }, "Transmis au demandeur.")),
      reason),
    h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "submit" }, "Refuser"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const done = await api(`/api/v1/disclosure-requests/${encodeURIComponent(req.request_id)}/decline`,
        { method: "POST", body: { reason: reason.value.trim() } });
      inboxMessage.replaceChildren(alertBox("info", `Demande ${done.request_id} refusée ; le demandeur en est informé.`));
      loadInbox();
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

const lateBadge = (req) => (req.overdue ? [" ", badge(req.escalated_at ? "En retard, escaladée" : "En retard", "warning")] : null);

function inboxItem(req, groups, decide = true) {
  const titleId = uid("demande");
  const decided = req.status !== "requested";
  return h("article", { class: "ch-request", "aria-labelledby": titleId, dataset: { requestId: req.request_id } },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId }, `Demande ${req.request_id} — piste `, leadLink(req.lead_id)),
    statusBadge(req.status), lateBadge(req),
    h("dl", { class: "ch-sheet" },
      h("dt", {}, "Demandeur"), h("dd", {}, `${req.requester_name} (${agency(req.requester_agency)})`),
      decide ? null : [h("dt", {}, "Service détenteur"), h("dd", {}, agency(req.owner_agency))],
      h("dt", {}, "Motif"), h("dd", {}, req.justification),
      h("dt", {}, "Demandée le"), h("dd", {}, when(req.requested_at)),
      req.due_at ? [h("dt", {}, "Réponse attendue avant le"), h("dd", {}, when(req.due_at))] : null,
      decided ? [h("dt", {}, "Décision"), h("dd", {}, decision(req))] : null),
    decided || !decide ? null : h("div", { class: "ch-decisions" }, approveForm(req, groups), declineForm(req)),
    thread(req));
}

// --- a request's thread -------------------------------------------------------------------------

const threads = new Map(); // request id -> reload of its open thread

function thread(req) {
  const textId = uid("message");
  const list = h("ol", { class: "ch-thread" });
  const text = h("textarea", { class: "fr-input", id: textId, name: "text", rows: 2, required: true, maxlength: 2000 });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "ch-thread-form" },
    h("div", { class: "fr-input-group" },
      h("label", { class: "fr-label", for: textId }, "Votre message",
        h("span", { class: "fr-hint-text" }, "Sans identifiant brut : ni nom, ni immatriculation, ni numéro de téléphone.")),
      text),
    h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "submit" }, "Envoyer"), status);
  const box = h("details", { class: "ch-thread-box", dataset: { threadFor: req.request_id } },
    h("summary", {}, "Échange sur cette demande"), list, form);
  const load = async () => {
    try {
      const got = await api(`/api/v1/disclosure-requests/${encodeURIComponent(req.request_id)}`);
      list.replaceChildren(...(got.messages.length ? got.messages.map((m) => h("li", { class: "ch-thread-message", dataset: { side: m.side } },
        h("p", { class: "fr-mb-1v" }, h("strong", {}, `${m.author_name} (${agency(m.author_agency)}, ${SIDE[m.side] || m.side})`), ` — ${when(m.created_at)}`),
        h("p", { class: "fr-mb-1w" }, m.text))) : [h("li", {}, "Aucun message pour l'instant.")]));
    } catch (err) {
      list.replaceChildren(h("li", {}, alertBox("error", errorMessage(err))));
    }
  };
  box.addEventListener("toggle", () => {
    if (box.open) { threads.set(req.request_id, load); load(); } else threads.delete(req.request_id);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api(`/api/v1/disclosure-requests/${encodeURIComponent(req.request_id)}/messages`,
        { method: "POST", body: { text: text.value.trim() } });
      text.value = "";
      status.replaceChildren();
      load();
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return box;
}

function decision(req) {
  const by = req.decided_by_name ? ` par ${req.decided_by_name}` : "";
  const parts = [`${STATUS[req.status]?.[0] || req.status}${by} le ${when(req.decided_at)}`];
  if (req.valid_until) parts.push(`jusqu'au ${when(req.valid_until)}`);
  if (req.released_groups && options) {
    const labels = Object.fromEntries(options.groups.map((g) => [g.id, g.label_fr]));
    parts.push(`communiqué : ${req.released_groups.map((g) => labels[g] || g).join(", ")}`);
  }
  if (req.decision_reason) parts.push(`motif : ${req.decision_reason}`);
  return parts.join(" · ");
}

let decides = true;

async function loadInbox() {
  if (!decides) return;
  let requests;
  try {
    requests = await api("/api/v1/disclosure-requests", { query: { box: "inbox", status: inboxStatus.value } });
  } catch (err) {
    if (err.status === 403) { // this role does not decide: the API says so, the section goes
      decides = false;
      inbox.replaceWith(alertBox("info", "Votre rôle ne statue pas sur les demandes de communication adressées à votre service."));
      return;
    }
    clear(inboxList).append(alertBox("error", errorMessage(err)));
    return;
  }
  const groups = (await releaseOptions().catch(() => ({ groups: [] }))).groups;
  clear(inboxList).append(requests.length
    ? h("div", {}, requests.map((req) => inboxItem(req, groups)))
    : h("p", {}, inboxStatus.value === "requested" ? "Aucune demande en attente." : "Aucune demande."));
}
inboxStatus.addEventListener("change", () => { inboxMessage.replaceChildren(); loadInbox(); });

// --- outbox -------------------------------------------------------------------------------------

// --- overdue (coordinators) ---------------------------------------------------------------------

let coordinates = true;

async function loadOverdue() {
  if (!coordinates) return;
  let requests;
  try {
    requests = await api("/api/v1/disclosure-requests", { query: { box: "escalated" } });
  } catch (err) {
    if (err.status === 403) { coordinates = false; overdue.remove(); return; } // not a coordinator
    clear(overdueList).append(alertBox("error", errorMessage(err)));
    return;
  }
  clear(overdueList).append(requests.length
    ? h("div", {}, requests.map((req) => inboxItem(req, [], false)))
    : h("p", {}, "Aucune demande en retard."));
}

async function loadOutbox() {
  await releaseOptions().catch(() => null);
  let requests;
  try {
    requests = await api("/api/v1/disclosure-requests", { query: { box: "mine" } });
  } catch (err) {
    clear(outboxList).append(alertBox("error", errorMessage(err)));
    return;
  }
  if (!requests.length) {
    clear(outboxList).append(h("p", {}, "Vous n'avez fait aucune demande de communication. Elles se font depuis un « hit » (fiche de piste, graphe)."));
    return;
  }
  clear(outboxList).append(h("div", { class: "fr-table" }, h("table", {},
    h("caption", {}, "Mes demandes de communication"),
    h("thead", {}, h("tr", {}, ["Piste", "Service détenteur", "Motif", "Demandée le", "État", "Décision", "Échange"]
      .map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, requests.map((req) => h("tr", { dataset: { requestId: req.request_id } },
      h("td", {}, leadLink(req.lead_id)),
      h("td", {}, agency(req.owner_agency)),
      h("td", {}, req.justification),
      h("td", {}, when(req.requested_at)),
      h("td", {}, statusBadge(req.status), lateBadge(req)),
      h("td", { class: "ch-decision-cell" }, req.status === "requested" ? "—" : decision(req)),
      h("td", {}, thread(req))))))));
}

// --- notifications ------------------------------------------------------------------------------

function noteItem(note) {
  const unread = !note.read_at;
  const lead = note.payload?.lead_id;
  const item = h("li", { class: unread ? "ch-note ch-note--unread" : "ch-note", dataset: { notificationId: note.notification_id } },
    h("p", { class: "fr-mb-1v" }, h("strong", {}, KIND[note.kind] || note.kind), ` — ${when(note.created_at)} `,
      unread ? badge("Non lue", "new") : null),
    h("p", { class: "fr-mb-1v" }, note.message),
    lead ? h("p", { class: "fr-mb-1v" }, "Piste : ", leadLink(lead)) : null);
  if (unread) {
    const button = h("button", { class: "fr-btn fr-btn--tertiary fr-btn--sm", type: "button" }, "Marquer comme lue");
    button.addEventListener("click", async () => {
      button.disabled = true;
      try {
        const read = await api(`/api/v1/notifications/${encodeURIComponent(note.notification_id)}/read`, { method: "POST" });
        item.replaceWith(noteItem(read));
        refreshNotifications();
      } catch (err) {
        button.disabled = false;
        item.append(alertBox("error", errorMessage(err)));
      }
    });
    item.append(button);
  }
  return item;
}

async function loadNotifications() {
  let list;
  try {
    list = await api("/api/v1/notifications");
  } catch (err) {
    clear(notesList).append(alertBox("error", errorMessage(err)));
    return;
  }
  clear(notesList).append(list.length
    ? h("ul", { class: "ch-notes" }, list.map(noteItem))
    : h("p", {}, "Aucune notification."));
}

// --- live ---------------------------------------------------------------------------------------

onNotification((note) => {
  loadNotifications();
  if (note.kind === "disclosure_message") threads.get(note.payload?.request_id)?.();
  else if (note.kind === "disclosure_requested") loadInbox();
  else if (note.kind === "disclosure_escalated") loadOverdue();
  else if (note.kind?.startsWith("disclosure_")) loadOutbox();
});

clear(root).append(inbox, overdue, outbox, notes);
loadInbox();
loadOverdue();
loadOutbox();
loadNotifications();
if (window.location.hash === "#notifications") notes.scrollIntoView();

// Communications: the hit/no-hit disclosure workflow and what the user was told.
//  - Demandes reçues: requests made to the caller's agency (roles that decide disclosure:
//    the API answers 403 to the others), approved with an end date or declined with a reason;
//  - Mes demandes: the caller's own requests and what became of them;
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
};

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

const outboxList = h("div", { id: "mes-demandes" });
const outbox = section("titre-mes-demandes", "Mes demandes", outboxList);

const notesList = h("div", { id: "liste-notifications" });
const notes = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-notifications", id: "notifications" },
  h("h2", { class: "fr-h4", id: "titre-notifications" }, "Notifications"), notesList);

// --- inbox --------------------------------------------------------------------------------------

function approveForm(req) {
  const dateId = uid("fin");
  const date = h("input", { class: "fr-input", type: "date", id: dateId, name: "valid_until",
                            required: true, min: isoDay(1), value: isoDay(30) });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "ch-decision" },
    h("div", { class: "fr-input-group" },
      h("label", { class: "fr-label", for: dateId }, "Fin de la communication",
        h("span", { class: "fr-hint-text" }, "La communication prend fin le soir de ce jour.")),
      date),
    h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Accepter"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!date.value) { status.replaceChildren(alertBox("error", "Indiquez la fin de la communication.")); return; }
    try {
      const done = await api(`/api/v1/disclosure-requests/${encodeURIComponent(req.request_id)}/approve`,
        { method: "POST", body: { valid_until: endOfDay(date.value) } });
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

function inboxItem(req) {
  const titleId = uid("demande");
  const decided = req.status !== "requested";
  return h("article", { class: "ch-request", "aria-labelledby": titleId, dataset: { requestId: req.request_id } },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId }, `Demande ${req.request_id} — piste `, leadLink(req.lead_id)),
    statusBadge(req.status),
    h("dl", { class: "ch-sheet" },
      h("dt", {}, "Demandeur"), h("dd", {}, `${req.requester_name} (${agency(req.requester_agency)})`),
      h("dt", {}, "Motif"), h("dd", {}, req.justification),
      h("dt", {}, "Demandée le"), h("dd", {}, when(req.requested_at)),
      decided ? [h("dt", {}, "Décision"), h("dd", {}, decision(req))] : null),
    decided ? null : h("div", { class: "ch-decisions" }, approveForm(req), declineForm(req)));
}

function decision(req) {
  const by = req.decided_by_name ? ` par ${req.decided_by_name}` : "";
  const parts = [`${STATUS[req.status]?.[0] || req.status}${by} le ${when(req.decided_at)}`];
  if (req.valid_until) parts.push(`jusqu'au ${when(req.valid_until)}`);
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
  clear(inboxList).append(requests.length
    ? h("div", {}, requests.map(inboxItem))
    : h("p", {}, inboxStatus.value === "requested" ? "Aucune demande en attente." : "Aucune demande."));
}
inboxStatus.addEventListener("change", () => { inboxMessage.replaceChildren(); loadInbox(); });

// --- outbox -------------------------------------------------------------------------------------

async function loadOutbox() {
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
    h("thead", {}, h("tr", {}, ["Piste", "Service détenteur", "Motif", "Demandée le", "État", "Décision"]
      .map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, requests.map((req) => h("tr", { dataset: { requestId: req.request_id } },
      h("td", {}, leadLink(req.lead_id)),
      h("td", {}, agency(req.owner_agency)),
      h("td", {}, req.justification),
      h("td", {}, when(req.requested_at)),
      h("td", {}, statusBadge(req.status)),
      h("td", { class: "ch-decision-cell" }, req.status === "requested" ? "—" : decision(req))))))));
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
  if (note.kind === "disclosure_requested") loadInbox();
  else if (note.kind?.startsWith("disclosure_")) loadOutbox();
});

clear(root).append(inbox, outbox, notes);
loadInbox();
loadOutbox();
loadNotifications();
if (window.location.hash === "#notifications") notes.scrollIntoView();

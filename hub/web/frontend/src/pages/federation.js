// « Fédération » (issue 16): the federation tickets of the user's agency, as
// GET /api/v1/federation/tickets answers them.
//  - Nos demandes (claimant side): an identifier of our leads another CROSS holds too — whom to
//    call, by when, the holder's answer;
//  - Demandes reçues (holder side): another CROSS holds an identifier of our leads too and waits
//    for our answer — the answer form (répondu / communiqué / refusé + message) calls
//    POST /api/v1/federation/tickets/{id}/answer, which needs `disclosure.decide` and a verified
//    second factor (lib/api.js asks for the code through lib/stepup.js, then sends again).
// Nothing is decided here: a lead id shows only when the API names it (a lead the user reads).
import { api } from "../lib/api.js";
import { alertBox, clear, errorMessage, h, table } from "../lib/dom.js";
import { IDENTIFIER, dueText, statusBadge } from "../lib/federation.js";
import { boot, busyTracker } from "../lib/shell.js";

const root = boot();
const busy = busyTracker(root);

const ANSWERS = [
  ["answered", "Répondu (rappel fait)"],
  ["released", "Information communiquée (par le circuit de communication)"],
  ["declined", "Communication refusée"],
];

const leadsCell = (t) => (t.lead_ids.length
  ? h("ul", { class: "ch-fed-leads" }, t.lead_ids.map((id) => h("li", {}, h("a", { href: `/pistes/${encodeURIComponent(id)}` }, id))))
  : "—");
const statusCell = (t) => [statusBadge(t), t.message ? h("p", { class: "fr-text--sm fr-mb-0" }, `Message : ${t.message}`) : null];

function answerForm(t) {
  const sel = `reponse-${t.ticket_id}`;
  const msg = `message-${t.ticket_id}`;
  const choice = h("select", { class: "fr-select", id: sel, name: "status", required: true },
    ANSWERS.map(([value, label]) => h("option", { value }, label)));
  const message = h("textarea", { class: "fr-input", id: msg, name: "message", rows: 2, maxlength: 2000,
                                  "aria-describedby": `${msg}-aide` });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "ch-fed-answer fr-mb-3w", dataset: { ticket: t.ticket_id } },
    h("fieldset", { class: "fr-fieldset" },
      h("legend", { class: "fr-fieldset__legend fr-text--md" },
        `Répondre au ${t.peer_name} — ticket ${t.ticket_id} (${IDENTIFIER[t.kind] || t.kind}, avant le ${dueText(t.due_at)})`),
      h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: sel }, "Réponse"), choice),
      h("div", { class: "fr-input-group" },
        h("label", { class: "fr-label", for: msg }, "Message au CROSS demandeur",
          h("span", { class: "fr-hint-text", id: `${msg}-aide` },
            "Sans nom, plaque ni numéro : le hub refuse un message qui en contient")),
        message),
      h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Envoyer la réponse")),
    status);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(async () => {
      try {
        await api(`/api/v1/federation/tickets/${encodeURIComponent(t.ticket_id)}/answer`, {
          method: "POST", body: { status: choice.value, message: message.value.trim() } });
        await load();
        document.getElementById("titre-recues")?.focus();
      } catch (err) {
        status.replaceChildren(alertBox("error", errorMessage(err)));
      }
    });
  });
  return form;
}

function claimed(tickets) {
  return h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-demandes" },
    h("h2", { class: "fr-h4", id: "titre-demandes", tabindex: "-1" }, "Nos demandes"),
    h("p", {}, "Un identifiant de nos pistes est aussi détenu par un autre CROSS : appelez son guichet avant l'échéance."),
    tickets.length ? table("Identifiants de nos pistes aussi détenus par d'autres CROSS",
      ["CROSS détenteur", "Identifiant", "Guichet à contacter", "Réponse attendue avant le", "Statut", "Nos pistes"],
      tickets.map((t) => [t.peer_name, IDENTIFIER[t.kind] || t.kind, t.desk, dueText(t.due_at), statusCell(t), leadsCell(t)]))
      : h("p", {}, "Aucune demande en cours."));
}

function received(tickets) {
  const open = tickets.filter((t) => t.status === "open");
  return h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-recues" },
    h("h2", { class: "fr-h4", id: "titre-recues", tabindex: "-1" }, "Demandes reçues"),
    h("p", {}, "Un autre CROSS détient aussi un identifiant de nos pistes et attend notre réponse. Rien n'est communiqué sans décision d'une personne habilitée."),
    tickets.length ? table("Identifiants de nos pistes demandés par d'autres CROSS",
      ["CROSS demandeur", "Identifiant", "Réponse attendue avant le", "Statut", "Nos pistes"],
      tickets.map((t) => [t.peer_name, IDENTIFIER[t.kind] || t.kind, dueText(t.due_at), statusCell(t), leadsCell(t)]))
      : h("p", {}, "Aucune demande reçue."),
    open.length ? [h("h3", { class: "fr-h5 fr-mt-4w" }, "Répondre"), open.map(answerForm)] : null);
}

async function load() {
  let answer;
  try {
    answer = await api("/api/v1/federation/tickets");
  } catch (err) {
    clear(root).append(err.status === 404
      ? alertBox("info", "La fédération entre CROSS n'est pas activée sur ce hub.")
      : alertBox("error", errorMessage(err)));
    return;
  }
  const tickets = answer.tickets || [];
  clear(root).append(
    claimed(tickets.filter((t) => t.side === "claimant")),
    received(tickets.filter((t) => t.side === "holder")));
}

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
load().finally(() => { root.dataset.state = "ready"; });

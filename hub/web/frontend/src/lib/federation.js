// Federation between CROSS hubs (issue 16) as the pages show it: another CROSS holds the same
// plate or phone. The lead and entity sheets list the notes the API adds to what the caller may
// read (`federation` of a lead or a network: the sentence, the status, « en retard »); the page
// « Fédération » lists the agency's tickets. Wording of statuses only: the API decides what shows.
import { h, table } from "./dom.js";

export const STATUS = {
  open: ["En attente de réponse", "info"],
  answered: ["Répondu", "success"],
  released: ["Information communiquée", "success"],
  declined: ["Communication refusée", "warning"],
};
export const IDENTIFIER = { plate: "Plaque", phone: "Téléphone" };

export function statusBadge(ticket) {
  const [text, kind] = ticket.overdue ? ["En retard", "error"] : (STATUS[ticket.status] || [ticket.status, "info"]);
  return h("p", { class: `fr-badge fr-badge--sm fr-badge--${kind} ch-fed-status`,
                  dataset: { status: ticket.overdue ? "overdue" : ticket.status } }, text);
}

// « Partagé avec d'autres CROSS » on a lead or entity sheet; nothing when there is no note.
export function federationSection(notes, headingId = "titre-federation") {
  if (!notes?.length) return null;
  return h("section", { class: "ch-federation", "aria-labelledby": headingId },
    h("h2", { class: "fr-h4 fr-mt-4w", id: headingId }, "Partagé avec d'autres CROSS"),
    h("ul", {}, notes.map((n) => h("li", { class: "fr-mb-1w", dataset: { ticket: n.ticket_id } },
      n.text, " ", statusBadge(n)))),
    h("p", { class: "fr-text--sm" }, h("a", { href: "/federation" }, "Tous les tickets de fédération")));
}

// "09/12/2026 à 11:46" in Paris time, as the hub words deadlines.
const DUE = new Intl.DateTimeFormat("fr-FR", {
  day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit",
  timeZone: "Europe/Paris",
});
export function dueText(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const part = Object.fromEntries(DUE.formatToParts(date).map((p) => [p.type, p.value]));
  return `${part.day}/${part.month}/${part.year} à ${part.hour}:${part.minute}`;
}

// « Partagé avec d'autres CROSS » of a meeting's agenda (`agenda.federation`): the overdue
// tickets as decisions to take, then the tickets opened since the last meeting.
const short = (peer) => (peer.startsWith("cross-") ? `CROSS ${peer.slice(6)}` : peer);
export function lateText(t) {
  return t.side === "claimant" ? `Réponse de ${short(t.peer)} attendue depuis le ${dueText(t.due_at)}`
    : `Notre réponse à ${short(t.peer)} est en retard (attendue le ${dueText(t.due_at)})`;
}

export function meetingSection(fed) {
  if (!fed || (!fed.opened?.length && !fed.overdue?.length)) return null;
  return h("section", { class: "ch-meeting-section fr-mt-4w", "aria-labelledby": "odj-federation" },
    h("h2", { class: "fr-h4", id: "odj-federation" }, "Partagé avec d'autres CROSS"),
    fed.overdue.length ? [h("p", {}, h("strong", {}, "À décider — échéances dépassées :")),
      h("ul", {}, fed.overdue.map((t) => h("li", { dataset: { ticket: t.ticket_id } },
        `${IDENTIFIER[t.kind] || t.kind} (ticket ${t.ticket_id}) : ${lateText(t)}`,
        t.side === "claimant" ? ` — contact : ${t.desk}` : "")))] : null,
    fed.opened.length ? table("Tickets de fédération ouverts depuis la dernière réunion",
      ["CROSS", "Sens", "Identifiant", "Guichet à contacter", "Réponse attendue avant le", "Statut"],
      fed.opened.map((t) => [short(t.peer), t.side === "claimant" ? "Nous avons demandé" : "Demandé par le CROSS pair",
        IDENTIFIER[t.kind] || t.kind, t.side === "claimant" ? t.desk : "—", dueText(t.due_at), statusBadge(t)]))
      : h("p", {}, "Aucun ticket ouvert depuis la dernière réunion."),
    h("p", {}, h("a", { class: "fr-link", href: "/federation" }, "Ouvrir la page Fédération")));
}

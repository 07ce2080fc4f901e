// Federation between CROSS hubs (issue 16) as the pages show it: another CROSS holds the same
// plate or phone. The lead and entity sheets list the notes the API adds to what the caller may
// read (`federation` of a lead or a network: the sentence, the status, « en retard »); the page
// « Fédération » lists the agency's tickets. Wording of statuses only: the API decides what shows.
import { h } from "./dom.js";

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

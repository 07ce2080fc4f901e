// A hit: an agency holds something the caller may not read. Shown with whom to call, and the
// one action it allows: ask the holder for communication, naming the hit by its opaque handle.
import { api } from "./api.js";
import { alertBox, errorMessage, h } from "./dom.js";
import { agency } from "./labels.js";

export function requestForm(hit, onDone) {
  const id = `motif-demande-${Math.random().toString(36).slice(2, 8)}`;
  const reason = h("textarea", { class: "fr-input", id, name: "justification", rows: 2, required: true,
                                 minlength: 5, maxlength: 2000 });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "ch-request-form fr-mt-1w" },
    h("div", { class: "fr-input-group" },
      h("label", { class: "fr-label", for: id }, "Motif de la demande",
        h("span", { class: "fr-hint-text" }, "Le service détenteur le lira pour décider, p. ex. le numéro de procédure")),
      reason),
    h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Envoyer la demande"), status);
  reason.value = document.querySelector('meta[name="crosshub-motif"]')?.getAttribute("content") || "";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const made = await api("/api/v1/disclosure-requests", {
        method: "POST", body: { hit: hit.handle, justification: reason.value.trim() } });
      form.replaceWith(alertBox("success",
        `Demande envoyée à ${agency(hit.agency)} (référence ${made.request_id || "enregistrée"}).`));
      onDone?.(made);
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

export function hitCard(hit, { onRequested } = {}) {
  const card = h("div", { class: "ch-hit", dataset: { agency: hit.agency } },
    h("p", { class: "fr-mb-1v" }, h("strong", {}, `${agency(hit.agency)} détient ${hit.lead_count} piste(s)`),
      " que vous ne pouvez pas consulter."),
    h("p", { class: "fr-mb-1v" }, `Contact : ${hit.contact || "non communiqué"}`));
  if (hit.handle) {
    const button = h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "button" },
      "Demander la communication");
    button.addEventListener("click", () => {
      const form = requestForm(hit, onRequested);
      button.replaceWith(form);
      form.querySelector("textarea")?.focus();
    });
    card.append(button);
  }
  return card;
}

// The step-up dialog: when the hub answers an operation « second facteur requis » (403, code
// second_factor_required — approving a disclosure, exporting a network…), lib/api.js opens this
// modal dialog, the person types the 6-digit code of their authenticator app, the page's own
// session is verified (POST /api/v1/second-factor/verify) and the operation is sent again.
// A native <dialog> opened with showModal(): focus is kept inside, Escape cancels, and focus goes
// back to where it was. The code never leaves this request; nothing is stored in the page.
import { h } from "./dom.js";

const VERIFY = "/api/v1/second-factor/verify";
let pending = null;

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";

async function verify(code) {
  const response = await fetch(VERIFY, {
    method: "POST", credentials: "same-origin",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: JSON.stringify({ code }),
  });
  if (response.ok) return null;
  let body = null;
  try { body = await response.json(); } catch { /* not JSON */ }
  return body?.message || `erreur ${response.status}`;
}

// Resolves true once this session is verified, false if the person cancels. One dialog at a time:
// operations refused together wait for the same code.
export function askSecondFactor(reason) {
  if (pending) return pending;
  pending = new Promise((resolve) => {
    const back = document.activeElement;
    const input = h("input", {
      class: "fr-input", id: "code-second-facteur", name: "code", type: "text", inputmode: "numeric",
      autocomplete: "one-time-code", pattern: "[0-9]{6}", maxlength: 6, required: true,
      "aria-describedby": "aide-second-facteur erreur-second-facteur",
    });
    const error = h("div", { id: "erreur-second-facteur", "aria-live": "assertive" });
    const submit = h("button", { class: "fr-btn", type: "submit" }, "Valider");
    const cancel = h("button", { class: "fr-btn fr-btn--secondary", type: "button" }, "Annuler");
    const form = h("form", { novalidate: true },
      h("h2", { class: "fr-h5", id: "titre-second-facteur" }, "Second facteur requis"),
      h("p", { id: "aide-second-facteur" }, reason || "Cette opération exige votre second facteur.",
        " Saisissez le code à 6 chiffres affiché par votre application d'authentification ; ",
        "l'opération sera ensuite relancée."),
      h("div", { class: "fr-input-group" },
        h("label", { class: "fr-label", for: "code-second-facteur" }, "Code à 6 chiffres"), input),
      error,
      h("ul", { class: "fr-btns-group fr-btns-group--inline-md" },
        h("li", {}, submit), h("li", {}, cancel)));
    const dialog = h("dialog", { class: "ch-dialog", id: "dialogue-second-facteur",
                                 "aria-labelledby": "titre-second-facteur",
                                 "aria-describedby": "aide-second-facteur" }, form);
    const done = (ok) => {
      dialog.close();
      dialog.remove();
      if (back instanceof HTMLElement) back.focus();
      resolve(ok);
    };
    const fail = (message) => {
      error.replaceChildren(h("p", { class: "fr-error-text fr-mt-0", role: "alert" }, message));
      input.setAttribute("aria-invalid", "true");
      input.focus();
      input.select();
    };
    cancel.addEventListener("click", () => done(false));
    dialog.addEventListener("cancel", (event) => { event.preventDefault(); done(false); });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const code = input.value.replace(/\s+/g, "");
      if (!/^[0-9]{6}$/.test(code)) { fail("Le code compte 6 chiffres."); return; }
      submit.disabled = true;
      try {
        const problem = await verify(code);
        if (problem === null) done(true);
        else fail(`Code refusé : ${problem}`);
      } catch {
        fail("Le hub ne répond pas : réessayez.");
      } finally {
        submit.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  }).finally(() => { pending = null; });
  return pending;
}

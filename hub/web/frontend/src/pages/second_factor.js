// Second facteur: the person's own TOTP second factor.
//  - État: enrolled or not, and until when this session may do the operations that need it;
//  - Enrôler (or Remplacer, which needs a code of the current one): the hub draws the key and
//    shows it once — QR code (an SVG the hub drew, shown as an image) and the key to type by hand
//    — then a first code confirms it;
//  - Vérifier maintenant: type a code to verify this session before approving or exporting.
// Everything shown is what the API answers; the key is never kept by the page once confirmed.
import { api, when } from "../lib/api.js";
import { alertBox, badge, errorMessage, h } from "../lib/dom.js";
import { boot, busyTracker } from "../lib/shell.js";

const root = boot();
const busy = busyTracker(root);

const ACTIONS = {
  "disclosure.decide": "décider des demandes de communication",
  "exports.network": "exporter le réseau d'une entité",
};

const section = (id, title, ...content) => h("section", { class: "fr-mb-6w", "aria-labelledby": id },
  h("h2", { class: "fr-h4", id }, title), ...content);

const codeInput = (id, describedBy) => h("input", {
  class: "fr-input", id, name: "code", type: "text", inputmode: "numeric", autocomplete: "one-time-code",
  pattern: "[0-9]{6}", maxlength: 6, required: true, "aria-describedby": describedBy,
});

const codeField = (id, label, hint) => {
  const hintId = `${id}-aide`;
  const input = codeInput(id, hintId);
  return [input, h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, label, h("span", { class: "fr-hint-text", id: hintId }, hint)),
    input)];
};

// --- état -----------------------------------------------------------------------------------------

const statusBox = h("div", { id: "etat-second-facteur" });

function drawStatus(state) {
  const rows = state.step_up.map((rule) => h("li", {},
    `${ACTIONS[rule.action] || rule.action} : `,
    rule.fresh_until ? `possible jusqu'au ${when(rule.fresh_until)}`
      : `code à saisir (valable ${rule.fresh_minutes} min)`));
  statusBox.replaceChildren(
    state.enrolled ? badge("Enrôlé", "success") : badge("Non enrôlé", "warning"),
    h("p", { class: "fr-mt-1w" }, state.enrolled
      ? `Second facteur enrôlé le ${when(state.enrolled_at)}.`
      : "Vous n'avez pas encore de second facteur : enrôlez-le ci-dessous avant de décider d'une communication ou d'exporter."),
    h("p", { class: "fr-mb-1w" }, "Opérations soumises au second facteur, pour la session en cours :"),
    h("ul", {}, rows));
  enrolTitle.textContent = state.enrolled ? "Remplacer le second facteur" : "Enrôler un second facteur";
  currentField.hidden = !state.enrolled;
  currentInput.required = state.enrolled;
  verifySection.hidden = !state.enrolled;
}

async function loadStatus() {
  try {
    drawStatus(await api("/api/v1/second-factor"));
  } catch (err) {
    statusBox.replaceChildren(alertBox("error", errorMessage(err)));
  }
}

// --- enrôler --------------------------------------------------------------------------------------

const enrolTitle = h("span", {}, "Enrôler un second facteur");
const enrolMessage = h("div", { "aria-live": "polite" });
const [currentInput, currentField] = codeField("code-actuel", "Code du second facteur actuel",
  "Exigé pour le remplacer : 6 chiffres de votre application.");
const keyBox = h("div", { id: "cle-second-facteur" });
const beginForm = h("form", { id: "form-enrolement" }, currentField,
  h("button", { class: "fr-btn", type: "submit" }, "Générer une clé"));

const grouped = (secret) => secret.match(/.{1,4}/g).join(" ");

function confirmForm() {
  const [input, field] = codeField("code-confirmation", "Premier code affiché par l'application",
    "6 chiffres ; il confirme l'enrôlement.");
  const form = h("form", { id: "form-confirmation" }, field,
    h("button", { class: "fr-btn", type: "submit" }, "Confirmer l'enrôlement"));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(async () => {
      try {
        const state = await api("/api/v1/second-factor/enrolment/confirm",
          { method: "POST", body: { code: input.value.trim() } });
        keyBox.replaceChildren(); // the key is not kept on the page once confirmed
        enrolMessage.replaceChildren(alertBox("success",
          "Second facteur enrôlé : la session en cours est vérifiée."));
        drawStatus(state);
      } catch (err) {
        enrolMessage.replaceChildren(alertBox("error", errorMessage(err)));
        input.focus();
      }
    });
  });
  return [form, input];
}

beginForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(async () => {
    try {
      const body = currentInput.required ? { code: currentInput.value.trim() } : undefined;
      const started = await api("/api/v1/second-factor/enrolment", { method: "POST", body });
      const image = `data:image/svg+xml;base64,${btoa(started.qr_svg)}`;
      const [form, input] = confirmForm();
      keyBox.replaceChildren(
        h("ol", {},
          h("li", {}, "Dans votre application d'authentification, ajoutez un compte en scannant ce QR code :",
            h("img", { class: "ch-qr fr-my-2w", src: image, width: 200, height: 200,
                       alt: "QR code d'enrôlement (la même clé est écrite ci-dessous)" })),
          h("li", {}, "ou saisissez la clé à la main : ",
            h("code", { class: "ch-secret", id: "cle-manuelle" }, grouped(started.secret)),
            ` (${started.digits} chiffres, toutes les ${started.period_s} s) ;`),
          h("li", {}, `puis saisissez le premier code avant le ${when(started.confirm_before)}.`)),
        form);
      currentInput.value = "";
      enrolMessage.replaceChildren(alertBox("info", "Clé générée : elle n'est montrée qu'une fois."));
      input.focus();
    } catch (err) {
      enrolMessage.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
});

// --- vérifier -------------------------------------------------------------------------------------

const verifyMessage = h("div", { "aria-live": "polite" });
const [verifyInput, verifyField] = codeField("code-verification", "Code à 6 chiffres",
  "Vérifie la session en cours pour les opérations ci-dessus.");
const verifyForm = h("form", { id: "form-verification" }, verifyField,
  h("button", { class: "fr-btn fr-btn--secondary", type: "submit" }, "Vérifier"));
verifyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(async () => {
    try {
      const state = await api("/api/v1/second-factor/verify",
        { method: "POST", body: { code: verifyInput.value.trim() } });
      verifyInput.value = "";
      verifyMessage.replaceChildren(alertBox("success", "Session vérifiée."));
      drawStatus(state);
    } catch (err) {
      verifyMessage.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
});
const verifySection = section("titre-verifier", "Vérifier la session maintenant", verifyForm, verifyMessage);

root.replaceChildren(
  section("titre-etat", "État", statusBox),
  h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-enroler" },
    h("h2", { class: "fr-h4", id: "titre-enroler" }, enrolTitle),
    h("p", {}, "Une application d'authentification (TOTP, RFC 6238) sur votre téléphone professionnel : ",
      "la clé est tirée par le hub, gardée chiffrée et montrée une seule fois."),
    beginForm, enrolMessage, keyBox),
  verifySection);
busy(loadStatus);

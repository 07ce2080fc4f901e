// Veilles: what the user follows and what it told them.
//  - Suivre: an entity (plate, phone, pseudonym, place, commune, deal point — typed in any
//    spelling: the hub normalizes it) or a saved search (as the search page takes it);
//  - Mes veilles: each watch with its latest hits, exactly as they were notified (a readable
//    lead is linked; a hit names the service to call and allows a request for communication);
//    a watch is ended with the motif of consultation;
//  - Prévenir aussi: an optional webhook or e-mail address, told only "something new".
// Everything shown is what the API answers; the list refreshes live from the notification
// stream the header already listens to (lib/shell.js).
import { api, motif, when } from "../lib/api.js";
import { alertBox, badge, errorMessage, h } from "../lib/dom.js";
import { requestForm } from "../lib/hits.js";
import { boot, busyTracker, onNotification } from "../lib/shell.js";

const root = boot();
// data-state="ready" once the list asked for is drawn (tests wait on it).
const busy = busyTracker(root);

const ENTITY_KINDS = [
  ["vehicle", "Immatriculation", "p. ex. ab 123 cd ou AB-123-CD"],
  ["phone", "Téléphone", "p. ex. 06 12 34 56 78"],
  ["person", "Personne (pseudonyme)", "ps1:…, tel qu'affiché sur une fiche"],
  ["location", "Lieu", "code INSEE:adresse, p. ex. 25056:place Cassin"],
  ["commune", "Commune", "code INSEE, p. ex. 25056"],
  ["deal_point", "Point de deal", "code INSEE:libellé, p. ex. 25056:hall 3"],
];
const SEARCH_KINDS = [["plate", "Immatriculation"], ["phone", "Téléphone"], ["place", "Lieu"], ["text", "Texte"]];

const section = (id, title, ...content) => h("section", { class: "fr-mb-6w", "aria-labelledby": id },
  h("h2", { class: "fr-h4", id }, title), ...content);

const field = (id, label, control, hint) => h("div", { class: "fr-input-group" },
  h("label", { class: "fr-label", for: id }, label, hint ? h("span", { class: "fr-hint-text" }, hint) : null),
  control);

const select = (id, name, options) => h("select", { class: "fr-select", id, name },
  options.map(([value, label]) => h("option", { value }, label)));

// --- following --------------------------------------------------------------------------------------

const message = h("div", { role: "status", "aria-live": "polite" });

const entityKind = select("veille-type", "entity_kind", ENTITY_KINDS);
const entityValue = h("input", { class: "fr-input", id: "veille-valeur", name: "value", required: true,
                                 maxlength: 300, autocomplete: "off" });
const entityForm = h("form", { class: "ch-watch-form", id: "form-veille-entite" },
  h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "veille-type" }, "Type"), entityKind),
  field("veille-valeur", "Valeur à suivre", entityValue, ENTITY_KINDS[0][2]),
  h("button", { class: "fr-btn", type: "submit" }, "Suivre"));
entityKind.addEventListener("change", () => {
  const hint = entityForm.querySelector(".fr-hint-text");
  if (hint) hint.textContent = ENTITY_KINDS.find(([k]) => k === entityKind.value)?.[2] || "";
});

const searchKind = select("recherche-type", "search_kind", SEARCH_KINDS);
const searchQ = h("input", { class: "fr-input", id: "recherche-texte", name: "q", required: true, maxlength: 200 });
const searchFuzzy = select("recherche-approchee", "fuzzy",
  [["off", "Exacte"], ["confusable", "Caractères confondus"], ["any", "Un caractère quelconque"]]);
const searchForm = h("form", { class: "ch-watch-form", id: "form-veille-recherche" },
  h("div", { class: "fr-select-group" }, h("label", { class: "fr-label", for: "recherche-type" }, "Recherche"), searchKind),
  field("recherche-texte", "Texte recherché", searchQ, "comme sur la page Recherche"),
  h("div", { class: "fr-select-group" },
    h("label", { class: "fr-label", for: "recherche-approchee" }, "Immatriculations approchées"), searchFuzzy),
  h("button", { class: "fr-btn fr-btn--secondary", type: "submit" }, "Enregistrer la recherche"));

async function follow(body) {
  const why = motif();
  if (!why) { message.replaceChildren(alertBox("error", "Indiquez d'abord le motif de consultation.")); return false; }
  try {
    const made = await api("/api/v1/watches", { method: "POST", body: { ...body, justification: why } });
    message.replaceChildren(alertBox("success", `Veille enregistrée : ${made.label}.`));
    load();
    return true;
  } catch (err) {
    message.replaceChildren(alertBox("error", errorMessage(err)));
    return false;
  }
}

entityForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await follow({ entity_kind: entityKind.value, value: entityValue.value.trim() })) entityValue.value = "";
});
searchForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (await follow({ q: searchQ.value.trim(), search_kind: searchKind.value, fuzzy: searchFuzzy.value })) searchQ.value = "";
});

// --- the list -----------------------------------------------------------------------------------------

const list = h("div", { id: "liste-veilles", "aria-busy": "true" });

function hitItem(hit) {
  const item = h("li", { class: "ch-watch-hit", dataset: { level: hit.level || "" } },
    h("span", {}, `${when(hit.created_at)} — `),
    hit.lead_id
      ? h("a", { href: `/pistes/${encodeURIComponent(hit.lead_id)}` }, hit.message)
      : h("span", {}, hit.message));
  if (hit.level === "hit" && hit.handle) {
    const button = h("button", { class: "fr-btn fr-btn--tertiary fr-btn--sm fr-ml-1w", type: "button" },
      "Demander la communication");
    button.addEventListener("click", () => button.replaceWith(requestForm(
      { handle: hit.handle, agency: hit.agency, contact: hit.contact })));
    item.append(button);
  }
  return item;
}

function watchItem(w) {
  const titleId = `veille-${w.watch_id}`;
  const active = w.status === "active";
  const stop = active ? h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "button" },
    "Arrêter la veille") : null;
  stop?.addEventListener("click", async () => {
    try {
      await api(`/api/v1/watches/${encodeURIComponent(w.watch_id)}`, { method: "DELETE", consult: true });
      message.replaceChildren(alertBox("info", `Veille arrêtée : ${w.label}.`));
      load();
    } catch (err) {
      message.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return h("article", { class: "ch-watch fr-mb-3w", "aria-labelledby": titleId, dataset: { watchId: w.watch_id } },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId }, w.label),
    active ? badge("Active", "success") : badge(`Arrêtée : ${w.end_reason_fr || ""}`, "warning"),
    h("p", { class: "fr-text--sm fr-mb-1w" },
      `Suivie depuis le ${when(w.created_at)} — ${w.hit_count} signalement(s)`,
      w.last_hit_at ? `, le dernier le ${when(w.last_hit_at)}` : ""),
    w.latest_hits.length ? h("ul", { class: "ch-watch-hits" }, w.latest_hits.map(hitItem))
      : h("p", { class: "fr-text--sm" }, "Aucun signalement pour l'instant."),
    stop);
}

function load() {
  return busy(loadList);
}

async function loadList() {
  list.setAttribute("aria-busy", "true");
  try {
    const watches = await api("/api/v1/watches", { consult: true });
    list.replaceChildren(...(watches.length ? watches.map(watchItem)
      : [h("p", {}, "Vous ne suivez encore rien.")]));
  } catch (err) {
    list.replaceChildren(alertBox("error", errorMessage(err)));
  } finally {
    list.setAttribute("aria-busy", "false");
  }
}

// --- outbound --------------------------------------------------------------------------------------

const hook = h("input", { class: "fr-input", id: "veille-webhook", name: "webhook_url", type: "url", maxlength: 500 });
const mail = h("input", { class: "fr-input", id: "veille-courriel", name: "email", type: "email", maxlength: 320 });
const deliveryStatus = h("div", { "aria-live": "polite" });
const deliveryForm = h("form", { id: "form-veille-envoi" },
  h("p", { class: "fr-text--sm" }, "Ces envois disent seulement « nouveau signalement sur une de vos veilles » "
    + "et l'adresse du hub : jamais le contenu d'une piste."),
  field("veille-webhook", "Webhook (https)", hook, "adresse autorisée par l'administrateur du hub"),
  field("veille-courriel", "Courriel", mail),
  h("button", { class: "fr-btn fr-btn--secondary", type: "submit" }, "Enregistrer"), deliveryStatus);
deliveryForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    await api("/api/v1/watch-delivery", { method: "PUT",
      body: { webhook_url: hook.value.trim() || null, email: mail.value.trim() || null } });
    deliveryStatus.replaceChildren(alertBox("success", "Envois enregistrés."));
  } catch (err) {
    deliveryStatus.replaceChildren(alertBox("error", errorMessage(err)));
  }
});

async function loadDelivery() {
  try {
    const d = await api("/api/v1/watch-delivery");
    hook.value = d.webhook_url || "";
    mail.value = d.email || "";
  } catch { /* the form stays empty; saving reports its own error */ }
}

root.append(
  section("titre-suivre", "Suivre", message,
    h("div", { class: "fr-grid-row fr-grid-row--gutters" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, entityForm),
      h("div", { class: "fr-col-12 fr-col-md-6" }, searchForm))),
  section("titre-veilles", "Mes veilles", list),
  section("titre-envois", "Prévenir aussi", deliveryForm));

onNotification((n) => {
  if (n.kind === "watch_hit" || n.kind === "watch_ended") load();
});
load();
loadDelivery();

// Dossiers: shared multi-agency investigations (ADR 0019).
//  - Ouvrir un dossier: title and handling code (the dossier's own marking);
//  - Mes dossiers: those the user is a member of, each as its code lets them see it (readable,
//    or only « signalé » with the lead agency to call);
//  - one dossier (?dossier=<id>): members, linked leads at the user's level (a lead they may
//    only know of is a hit: the service to call, a request for communication — never its id),
//    linked entities, tasks, comments at their own marking; managing forms for the lead agency.
// Everything shown is what the API answers (ADR 0010); every call carries the motif.
import { api, when } from "../lib/api.js";
import { alertBox, badge, clear, errorMessage, h, table } from "../lib/dom.js";
import { hitCard } from "../lib/hits.js";
import { HANDLING, agency, kind as kindLabel } from "../lib/labels.js";
import { boot, busyTracker } from "../lib/shell.js";

const root = boot();
const busy = busyTracker(root);
const selected = new URLSearchParams(window.location.search).get("dossier");

const OUTCOMES = [["arrest", "Interpellation"], ["seizure", "Saisie"], ["no_follow_up", "Sans suite"],
  ["transferred", "Transmis"], ["other", "Autre"]];
const ENTITY_KINDS = [["vehicle", "Immatriculation"], ["phone", "Téléphone"], ["person", "Personne (pseudonyme)"],
  ["location", "Lieu"], ["commune", "Commune"], ["deal_point", "Point de deal"]];
const CODES = Object.entries(HANDLING);

let uid = 0;
const nextId = (base) => `${base}-${(uid += 1)}`;

function field(label, control, hint) {
  control.id = control.id || nextId("champ");
  const group = control.tagName === "SELECT" ? "fr-select-group" : "fr-input-group";
  return h("div", { class: group },
    h("label", { class: "fr-label", for: control.id }, label, hint ? h("span", { class: "fr-hint-text" }, hint) : null),
    control);
}
const input = (attrs) => h("input", { class: "fr-input", autocomplete: "off", ...attrs });
const select = (options, attrs = {}) => h("select", { class: "fr-select", ...attrs },
  options.map(([value, label]) => h("option", { value }, label)));
const section = (id, title, ...content) => h("section", { class: "fr-mb-6w", "aria-labelledby": id },
  h("h2", { class: "fr-h4", id }, title), ...content);
const sub = (id, title, ...content) => h("section", { class: "fr-mb-4w", "aria-labelledby": id },
  h("h3", { class: "fr-h5", id, tabindex: "-1" }, title), ...content);

// A form whose submit calls `send()`; success reloads the dossier and puts the focus back on the
// heading of the form's part (the form itself was redrawn), errors are said in place.
function form(id, controls, button, send) {
  const status = h("div", { "aria-live": "polite" });
  const el = h("form", { class: "ch-dossier-form", id }, ...controls,
    h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, button), status);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(async () => {
      try {
        const heading = el.closest("section")?.querySelector("h3")?.id;
        await send();
        await load();
        if (heading) document.getElementById(heading)?.focus();
      } catch (err) {
        status.replaceChildren(alertBox("error", errorMessage(err)));
      }
    });
  });
  return el;
}

const base = (id) => `/api/v1/dossiers/${encodeURIComponent(id)}`;
const call = (path, method, body) => api(path, { method, body, consult: !body });
const mutate = (path, body, method = "POST") => api(path, { method, body: { ...body, justification: motifText() } });
const motifText = () => document.querySelector('meta[name="crosshub-motif"]')?.getAttribute("content") || "";

// --- opening a dossier -----------------------------------------------------------------------------

const newTitle = input({ name: "title", required: true, minlength: 3, maxlength: 200, id: "dossier-titre" });
const newCode = select(CODES, { name: "handling_code", id: "dossier-code" });
newCode.value = "H1";
const createStatus = h("div", { "aria-live": "polite" });
const createForm = h("form", { id: "form-dossier" },
  field("Intitulé", newTitle, "sans nom, téléphone ni adresse : le hub les refuse"),
  field("Code de traitement du dossier", newCode, "décide quels membres peuvent le consulter"),
  h("button", { class: "fr-btn", type: "submit" }, "Ouvrir le dossier"), createStatus);
createForm.addEventListener("submit", (event) => {
  event.preventDefault();
  busy(async () => {
    try {
      const made = await mutate("/api/v1/dossiers", { title: newTitle.value.trim(), handling_code: newCode.value });
      window.location.assign(`/dossiers?dossier=${encodeURIComponent(made.dossier_id)}`);
    } catch (err) {
      createStatus.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
});

// --- the list ---------------------------------------------------------------------------------------

const list = h("div", { id: "liste-dossiers" });

async function loadList() {
  try {
    const rows = await call("/api/v1/dossiers", "GET");
    list.replaceChildren(rows.length ? table("Mes dossiers", ["Dossier", "Service pilote", "Code", "État", "Tâches en retard"],
      rows.map((d) => [
        d.access === "read" ? h("a", { href: `/dossiers?dossier=${encodeURIComponent(d.dossier_id)}` }, d.title)
          : h("span", {}, `Dossier signalé — contact : ${d.contact || "non communiqué"}`),
        agency(d.agency), d.handling_code || "—",
        d.status === "closed" ? badge("Clos", "info") : d.status ? badge("Ouvert", "success") : "—",
        d.overdue_tasks ? badge(String(d.overdue_tasks), "warning") : "0"]))
      : h("p", {}, "Vous n'êtes membre d'aucun dossier."));
  } catch (err) {
    list.replaceChildren(alertBox("error", errorMessage(err)));
  }
}

// --- one dossier ------------------------------------------------------------------------------------

const detail = h("section", { id: "dossier", class: "fr-mb-6w", "aria-labelledby": "titre-dossier" });

function leadItem(x) {
  if (x.access === "hit") {
    return h("li", { class: "ch-dossier-lead", dataset: { access: "hit" } }, hitCard(x.hit));
  }
  const l = x.lead;
  return h("li", { class: "ch-dossier-lead", dataset: { access: x.access } },
    h("a", { href: `/pistes/${encodeURIComponent(l.lead_id)}` }, `${kindLabel(l.kind)} — ${agency(l.source_agency)}`),
    ` · ${l.handling_code}`, x.access === "redacted" ? " · vue partielle" : "",
    l.narrative ? h("p", { class: "fr-text--sm fr-mb-1w" }, l.narrative) : null);
}

function entityItem(e) {
  if (e.access === "hit") {
    return h("li", { dataset: { access: "hit" } }, `${kindLabel(e.kind)} détenu(e) par un autre service`,
      e.hits.map((hit) => hitCard(hit)));
  }
  return h("li", { dataset: { access: "read" } },
    h("a", { href: `/entites/${encodeURIComponent(e.node.kind)}/${encodeURIComponent(e.node.key)}` }, e.node.label));
}

function commentItem(c) {
  if (c.access === "hit") {
    return h("li", { class: "ch-dossier-comment", dataset: { access: "hit" } },
      `${when(c.created_at)} — commentaire de ${agency(c.agency)} que son marquage ne vous permet pas de lire ; contact : ${c.contact || "non communiqué"}`);
  }
  return h("li", { class: "ch-dossier-comment", dataset: { access: "read" } },
    h("p", { class: "fr-text--sm fr-mb-0" }, `${when(c.created_at)} — ${c.author_name} (${agency(c.agency)}) · ${c.handling_code}`),
    h("p", { class: "fr-mb-1w" }, c.text));
}

function taskRow(d, t) {
  const box = h("input", { type: "checkbox", id: nextId("tache-faite"), checked: t.done, disabled: d.status !== "open" });
  box.addEventListener("change", () => busy(async () => {
    try {
      await mutate(`${base(d.dossier_id)}/tasks/${encodeURIComponent(t.task_id)}`, { done: box.checked }, "PATCH");
      await load();
    } catch (err) {
      box.checked = !box.checked;
      detail.prepend(alertBox("error", errorMessage(err)));
    }
  }));
  return [t.title, t.assignee_name, when(t.due_date),
    h("div", { class: "fr-checkbox-group fr-checkbox-group--sm" }, box,
      h("label", { class: "fr-label", for: box.id }, t.done ? "Faite" : "À faire", h("span", { class: "fr-sr-only" }, ` : ${t.title}`))),
    t.overdue ? badge("En retard", "warning") : ""];
}

async function memberForm(d) {
  let people = [];
  try {
    people = await api(`${base(d.dossier_id)}/eligible-members`);
  } catch { /* nobody to propose */ }
  if (!people.length) return h("p", { class: "fr-text--sm" }, "Personne d'autre ne peut consulter ce dossier à son code.");
  const who = select(people.map((p) => [p.user_id, `${p.name} — ${agency(p.agency)}`]), { name: "user_id" });
  return form("form-membre", [field("Ajouter un membre", who)], "Ajouter",
    () => mutate(`${base(d.dossier_id)}/members`, { user_id: who.value }));
}

function memberItem(d, m) {
  const item = h("li", {}, `${m.name} — ${agency(m.agency)}`);
  if (d.may_manage && d.status === "open" && d.members.length > 1) {
    const button = h("button", { class: "fr-btn fr-btn--tertiary fr-btn--sm fr-ml-1w", type: "button" },
      "Retirer", h("span", { class: "fr-sr-only" }, ` ${m.name}`));
    button.addEventListener("click", () => busy(async () => {
      try {
        await api(`${base(d.dossier_id)}/members/${encodeURIComponent(m.user_id)}`, { method: "DELETE", consult: true });
        await load();
      } catch (err) {
        item.append(alertBox("error", errorMessage(err)));
      }
    }));
    item.append(button);
  }
  return item;
}

async function renderDossier(d) {
  const title = h("h2", { class: "fr-h3", id: "titre-dossier", tabindex: "-1" },
    d.access === "hit" ? "Dossier signalé" : d.title);
  if (d.access === "hit") {
    detail.replaceChildren(title, alertBox("info",
      `Le code de traitement de ce dossier ne vous permet pas de le consulter. Service pilote : ${agency(d.agency)} ; contact : ${d.contact || "non communiqué"}.`));
    return title;
  }
  const open = d.status === "open";
  const parts = [title,
    h("div", { class: `ch-marking ch-marking--${d.handling_code}`, role: "note", "aria-label": "Marquage du dossier" },
      `${HANDLING[d.handling_code] || d.handling_code} · Service pilote : ${agency(d.agency)} · `,
      open ? "Ouvert" : `Clos (${d.outcome_label_fr || d.outcome}) le ${when(d.closed_at)}`),
    d.closing_note ? h("p", {}, d.closing_note) : null];

  parts.push(sub("titre-membres", "Membres", h("ul", { id: "dossier-membres" }, d.members.map((m) => memberItem(d, m))),
    d.may_manage && open ? await memberForm(d) : null));

  const leadId = input({ name: "lead_id", required: true, maxlength: 100 });
  parts.push(sub("titre-pistes", "Pistes liées",
    d.leads.length ? h("ul", { id: "dossier-pistes" }, d.leads.map(leadItem)) : h("p", {}, "Aucune piste liée visible."),
    open ? form("form-piste", [field("Identifiant de la piste à lier", leadId, "L-…, tel qu'affiché sur la fiche de piste")],
      "Lier la piste", () => mutate(`${base(d.dossier_id)}/leads`, { lead_id: leadId.value.trim() })) : null));

  const entityKind = select(ENTITY_KINDS, { name: "entity_kind" });
  const entityKey = input({ name: "key", required: true, maxlength: 300 });
  parts.push(sub("titre-entites", "Entités liées",
    d.entities.length ? h("ul", {}, d.entities.map(entityItem)) : h("p", {}, "Aucune entité liée visible."),
    open ? form("form-entite", [field("Type d'entité", entityKind), field("Valeur", entityKey)], "Lier l'entité",
      () => mutate(`${base(d.dossier_id)}/entities`, { entity_kind: entityKind.value, key: entityKey.value.trim() })) : null));

  const taskTitle = input({ name: "title", required: true, maxlength: 300 });
  const assignee = select(d.members.map((m) => [m.user_id, m.name]), { name: "assignee_user_id" });
  const due = input({ name: "due_date", type: "date", required: true });
  parts.push(sub("titre-taches", "Tâches",
    d.tasks.length ? table("Tâches du dossier", ["Tâche", "Chargé", "Échéance", "État", "Retard"], d.tasks.map((t) => taskRow(d, t)))
      : h("p", {}, "Aucune tâche."),
    open ? form("form-tache", [field("Tâche", taskTitle), field("Confiée à", assignee), field("Échéance", due)], "Ajouter la tâche",
      () => mutate(`${base(d.dossier_id)}/tasks`, { title: taskTitle.value.trim(), assignee_user_id: assignee.value, due_date: due.value })) : null));

  const text = h("textarea", { class: "fr-input", name: "text", rows: 3, required: true, maxlength: 4000 });
  const code = select(CODES, { name: "handling_code" });
  code.value = d.handling_code;
  parts.push(sub("titre-commentaires", "Commentaires",
    d.comments.length ? h("ul", { id: "dossier-commentaires" }, d.comments.map(commentItem)) : h("p", {}, "Aucun commentaire visible."),
    open ? form("form-commentaire", [field("Commentaire", text, "sans identifiant brut"),
      field("Code de traitement du commentaire", code, "chaque membre le lira selon ce code")], "Publier",
    () => mutate(`${base(d.dossier_id)}/comments`, { text: text.value.trim(), handling_code: code.value })) : null));

  if (d.may_manage) {
    if (open) {
      const outcome = select(OUTCOMES, { name: "outcome" });
      const note = h("textarea", { class: "fr-input", name: "note", rows: 2, maxlength: 2000 });
      parts.push(sub("titre-cloture", "Clore le dossier", form("form-cloture",
        [field("Issue", outcome, "une interpellation ou une saisie compte pour les pistes liées"), field("Note de clôture", note)],
        "Clore", () => mutate(`${base(d.dossier_id)}/close`, { outcome: outcome.value, note: note.value.trim() || null }))));
    } else {
      parts.push(sub("titre-cloture", "Rouvrir le dossier", form("form-reouverture", [], "Rouvrir",
        () => mutate(`${base(d.dossier_id)}/reopen`, {}))));
    }
  }
  detail.replaceChildren(...parts);
  return title;
}

let shown = false;
async function loadDossier() {
  try {
    const d = await call(base(selected), "GET");
    const title = await renderDossier(d);
    if (!shown) title.focus(); // the dossier asked for: where keyboard and reader start
    shown = true;
  } catch (err) {
    detail.replaceChildren(h("h2", { class: "fr-h4", id: "titre-dossier" }, "Dossier"), alertBox("error", errorMessage(err)));
  }
}

function load() {
  return Promise.all([loadList(), selected ? loadDossier() : null]);
}

root.append(
  ...(selected ? [detail] : []),
  section("titre-mes-dossiers", "Mes dossiers", list),
  section("titre-ouvrir", "Ouvrir un dossier", createForm));
busy(load);

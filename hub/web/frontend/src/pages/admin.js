// Administration: connectors' last runs and quarantine, guest grants (grant, revoke, expiry),
// users and their open sessions and tokens. Each section is the answer of one API call; a
// section whose call the API refuses this caller (403) is not shown, so the page shows each
// role what its own API calls allow and nothing is decided here.
import { api, when } from "../lib/api.js";
import { alertBox, badge, clear, errorMessage, h, table } from "../lib/dom.js";
import { agency } from "../lib/labels.js";
import { boot } from "../lib/shell.js";

const root = boot();

const RUN_STATUS = { ok: ["Réussie", "success"], partial: ["Partielle", "warning"], failed: ["En échec", "error"] };
const FAULT = { source: "la source", hub: "le hub", ours: "la configuration du connecteur" };
const ROLES = { analyst: "Analyste", coordinator: "Chef de la CROSS", connector: "Connecteur", auditor: "Auditeur",
                administrator: "Administrateur", guest_referent: "Référent invité" };
const GRANT_STATUS = { scheduled: ["À venir", "info"], active: ["En vigueur", "success"],
                       expired: ["Expirée", "new"], revoked: ["Révoquée", "warning"] };

function section(id, title, ...content) {
  return h("section", { class: "fr-mt-4w", id, "aria-labelledby": `${id}-titre` },
    h("h2", { class: "fr-h4", id: `${id}-titre` }, title), ...content);
}

function field(id, label, input, hint) {
  return h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, label, hint ? h("span", { class: "fr-hint-text" }, hint) : null),
    input);
}

// A table wider than the page scrolls: reachable from the keyboard (RGAA, axe
// scrollable-region-focusable).
function scrollable(wrapper) {
  wrapper.querySelector("table")?.setAttribute("tabindex", "0");
  return wrapper;
}

function lines(text) {
  return text.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
}

// A section filled by `load(box)`: removed from the page if the API refuses the caller (403).
async function mount(box, load) {
  root.append(box);
  try {
    await load(box);
    return true;
  } catch (err) {
    if (err.status === 403) {
      box.remove();
      return false;
    }
    box.append(alertBox("error", errorMessage(err)));
    return true;
  }
}

// --- connectors --------------------------------------------------------------------------------

async function connectors(box) {
  const all = await api("/api/v1/connectors");
  if (!all.length) {
    box.append(h("p", {}, "Aucun connecteur n'a encore déclaré d'exécution."));
    return;
  }
  const last = all.map((c) => [c, c.runs[0]]).filter(([, run]) => run);
  const quarantined = last.filter(([, run]) => run.count_quarantined > 0);
  box.append(
    quarantined.length
      ? alertBox("warning", `${quarantined.length} connecteur(s) ont mis des enregistrements en quarantaine lors de leur dernière exécution : ${quarantined.map(([c]) => c.connector).join(", ")}.`)
      : alertBox("info", "Aucun enregistrement en quarantaine lors des dernières exécutions."),
    scrollable(table("Dernière exécution de chaque connecteur",
      ["Connecteur", "Service", "Début", "Durée", "Statut", "Lus", "Envoyés", "Quarantaine", "Rejetés par le hub", "En attente", "Dernière erreur"],
      last.map(([c, run]) => {
        const [label, kind] = RUN_STATUS[run.status] || [run.status, "info"];
        return [c.connector, agency(run.agency), when(run.started_at), `${Number(run.duration_s).toFixed(1)} s`,
          badge(label, kind), String(run.count_in), String(run.count_pushed), String(run.count_quarantined),
          String(run.count_rejected), String(run.outbox_pending),
          run.last_error ? `${run.last_error}${run.fault ? ` (en cause : ${FAULT[run.fault] || run.fault})` : ""}` : "—"];
      }))));
  const history = all.filter((c) => c.runs.length > 1);
  for (const c of history) {
    box.append(h("details", { class: "fr-mt-2w" }, h("summary", {}, `Historique de ${c.connector} (${c.runs.length} exécutions)`),
      table(`Exécutions de ${c.connector}`, ["Début", "Statut", "Lus", "Envoyés", "Quarantaine", "En attente"],
        c.runs.map((run) => [when(run.started_at), (RUN_STATUS[run.status] || [run.status])[0], String(run.count_in),
          String(run.count_pushed), String(run.count_quarantined), String(run.outbox_pending)]))));
  }
}

// --- guest grants ------------------------------------------------------------------------------

// The API decides whether this caller may grant (grants.manage): an empty grant is refused 403
// to a caller who may not, and 422 (nothing created) to one who may.
async function mayGrant() {
  try {
    await api("/api/v1/guest-grants", { method: "POST", body: {} });
    return true;
  } catch (err) {
    return err.status === 422;
  }
}

function revokeButton(grant, onDone, status) {
  return h("button", { class: "fr-btn fr-btn--sm fr-btn--tertiary", type: "button",
                       "aria-label": `Révoquer l'autorisation ${grant.grant_id} de ${grant.grantee_name || grant.grantee_user_id}`,
                       onclick: async (event) => {
                         event.currentTarget.disabled = true;
                         try {
                           await api(`/api/v1/guest-grants/${encodeURIComponent(grant.grant_id)}/revoke`,
                                     { method: "POST", body: { reason: "Révoquée depuis l'administration" } });
                           onDone(`Autorisation ${grant.grant_id} révoquée : l'invité n'y a plus accès.`);
                         } catch (err) {
                           status.replaceChildren(alertBox("error", errorMessage(err)));
                         }
                       } }, "Révoquer");
}

function grantForm(onDone) {
  const grantee = h("input", { class: "fr-input", id: "invite-id", name: "grantee_user_id", required: true, autocomplete: "off" });
  const leads = h("textarea", { class: "fr-input", id: "invite-pistes", name: "lead_ids", rows: 2 });
  const entities = h("textarea", { class: "fr-input", id: "invite-entites", name: "entity_keys", rows: 2 });
  const until = h("input", { class: "fr-input", id: "invite-fin", name: "valid_until", type: "date", required: true });
  const reason = h("input", { class: "fr-input", id: "invite-motif", name: "reason", required: true, minlength: 5, maxlength: 500 });
  const status = h("div", { "aria-live": "polite" });
  const form = h("form", { id: "form-autorisation", class: "ch-admin-form" },
    h("h3", { class: "fr-h5" }, "Accorder une autorisation d'invité"),
    field("invite-id", "Référent invité", grantee, "Identifiant service:nom d'un compte de rôle référent invité"),
    field("invite-pistes", "Pistes couvertes", leads, "Identifiants de pistes, séparés par des espaces ou des retours à la ligne"),
    field("invite-entites", "Entités couvertes", entities, "type:clé, p. ex. vehicle:AB-123-CD"),
    field("invite-fin", "Fin de validité", until, "90 jours au plus ; l'accès cesse à minuit (heure de Paris) de ce jour"),
    field("invite-motif", "Motif de l'invitation", reason, "Journalisé comme justification"),
    h("button", { class: "fr-btn", type: "submit" }, "Accorder"), status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // The end of the chosen day in Paris: midnight of the next day, Paris offset included.
    const end = new Date(`${until.value}T00:00:00Z`);
    end.setUTCDate(end.getUTCDate() + 1);
    const iso = end.toISOString().slice(0, 10);
    const offset = new Intl.DateTimeFormat("en-US", { timeZone: "Europe/Paris", timeZoneName: "longOffset" })
      .formatToParts(new Date(`${iso}T00:00:00Z`)).find((p) => p.type === "timeZoneName")?.value.replace("GMT", "");
    const body = { grantee_user_id: grantee.value.trim(), lead_ids: lines(leads.value), entity_keys: lines(entities.value),
                   valid_until: `${iso}T00:00:00${offset || "+00:00"}`, reason: reason.value.trim() };
    try {
      const made = await api("/api/v1/guest-grants", { method: "POST", body });
      onDone(`Autorisation ${made.grant_id} accordée à ${made.grantee_name || made.grantee_user_id} jusqu'au ${when(made.valid_until)}.`);
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

async function grants(box, notice) {
  const [all, manage] = await Promise.all([api("/api/v1/guest-grants"), mayGrant()]);
  const reload = (message) => { clear(box); grants(box, message).catch((err) => box.append(alertBox("error", errorMessage(err)))); };
  const status = h("div", { "aria-live": "polite" });
  box.append(h("h2", { class: "fr-h4", id: "autorisations-titre" }, "Autorisations d'invité"),
    notice ? alertBox("success", notice) : null, status);
  if (!all.length) box.append(h("p", {}, "Aucune autorisation d'invité."));
  else {
    box.append(scrollable(table("Autorisations d'invité", ["Référence", "Invité", "Couvre", "Du", "Au", "Statut", "Accordée par", "Motif", "Action"],
      all.map((g) => {
        const [label, kind] = GRANT_STATUS[g.status] || [g.status, "info"];
        const live = g.status === "active" || g.status === "scheduled";
        return [g.grant_id, `${g.grantee_name || ""} (${g.grantee_user_id})`,
          [...g.lead_ids.map((id) => `piste ${id}`), ...g.entity_keys].join(", ") || "—",
          when(g.valid_from), when(g.valid_until),
          [badge(label, kind), g.revoked_at ? ` le ${when(g.revoked_at)}` : ""],
          g.granted_by_name || g.granted_by, g.reason,
          manage && live ? revokeButton(g, reload, status) : "—"];
      }))));
  }
  if (manage) box.append(grantForm(reload));
}

// --- users and tokens --------------------------------------------------------------------------

async function users(box, notice) {
  const all = await api("/api/v1/admin/users");
  const reload = (message) => { clear(box); users(box, message).catch((err) => box.append(alertBox("error", errorMessage(err)))); };
  const status = h("div", { "aria-live": "polite" });
  box.append(h("h2", { class: "fr-h4", id: "utilisateurs-titre" }, "Utilisateurs et jetons"),
    notice ? alertBox("success", notice) : null, status,
    table("Comptes", ["Identifiant", "Nom", "Service", "Rôle", "État", "Sessions ouvertes", "Jetons d'API actifs", "Action"],
      all.map((u) => [u.user_id, u.name, agency(u.agency), ROLES[u.role] || u.role,
        u.disabled ? badge("désactivé", "warning") : badge("actif", "success"),
        String(u.open_sessions), String(u.active_tokens),
        u.open_sessions || u.active_tokens ? h("button", {
          class: "fr-btn fr-btn--sm fr-btn--tertiary", type: "button",
          "aria-label": `Tout révoquer : sessions et jetons d'API de ${u.user_id}`,
          onclick: async (event) => {
            event.currentTarget.disabled = true;
            try {
              const done = await api(`/api/v1/auth/users/${encodeURIComponent(u.user_id)}/revoke-all`, { method: "POST" });
              reload(`${u.user_id} : ${done.sessions_revoked} session(s) et ${done.api_tokens_revoked} jeton(s) d'API révoqué(s).`);
            } catch (err) {
              status.replaceChildren(alertBox("error", errorMessage(err)));
            }
          } }, "Tout révoquer") : "—"])));
}

// --- the page ----------------------------------------------------------------------------------

async function render() {
  clear(root);
  const shown = await Promise.all([
    mount(section("connecteurs", "Connecteurs : dernières exécutions et quarantaine"), connectors),
    mount(h("section", { class: "fr-mt-4w", id: "autorisations", "aria-labelledby": "autorisations-titre" }), (box) => grants(box)),
    mount(h("section", { class: "fr-mt-4w", id: "utilisateurs", "aria-labelledby": "utilisateurs-titre" }), (box) => users(box)),
  ]);
  if (!shown.some(Boolean)) root.append(alertBox("info", "Aucune section d'administration n'est ouverte à votre rôle."));
}

render();

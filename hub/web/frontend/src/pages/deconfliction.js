// Deconfliction: the alerts between an operation of the caller's agency and another agency's
// (acknowledge them), the leads of other agencies that touch the agency's operations (ADR 0017:
// each lead as the API lets the reader know it — a hit says only who holds it and whom to call;
// refreshed live when such an alert arrives), the declaration of a planned operation, and the
// agency's operations.
// What a clash is, and what the page may know of the other operation, is the API's: the page
// shows its answers as they come.
import { api, when } from "../lib/api.js";
import { agency, kind as leadKind } from "../lib/labels.js";
import { alertBox, badge, clear, errorMessage, h, table } from "../lib/dom.js";
import { boot, busyTracker, onNotification } from "../lib/shell.js";

const root = boot();

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
const busy = busyTracker(root);

const KINDS = {
  surveillance: "Surveillance", controlled_delivery: "Livraison surveillée", arrest: "Interpellation",
  search: "Perquisition",
};
const STATUSES = { planned: "Prévue", active: "En cours", done: "Terminée", cancelled: "Annulée" };
const label = (map, code) => map[code] || code || "—";

// The API's message names the field and the reason its details repeat: say it once.
function refusal(err) {
  const details = err?.details || [];
  const repeated = details.length && details.every((d) => String(err.message || "").includes(d.reason));
  return errorMessage(repeated ? { status: err.status, message: err.message } : err);
}

function group(id, text, control, hint) {
  const select = control.tagName === "SELECT";
  return h("div", { class: select ? "fr-select-group" : "fr-input-group" },
    h("label", { class: "fr-label", for: id }, text, hint ? h("span", { class: "fr-hint-text" }, hint) : null), control);
}

function element(...children) {
  return h("div", { class: "fr-fieldset__element" }, children);
}

function lines(text) {
  return text.split(/[\n;,]+/).map((x) => x.trim()).filter(Boolean);
}

const period = (start, end) => `du ${when(start)} au ${when(end)}`;

// --- alerts -------------------------------------------------------------------------------------

function alertCard(alert, onChange) {
  const mine = alert.own_operation.agency;
  const acked = alert.acknowledged_by.some((a) => a.agency === mine);
  const other = alert.other_operation;
  const titleId = `alerte-${alert.alert_id}`;
  const card = h("article", { class: `ch-deconfliction ch-deconfliction--${alert.status}`,
                              dataset: { alertId: alert.alert_id }, "aria-labelledby": titleId },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId },
      `Conflit avec une opération de ${other.kind_label_fr} (${other.agency_label_fr})`),
    h("p", { class: "fr-mb-1w" },
      badge(alert.status === "open" ? "Ouverte" : "Close", alert.status === "open" ? "warning" : "success"), " ",
      acked ? badge("Acquittée par votre service", "success") : badge("À acquitter par votre service", "new")),
    h("p", {}, alert.message_fr),
    h("dl", { class: "ch-sheet" },
      h("dt", {}, "Motifs"), h("dd", {}, alert.reasons_fr.join(" ; ") || "—"),
      h("dt", {}, "Cibles communes"), h("dd", {}, alert.shared_targets.join(", ") || "aucune"),
      alert.distance_m != null ? [h("dt", {}, "Distance entre les lieux"), h("dd", {}, `${Math.round(alert.distance_m)} m`)] : null,
      h("dt", {}, "Chevauchement"), h("dd", {}, period(alert.overlap_start, alert.overlap_end)),
      h("dt", {}, "Votre opération"), h("dd", {},
        `${label(KINDS, alert.own_operation.kind)}${alert.own_operation.title ? ` « ${alert.own_operation.title} »` : ""}, `
        + `${alert.own_operation.unit}, ${period(alert.own_operation.starts_at, alert.own_operation.ends_at)}`),
      h("dt", {}, "L'autre opération"), h("dd", {},
        `${other.kind_label_fr} (${other.agency_label_fr}), ${period(other.starts_at, other.ends_at)}`),
      h("dt", {}, "Contact"), h("dd", {}, other.contact || "non communiqué"),
      h("dt", {}, "Acquittements"), h("dd", { class: "ch-acks" }, alert.acknowledged_by.length
        ? alert.acknowledged_by.map((a) => `${agency(a.agency)} le ${when(a.at)}${a.user_name ? ` (${a.user_name})` : ""}`).join(" ; ")
        : "aucun"),
      alert.awaiting.length ? [h("dt", {}, "En attente de"), h("dd", {}, alert.awaiting.map(agency).join(", "))] : null,
      alert.closed_at ? [h("dt", {}, "Close le"), h("dd", {}, when(alert.closed_at))] : null));
  if (!acked) card.append(ackForm(alert, onChange));
  return card;
}

function ackForm(alert, onChange,
  path = `/api/v1/deconfliction/alerts/${encodeURIComponent(alert.alert_id)}/acknowledge`,
  text = "Ce qui a été convenu avec l'autre service") {
  const id = `note-${alert.alert_id}`;
  const note = h("textarea", { class: "fr-input", id, name: "note", rows: 2, maxlength: 2000 });
  const status = h("div", { "aria-live": "polite" });
  const submit = h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Acquitter l'alerte");
  const form = h("form", { class: "ch-ack-form" },
    group(id, text, note, "Facultatif ; lu par votre service seulement"),
    submit, status);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    submit.disabled = true;
    try {
      const out = await api(path, { method: "POST", body: { note: note.value.trim() } });
      onChange(out.alert, out.changed ? "Alerte acquittée par votre service." : "Votre service avait déjà acquitté cette alerte.");
    } catch (err) {
      status.replaceChildren(alertBox("error", refusal(err)));
      submit.disabled = false;
    }
  });
  return form;
}

function alertsSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-alertes" },
    h("h2", { class: "fr-h4", id: "titre-alertes" }, "Alertes de déconfliction"));
  const all = h("input", { type: "checkbox", id: "alertes-closes", name: "closes" });
  section.append(h("div", { class: "fr-checkbox-group fr-mb-2w" }, all,
    h("label", { class: "fr-label", for: "alertes-closes" }, "Afficher aussi les alertes closes")));
  const out = h("div", { id: "alertes" });
  section.append(out);

  const load = (message) => busy(() => loadAlerts(message));
  async function loadAlerts(message) {
    out.replaceChildren(h("p", { class: "ch-loading", role: "status" }, "Chargement des alertes…"));
    let alerts;
    try {
      alerts = await api("/api/v1/deconfliction/alerts", { query: { open: !all.checked }, consult: true });
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
      return;
    }
    clear(out);
    if (message) out.append(alertBox("success", message));
    out.append(h("p", { role: "status" }, alerts.length
      ? `${alerts.length} alerte(s)${all.checked ? "" : " ouverte(s)"}.`
      : `Aucune alerte${all.checked ? "" : " ouverte"} pour votre service.`));
    for (const alert of alerts) {
      out.append(alertCard(alert, (updated, said) => {
        const card = out.querySelector(`[data-alert-id="${CSS.escape(alert.alert_id)}"]`);
        const fresh = alertCard(updated, () => {});
        fresh.prepend(alertBox("success", said));
        card.replaceWith(fresh);
        fresh.querySelector("h3").setAttribute("tabindex", "-1");
        fresh.querySelector("h3").focus();
      }));
    }
  }
  all.addEventListener("change", () => load());
  load();
  return { section, reload: load };
}

// --- leads of other agencies that touch the agency's operations ----------------------------------

function leadText(lead) {
  if (lead.access === "hit") {
    return `${lead.agency_label_fr} détient une piste que vous ne pouvez pas consulter — contact : ${lead.contact || "non communiqué"}`;
  }
  return h("span", {}, h("a", { href: `/pistes/${encodeURIComponent(lead.lead_id)}` }, lead.lead_id),
    ` — ${lead.agency_label_fr}${lead.kind ? `, ${leadKind(lead.kind)}` : ""}`
    + (lead.access === "redacted" ? " (version expurgée)" : ""));
}

function leadAlertCard(alert, onChange) {
  const titleId = `alerte-piste-${alert.alert_id}`;
  const op = alert.operation;
  const card = h("article", { class: `ch-deconfliction ch-deconfliction--${alert.status}`,
                              dataset: { leadAlertId: alert.alert_id }, "aria-labelledby": titleId },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId },
      `Piste d'un autre service (${alert.lead.agency_label_fr}) sur votre opération`),
    h("p", { class: "fr-mb-1w" },
      badge(alert.status === "open" ? "Ouverte" : "Close", alert.status === "open" ? "warning" : "success"), " ",
      alert.lead.access === "hit" ? badge("Signalement seul (hit)", "info") : null),
    h("p", {}, alert.message_fr),
    h("dl", { class: "ch-sheet" },
      h("dt", {}, "Piste"), h("dd", { class: "ch-lead" }, leadText(alert.lead)),
      h("dt", {}, "Motifs"), h("dd", {}, alert.reasons_fr.join(" ; ") || "—"),
      h("dt", {}, "Votre opération"), h("dd", {},
        `${label(KINDS, op.kind)}${op.title ? ` « ${op.title} »` : ""}, ${op.unit}, ${period(op.starts_at, op.ends_at)}`),
      h("dt", {}, "Auteur de la piste"), h("dd", {}, alert.author_told
        ? "invité à contacter votre service (rien d'autre ne lui a été dit)"
        : "n'a pas été prévenu"),
      alert.acknowledged_by.length ? [h("dt", {}, "Acquittée"), h("dd", { class: "ch-acks" },
        alert.acknowledged_by.map((a) => `le ${when(a.at)}${a.user_name ? ` (${a.user_name})` : ""}`).join(" ; "))] : null));
  if (alert.status === "open") {
    card.append(ackForm(alert, onChange, `/api/v1/deconfliction/lead-alerts/${encodeURIComponent(alert.alert_id)}/acknowledge`,
      "Ce qui a été fait (appel au service de la piste, opération adaptée…)"));
  }
  return card;
}

function leadAlertsSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-alertes-pistes" },
    h("h2", { class: "fr-h4", id: "titre-alertes-pistes" }, "Pistes d'autres services touchant vos opérations"),
    h("p", { class: "fr-text--sm" }, "Une nouvelle piste d'un autre service qui touche une cible de votre opération, ou "
      + "tombe dans sa zone pendant son créneau. Son auteur n'en sait rien, sauf si votre opération le prévoit."));
  const all = h("input", { type: "checkbox", id: "alertes-pistes-closes", name: "closes_pistes" });
  section.append(h("div", { class: "fr-checkbox-group fr-mb-2w" }, all,
    h("label", { class: "fr-label", for: "alertes-pistes-closes" }, "Afficher aussi les alertes closes")));
  const out = h("div", { id: "alertes-pistes" });
  section.append(out);

  const load = () => busy(loadAlerts);
  async function loadAlerts() {
    let alerts;
    try {
      alerts = await api("/api/v1/deconfliction/lead-alerts", { query: { open: !all.checked }, consult: true });
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
      return;
    }
    clear(out);
    out.append(h("p", { role: "status" }, alerts.length
      ? `${alerts.length} alerte(s)${all.checked ? "" : " ouverte(s)"}.`
      : `Aucune piste d'un autre service ne touche vos opérations${all.checked ? "" : " (alertes ouvertes)"}.`));
    for (const alert of alerts) {
      out.append(leadAlertCard(alert, (updated, said) => {
        const card = out.querySelector(`[data-lead-alert-id="${CSS.escape(alert.alert_id)}"]`);
        const fresh = leadAlertCard(updated, () => {});
        fresh.prepend(alertBox("success", said));
        card.replaceWith(fresh);
        fresh.querySelector("h3").setAttribute("tabindex", "-1");
        fresh.querySelector("h3").focus();
      }));
    }
  }
  all.addEventListener("change", load);
  // Live: the hub tells the agency of a new alert; the list is read again from the API.
  onNotification((note) => { if (note?.kind === "lead_operation_clash") load(); });
  load();
  return { section, reload: load };
}

// --- operations ---------------------------------------------------------------------------------

function operationsSection() {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-operations" },
    h("h2", { class: "fr-h4", id: "titre-operations" }, "Opérations de mon service"));
  const past = h("input", { type: "checkbox", id: "operations-passees", name: "passees" });
  section.append(h("div", { class: "fr-checkbox-group fr-mb-2w" }, past,
    h("label", { class: "fr-label", for: "operations-passees" }, "Inclure les opérations terminées")));
  const out = h("div", { id: "operations" });
  section.append(out);

  const load = () => busy(loadOperations);
  async function loadOperations() {
    out.replaceChildren(h("p", { class: "ch-loading", role: "status" }, "Chargement des opérations…"));
    try {
      const ops = await api("/api/v1/operations", { query: { include_past: past.checked }, consult: true });
      out.replaceChildren(ops.length ? table("Opérations de mon service",
        ["Nature", "Intitulé", "Unité", "Début", "Fin", "Lieu", "Cibles", "Statut", "Déclarée par"],
        ops.map((o) => [label(KINDS, o.kind), o.title || "—", o.unit, when(o.starts_at), when(o.ends_at),
          [o.place.commune, o.place.insee_code].filter(Boolean).join(" — "),
          o.targets.join(", ") || "—", label(STATUSES, o.status), o.created_by_name]))
        : h("p", {}, "Aucune opération déclarée par votre service."));
    } catch (err) {
      out.replaceChildren(alertBox("error", refusal(err)));
    }
  }
  past.addEventListener("change", load);
  load();
  return { section, reload: load };
}

function declareSection(onDeclared) {
  const section = h("section", { class: "fr-mb-6w", "aria-labelledby": "titre-declarer" },
    h("h2", { class: "fr-h4", id: "titre-declarer" }, "Déclarer une opération"),
    h("p", { class: "fr-text--sm" }, "Toute opération active d'un autre service qui chevauche votre créneau et partage "
      + "une cible ou un lieu ouvre une alerte pour les deux services, avant que quiconque n'agisse."));
  const c = {
    kind: h("select", { class: "fr-select", id: "op-nature", name: "kind", required: true },
      Object.entries(KINDS).map(([value, text]) => h("option", { value }, text))),
    title: h("input", { class: "fr-input", id: "op-intitule", name: "title", type: "text", maxlength: 200 }),
    unit: h("input", { class: "fr-input", id: "op-unite", name: "unit", type: "text", required: true, maxlength: 200 }),
    starts: h("input", { class: "fr-input", id: "op-debut", name: "starts_at", type: "datetime-local", required: true }),
    ends: h("input", { class: "fr-input", id: "op-fin", name: "ends_at", type: "datetime-local", required: true }),
    insee: h("input", { class: "fr-input", id: "op-insee", name: "insee_code", type: "text", required: true,
                        maxlength: 5, autocomplete: "off", spellcheck: "false" }),
    commune: h("input", { class: "fr-input", id: "op-commune", name: "commune", type: "text", maxlength: 200 }),
    lat: h("input", { class: "fr-input", id: "op-lat", name: "lat", type: "number", step: "any", min: -90, max: 90 }),
    lon: h("input", { class: "fr-input", id: "op-lon", name: "lon", type: "number", step: "any", min: -180, max: 180 }),
    radius: h("input", { class: "fr-input", id: "op-rayon", name: "radius_m", type: "number", min: 10, max: 5000, value: 200 }),
    plates: h("textarea", { class: "fr-input", id: "op-plaques", name: "plates", rows: 2 }),
    phones: h("textarea", { class: "fr-input", id: "op-telephones", name: "phones", rows: 2 }),
    others: h("textarea", { class: "fr-input", id: "op-autres", name: "others", rows: 2, spellcheck: "false" }),
    tell: h("input", { type: "checkbox", id: "op-prevenir", name: "tell_lead_author" }),
  };
  const fieldset = (legend, ...children) => h("fieldset", { class: "fr-fieldset" },
    h("legend", { class: "fr-fieldset__legend" }, legend), children.map((x) => element(x)));
  const status = h("div", { id: "declaration-resultat", "aria-live": "polite" });
  const form = h("form", { id: "declarer-operation", class: "ch-operation-form" },
    fieldset("L'opération",
      group("op-nature", "Nature", c.kind),
      group("op-intitule", "Intitulé", c.title, "Facultatif ; jamais montré aux autres services"),
      group("op-unite", "Unité qui la conduit", c.unit)),
    fieldset("Créneau (heure de Paris)",
      group("op-debut", "Début", c.starts), group("op-fin", "Fin", c.ends)),
    fieldset("Lieu",
      group("op-insee", "Code INSEE de la commune", c.insee, "5 caractères, par exemple 25056"),
      group("op-commune", "Commune", c.commune, "Facultatif"),
      group("op-lat", "Latitude", c.lat, "Facultatif, en degrés décimaux (WGS84)"),
      group("op-lon", "Longitude", c.lon, "Facultatif, en degrés décimaux (WGS84)"),
      group("op-rayon", "Rayon d'action (m)", c.radius)),
    fieldset("Cibles",
      group("op-plaques", "Immatriculations", c.plates, "Une par ligne, toute graphie (ab 123 cd, AB-123-CD)"),
      group("op-telephones", "Téléphones", c.phones, "Un par ligne, tout format français"),
      group("op-autres", "Autres cibles", c.others,
        "Une par ligne au format type:clé — person:<pseudonyme>, location:<clé de lieu>, deal_point:<clé>")),
    fieldset("Pistes d'autres services",
      h("div", { class: "fr-checkbox-group" }, c.tell, h("label", { class: "fr-label", for: "op-prevenir" },
        "Inviter l'auteur d'une piste qui touche l'opération à contacter mon service",
        h("span", { class: "fr-hint-text" }, "Rien d'autre ne lui est dit ; interpellations et perquisitions "
          + "seulement, selon les règles de déconfliction. Par défaut, il n'est pas prévenu.")))),
    h("button", { class: "fr-btn", type: "submit" }, "Déclarer l'opération"),
    status);
  section.append(form);

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const place = { insee_code: c.insee.value.trim(), radius_m: Number(c.radius.value || 200) };
    if (c.commune.value.trim()) place.commune = c.commune.value.trim();
    if (c.lat.value !== "" && c.lon.value !== "") place.point = { lat: Number(c.lat.value), lon: Number(c.lon.value) };
    const targets = [...lines(c.plates.value).map((p) => `vehicle:${p}`),
      ...lines(c.phones.value).map((p) => `phone:${p}`), ...lines(c.others.value)];
    const body = {
      kind: c.kind.value, unit: c.unit.value.trim(), place, targets,
      // datetime-local is the browser's local time (Paris for the CROSS): sent with its offset.
      starts_at: new Date(c.starts.value).toISOString(), ends_at: new Date(c.ends.value).toISOString(),
    };
    if (c.title.value.trim()) body.title = c.title.value.trim();
    if (c.tell.checked) body.tell_lead_author = true;
    status.replaceChildren();
    try {
      const made = await api("/api/v1/operations", { method: "POST", body });
      const n = made.alerts.length;
      status.replaceChildren(alertBox("success",
        `Opération déclarée (référence ${made.operation.operation_id}), cibles : ${made.operation.targets.join(", ") || "aucune"}.`),
        n ? alertBox("warning", `${n} conflit(s) avec une opération d'un autre service : voir les alertes ci-dessus.`) : "");
      onDeclared(made);
    } catch (err) {
      status.replaceChildren(alertBox("error", refusal(err)));
    }
  });
  return section;
}

const alerts = alertsSection();
const leadAlerts = leadAlertsSection();
const operations = operationsSection();
clear(root).append(alerts.section, leadAlerts.section,
  declareSection(() => { alerts.reload(); operations.reload(); }), operations.section);

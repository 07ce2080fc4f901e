// The lead sheet: what the caller may see of one lead, its marking, what the originator
// withheld, its triage state and history, the entities it links, and other agencies' hits.
import { api, when } from "../lib/api.js";
import { alertBox, clear, errorMessage, h, table } from "../lib/dom.js";
import { FIELDS, HANDLING, agency } from "../lib/labels.js";
import { federationSection } from "../lib/federation.js";
import { hitCard } from "../lib/hits.js";
import { boot } from "../lib/shell.js";

const root = boot();
const leadId = root.dataset.leadId;

function row(label, value) {
  return [h("dt", {}, label), h("dd", {}, value ?? "—")];
}

function withheld(field) {
  return h("span", { class: "ch-withheld" }, "Retenu par le service émetteur");
}

function entityLink(kind, key, label) {
  return h("a", { href: `/entites/${encodeURIComponent(kind)}/${encodeURIComponent(key)}` }, label);
}

function linked(lead) {
  const items = [];
  for (const v of lead.vehicles || []) if (v.plate) items.push(["vehicle", v.plate, `Véhicule ${v.plate}${v.make ? ` (${[v.make, v.model, v.colour].filter(Boolean).join(" ")})` : ""}`]);
  for (const p of lead.phones || []) items.push(["phone", p, `Téléphone ${p}`]);
  for (const p of lead.persons || []) items.push(["person", p.pseudonym, `Personne ${p.pseudonym}${p.role ? ` (${p.role})` : ""}`]);
  if (lead.location?.key) items.push(["location", lead.location.key, `Lieu ${[lead.location.place_label, lead.location.address, lead.location.commune].filter(Boolean).join(", ")}`]);
  if (lead.deal_point?.key) items.push(["deal_point", lead.deal_point.key, `Point de deal ${lead.deal_point.label || lead.deal_point.key}`]);
  return items;
}

function field(lead, name, show) {
  if ((lead.redacted || []).includes(name)) return withheld(name);
  return show();
}

async function render() {
  let lead;
  try {
    lead = await api(`/api/v1/leads/${encodeURIComponent(leadId)}`, { consult: true });
  } catch (err) {
    clear(root).append(alertBox("error", errorMessage(err)));
    return;
  }
  clear(root);
  if (!("lead_id" in lead)) { // a hit: someone holds it, the caller may not read it
    document.getElementById("page-title").textContent = "Piste détenue par un autre service";
    root.append(hitCard(lead));
    return;
  }
  document.getElementById("page-title").textContent = `Piste ${lead.lead_id}`;
  const evaluationWithheld = (lead.redacted || []).some((f) => ["evaluation", "source_reliability", "information_credibility"].includes(f));
  const evaluation = evaluationWithheld ? "retenue par le service émetteur"
    : [lead.source_reliability, lead.information_credibility].filter(Boolean).join("") || "non évaluée";
  root.append(h("div", { class: `ch-marking ch-marking--${lead.handling_code}`, role: "note",
                         "aria-label": "Marquage de la piste" },
    `${HANDLING[lead.handling_code] || lead.handling_code} · Évaluation ${evaluation} · ${agency(lead.source_agency)}`,
    lead.restricted_to?.length ? ` · Diffusion restreinte : ${lead.restricted_to.map(agency).join(", ")}` : "",
    lead.embargo_until ? ` · Embargo jusqu'au ${when(lead.embargo_until)}` : ""));
  if (lead.access === "redacted") {
    root.append(alertBox("info", `Vue partielle : le service émetteur retient ${lead.redacted.map((f) => FIELDS[f] || f).join(", ")}.`));
  }
  root.append(h("dl", { class: "ch-sheet" },
    row("Type", lead.kind),
    row("Observée le", field(lead, "observed_at", () => when(lead.observed_at))),
    row("Signalée le", field(lead, "reported_at", () => when(lead.reported_at))),
    row("Référence source", field(lead, "source_ref", () => lead.source_ref)),
    row("Récit", field(lead, "narrative", () => lead.narrative)),
    row("Produits", field(lead, "substances", () => (lead.substances || []).join(", ") || "—")),
    lead.seizure ? row("Saisie", field(lead, "seizure", () => [
      (lead.seizure.substances || []).map((s) => `${s.substance} ${s.quantity ?? ""} ${s.unit ?? ""}`).join(", "),
      lead.seizure.cash_eur ? ` · ${lead.seizure.cash_eur} € saisis` : ""].join(""))) : null));

  const shared = federationSection(lead.federation); // other CROSS holding its identifiers
  if (shared) root.append(shared);
  const entities = linked(lead);
  root.append(h("h2", { class: "fr-h4 fr-mt-4w" }, "Entités liées"),
    entities.length ? h("ul", {}, entities.map(([k, key, label]) => h("li", {}, entityLink(k, key, label), " ",
      h("a", { class: "fr-link fr-link--sm", href: `/graphe?depart=${encodeURIComponent(`${k}:${key}`)}` }, "graphe"))))
      : h("p", {}, "Aucune entité visible."));

  const workflow = h("section", { "aria-labelledby": "titre-tri" }, h("h2", { class: "fr-h4 fr-mt-4w", id: "titre-tri" }, "Tri et historique"));
  const hitsBox = h("section", { "aria-labelledby": "titre-hits" }, h("h2", { class: "fr-h4 fr-mt-4w", id: "titre-hits" }, "Détenu aussi par d'autres services"));
  root.append(workflow, hitsBox);
  await Promise.all([loadWorkflow(workflow), loadHits(hitsBox, entities.slice(0, 6))]);
}

async function loadWorkflow(box) {
  try {
    const [triage, history] = await Promise.all([
      api(`/api/v1/leads/${encodeURIComponent(leadId)}/triage`, { consult: true }),
      api(`/api/v1/leads/${encodeURIComponent(leadId)}/history`, { consult: true }),
    ]);
    box.append(h("p", {}, `État : ${triage.state}`, triage.score != null ? ` · score ${triage.score}` : ""),
      history.length ? table("Historique des états", ["Date", "De", "Vers", "Par"],
        history.map((c) => [when(c.at), c.from_state || "—", c.to_state, `${c.user_name} (${agency(c.user_agency)})`]))
        : h("p", {}, "Aucun changement d'état."));
  } catch (err) {
    box.append(alertBox(err.status === 403 ? "info" : "error", errorMessage(err)));
  }
}

async function loadHits(box, entities) {
  const seen = new Set();
  let count = 0;
  for (const [k, key] of entities) {
    try {
      const net = await api(`/api/v1/entities/${encodeURIComponent(k)}/${encodeURIComponent(key)}/network`,
                            { query: { depth: 1 }, consult: true });
      for (const hit of net.hits || []) {
        const id = hit.handle || `${hit.entity}|${hit.agency}`;
        if (seen.has(id)) continue;
        seen.add(id);
        count += 1;
        box.append(hitCard(hit));
      }
    } catch { /* an entity the caller may not expand adds nothing */ }
  }
  if (!count) box.append(h("p", {}, "Aucun autre service ne signale détenir ces entités."));
}

// data-state="ready" once everything the page asked for has been drawn (tests wait on it).
render().finally(() => { root.dataset.state = "ready"; });

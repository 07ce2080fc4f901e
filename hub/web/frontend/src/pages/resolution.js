// Rapprochements: pairs of entities that may be one, and the analyst's judgement on each.
//  - Rapprochements proposés: each candidate pair with its score and evidence, exactly as the API
//    answers (GET /api/v1/resolution/candidates): a readable entity by its key, a readable lead
//    linked, an entity or lead known only as a hit named by the service to call (with « Demander
//    la communication »); and the judgement form (même entité / distinctes / incertain + motif);
//  - Fusions de votre service: merges asked by the agency or awaiting its countersignature
//    (contre-signer / refuser), and the split (« Annuler la fusion »).
import { api, when } from "../lib/api.js";
import { alertBox, badge, errorMessage, h } from "../lib/dom.js";
import { hitCard } from "../lib/hits.js";
import { agency } from "../lib/labels.js";
import { boot, busyTracker, onNotification } from "../lib/shell.js";

const root = boot();
const busy = busyTracker(root);

const KIND_FR = { vehicle: "Véhicule", person: "Personne", phone: "Téléphone", location: "Lieu" };
const VERDICTS = [["same", "Même entité"], ["not_same", "Entités distinctes"], ["unsure", "Incertain"]];
let serial = 0;
const uid = (prefix) => `${prefix}-${++serial}`;

const section = (id, title, ...content) => h("section", { class: "fr-mb-6w", "aria-labelledby": id },
  h("h2", { class: "fr-h4", id }, title), ...content);

const reasonField = (label, hint) => {
  const id = uid("motif");
  const input = h("textarea", { class: "fr-input", id, name: "reason", rows: 2, required: true,
                                minlength: 5, maxlength: 2000 });
  return [input, h("div", { class: "fr-input-group" },
    h("label", { class: "fr-label", for: id }, label, h("span", { class: "fr-hint-text" }, hint)), input)];
};

function sideView(side) {
  if (side.readable) {
    return h("div", { class: "ch-side" },
      h("p", { class: "fr-mb-1v" }, h("strong", {}, side.label || side.entity)),
      h("p", { class: "fr-text--sm fr-mb-1v" }, `${side.lead_count} piste(s) consultable(s)`),
      ...side.hits.map((hit) => hitCard(hit)));
  }
  return h("div", { class: "ch-side", dataset: { hit: "true" } },
    h("p", { class: "fr-mb-1v" }, "Entité connue seulement par un signalement (hit)"),
    ...side.hits.map((hit) => hitCard(hit)));
}

function evidenceItem(ev) {
  return h("li", { dataset: { rule: ev.rule } },
    h("span", {}, `${ev.label}${ev.detail ? ` (${ev.detail})` : ""}`),
    ev.lead_ids.length ? h("span", {}, " — pistes : ",
      ...ev.lead_ids.flatMap((id, i) => [i ? ", " : "",
        h("a", { href: `/pistes/${encodeURIComponent(id)}` }, id.slice(0, 10) + "…")])) : null);
}

function judgementForm(candidate, status) {
  const legendId = uid("jugement");
  const radios = VERDICTS.map(([value, label]) => {
    const id = uid(`verdict-${value}`);
    return h("div", { class: "fr-radio-group fr-radio-group--sm" },
      h("input", { type: "radio", id, name: `verdict-${legendId}`, value, required: true }),
      h("label", { class: "fr-label", for: id }, label));
  });
  const [reason, reasonGroup] = reasonField("Motif du jugement",
    "obligatoire : ce qui vous fait conclure, lu par les services concernés");
  const form = h("form", { class: "ch-judgement-form" },
    h("fieldset", { class: "fr-fieldset", "aria-labelledby": legendId },
      h("legend", { class: "fr-fieldset__legend fr-text--regular", id: legendId }, "Votre jugement"),
      h("div", { class: "fr-fieldset__content" }, ...radios)),
    reasonGroup,
    h("button", { class: "fr-btn fr-btn--sm", type: "submit" }, "Enregistrer le jugement"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const verdict = form.querySelector("input[type=radio]:checked")?.value;
    try {
      const made = await api("/api/v1/resolution/judgements", { method: "POST",
        body: { pair: candidate.pair, verdict, reason: reason.value.trim() } });
      const merge = made.merge;
      status.replaceChildren(alertBox("success", merge
        ? `Jugement enregistré : ${made.verdict_label} — ${merge.state_label}.`
        : `Jugement enregistré : ${made.verdict_label}.`));
      loadAll();
    } catch (err) {
      status.replaceChildren(alertBox("error", errorMessage(err)));
    }
  });
  return form;
}

function candidateItem(c, index) {
  const titleId = `paire-${index}`;
  const status = h("div", { role: "status", "aria-live": "polite" });
  const name = (side) => (side.readable ? side.label || side.entity : "entité signalée (hit)");
  return h("article", { class: "ch-candidate fr-mb-4w", "aria-labelledby": titleId,
                        dataset: { kind: c.kind } },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId },
      `${KIND_FR[c.kind] || c.kind} : ${name(c.a)} ↔ ${name(c.b)}`),
    h("p", { class: "fr-mb-1w" }, badge(`Score ${Math.round(c.score * 100)} %`, "info"),
      c.annotation ? badge(`${c.annotation.label} (${agency(c.annotation.agency)}, ${when(c.annotation.at)})`,
                           "warning") : null),
    c.annotation?.reason ? h("p", { class: "fr-text--sm" }, `Motif : ${c.annotation.reason}`) : null,
    h("div", { class: "fr-grid-row fr-grid-row--gutters" },
      h("div", { class: "fr-col-12 fr-col-md-6" }, sideView(c.a)),
      h("div", { class: "fr-col-12 fr-col-md-6" }, sideView(c.b))),
    h("p", { class: "fr-text--sm fr-mb-1v" }, "Éléments :"),
    h("ul", { class: "ch-evidence fr-text--sm" }, c.evidence.map(evidenceItem)),
    judgementForm(c, status), status);
}

function mergeItem(m, index) {
  const titleId = `fusion-${index}`;
  const status = h("div", { role: "status", "aria-live": "polite" });
  const actions = h("div", { class: "ch-merge-actions" });
  const act = (path, label, extra, hint) => {
    const [reason, group] = reasonField(`Motif (${label.toLowerCase()})`, hint);
    const form = h("form", { class: "fr-mt-1w" }, group,
      h("button", { class: "fr-btn fr-btn--secondary fr-btn--sm", type: "submit" }, label));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        const done = await api(path, { method: "POST",
          body: { merge_id: m.merge_id, reason: reason.value.trim(), ...extra } });
        status.replaceChildren(alertBox("success", `Fusion : ${done.state_label}.`));
        loadAll();
      } catch (err) {
        status.replaceChildren(alertBox("error", errorMessage(err)));
      }
    });
    return form;
  };
  if (m.awaiting_you) {
    actions.append(act("/api/v1/resolution/countersign", "Contre-signer", { decision: "accept" },
                       "ce qui confirme, pour votre service, que c'est la même entité"),
                   act("/api/v1/resolution/countersign", "Refuser", { decision: "refuse" },
                       "pourquoi votre service refuse"));
  }
  if (m.state === "merged" || (m.state === "pending" && !m.awaiting_you)) {
    actions.append(act("/api/v1/resolution/undo", "Annuler la fusion", {},
                       "la scission rend le graphe tel qu'il était avant la fusion"));
  }
  const name = (side) => (side.readable ? side.label || side.entity : "entité signalée (hit)");
  return h("article", { class: "ch-merge fr-mb-3w", "aria-labelledby": titleId,
                        dataset: { mergeId: m.merge_id, state: m.state } },
    h("h3", { class: "fr-h6 fr-mb-1w", id: titleId },
      `${KIND_FR[m.kind] || m.kind} : ${name(m.a)} ↔ ${name(m.b)}`),
    h("p", { class: "fr-mb-1w" }, badge(m.state_label, m.state === "merged" ? "success" : "warning"),
      ` demandée par ${agency(m.requested_by_agency)} le ${when(m.requested_at)}`,
      m.awaiting.length ? ` — attend : ${m.awaiting.map(agency).join(", ")}` : ""),
    actions, status);
}

const candidates = h("div", { id: "liste-rapprochements", "aria-busy": "true" });
const merges = h("div", { id: "liste-fusions", "aria-busy": "true" });

async function fill(target, path, item, empty) {
  target.setAttribute("aria-busy", "true");
  try {
    const answer = await api(path, { consult: true });
    const items = Array.isArray(answer) ? answer : answer.candidates;
    target.replaceChildren(...(items.length ? items.map(item) : [h("p", {}, empty)]));
  } catch (err) {
    target.replaceChildren(alertBox("error", errorMessage(err)));
  } finally {
    target.setAttribute("aria-busy", "false");
  }
}

function loadAll() {
  return busy(() => Promise.all([
    fill(candidates, "/api/v1/resolution/candidates", candidateItem, "Aucun rapprochement proposé."),
    fill(merges, "/api/v1/resolution/merges", mergeItem, "Aucune fusion pour votre service."),
  ]));
}

root.append(
  h("p", {}, "Paires d'entités qui pourraient n'en faire qu'une, autour des entités de vos pistes "
    + "récentes. « Même entité » les fusionne pour tous, de façon réversible ; si elles reposent "
    + "aussi sur des pistes d'un autre service, celui-ci doit contre-signer."),
  section("titre-rapprochements", "Rapprochements proposés", candidates),
  section("titre-fusions", "Fusions de votre service", merges));

onNotification((n) => {
  if (n.kind === "resolution_countersign" || n.kind === "resolution_decided") loadAll();
});
loadAll();

// From the API's answers (network, paths, co-presence) to Cytoscape elements. Nothing is
// computed about access here: a node is what the API returned, a hit is what the API called a
// hit (an agency holds leads the caller may not read), drawn as a node of its own.
import { agency, kind as kindLabel } from "../labels.js";

const DAY = new Intl.DateTimeFormat("fr-FR", { dateStyle: "short", timeZone: "Europe/Paris" });

export function shortDate(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "" : DAY.format(date);
}

// "vehicle:AB123CD" → {kind: "vehicle", key: "AB123CD"} (a key may hold ":", a kind never does).
export function splitId(id) {
  const at = String(id || "").indexOf(":");
  return at < 0 ? { kind: "", key: "" } : { kind: id.slice(0, at), key: id.slice(at + 1) };
}

export function sheetHref(data) {
  if (data.kind === "lead") return `/pistes/${encodeURIComponent(data.key)}`;
  if (data.kind === "hit") return null;
  return `/entites/${encodeURIComponent(data.kind)}/${encodeURIComponent(data.key)}`;
}

export const hitId = (hit) => `hit:${hit.agency}:${hit.entity}`;

function leadTime(props) {
  const iso = props.observed_at || props.reported_at || null;
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? null : t;
}

export function nodeData(node) {
  const props = node.properties || {};
  if (node.kind === "lead") {
    const time = leadTime(props);
    const who = agency(props.agency || props.source_agency);
    return {
      id: node.id, kind: "lead", key: node.key, agency: props.agency || props.source_agency || "",
      time, handling: props.handling_code || "", access: props.access || "",
      label: `Piste ${who}${time ? ` — ${shortDate(time)}` : ""}`,
      description: `Piste de ${who}${time ? ` du ${shortDate(time)}` : ""}${props.handling_code ? `, ${props.handling_code}` : ""}`,
    };
  }
  return {
    id: node.id, kind: node.kind, key: node.key, agency: "", time: null,
    label: node.label, description: `${kindLabel(node.kind)} ${node.label}`,
  };
}

export function hitData(hit) {
  const count = `${hit.lead_count} piste${hit.lead_count > 1 ? "s" : ""}`;
  return {
    id: hitId(hit), kind: "hit", key: hit.entity, agency: hit.agency, time: null,
    lead_count: hit.lead_count, contact: hit.contact || "", handle: hit.handle || "",
    entity: hit.entity,
    label: `${agency(hit.agency)} — ${count}`,
    description: `Hit : ${agency(hit.agency)} détient ${count} non consultable(s) ; contact : ${hit.contact || "non communiqué"}`,
  };
}

const edgeId = (e) => `e:${e.source}|${e.type}|${e.target}|${e.lead_id || ""}`;

// The elements of a network answer: entities and leads, their links, and one locked node per
// hit, tied to the entity it is about.
export function networkElements(net) {
  const nodes = net.nodes.map((n) => ({ group: "nodes", data: nodeData(n) }));
  const ids = new Set(nodes.map((n) => n.data.id));
  const edges = net.edges.filter((e) => ids.has(e.source) && ids.has(e.target)).map((e) => ({
    group: "edges",
    data: { id: edgeId(e), source: e.source, target: e.target, type: e.type, agency: e.agency || "" },
  }));
  const hits = [];
  for (const hit of net.hits || []) {
    const data = hitData(hit);
    hits.push({ group: "nodes", data, grabbable: false, classes: "hit" });
    if (ids.has(hit.entity)) {
      hits.push({ group: "edges", classes: "hit-edge",
                  data: { id: `e:${data.id}`, source: hit.entity, target: data.id, type: "HIT", agency: hit.agency } });
    }
  }
  return [...nodes, ...edges, ...hits];
}

export function pathElements(result) {
  const out = [];
  for (const path of result.paths || []) {
    out.push(...networkElements({ nodes: path.nodes, edges: path.edges, hits: [] }));
  }
  out.push(...networkElements({ nodes: [], edges: [], hits: result.hits || [] }));
  return out;
}

export function copresenceElements(result) {
  const out = [];
  for (const pair of result.pairs || []) {
    out.push({ group: "nodes", data: nodeData(pair.a) }, { group: "nodes", data: nodeData(pair.b) });
    out.push({ group: "edges", classes: "copresence", data: {
      id: `e:${pair.a.id}|${pair.relation}|${pair.b.id}`, source: pair.a.id, target: pair.b.id,
      type: pair.relation === "plate_variant" ? "VARIANTE" : "COPRESENCE", agency: "" } });
  }
  return out;
}

// Exports of the chart as it stands: PNG (Cytoscape's renderer), SVG (written here from the
// drawn positions: nodes, links, labels — no extra package), and the API's csv / graphml / anx /
// ftm of the anchor's network, fetched with the motif (each one is audited by the API as a
// disclosure) and saved through a blob link.
import { api } from "../api.js";
import { AGENCY_COLOURS, KIND_STYLE } from "./style.js";

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function exportPng(cy, name) {
  const blob = cy.png({ output: "blob", full: true, bg: "#ffffff", scale: 2 });
  saveBlob(blob, `${name}.png`);
}

const SVG_NS = "http://www.w3.org/2000/svg";

function svgEl(tag, attrs, text) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text) el.textContent = text;
  return el;
}

function fill(data) {
  if (data.kind === "hit") return "#fff4f3";
  if (data.kind === "lead") return AGENCY_COLOURS[data.agency] || KIND_STYLE.lead.colour;
  return KIND_STYLE[data.kind]?.colour || "#666666";
}

export function chartSvg(cy) {
  const visible = cy.elements(":visible");
  const box = visible.boundingBox({ includeLabels: true });
  const pad = 20;
  const svg = svgEl("svg", { xmlns: SVG_NS, width: Math.ceil(box.w + 2 * pad), height: Math.ceil(box.h + 2 * pad),
                             viewBox: `${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}`,
                             "font-family": "Marianne, Arial, sans-serif", "font-size": 10 });
  svg.append(svgEl("rect", { x: box.x1 - pad, y: box.y1 - pad, width: box.w + 2 * pad, height: box.h + 2 * pad, fill: "#ffffff" }));
  for (const edge of visible.edges()) {
    const a = edge.source().position();
    const b = edge.target().position();
    const dashed = edge.hasClass("hit-edge") ? { "stroke-dasharray": "6 4" } : {};
    svg.append(svgEl("line", { x1: a.x, y1: a.y, x2: b.x, y2: b.y,
                               stroke: edge.hasClass("hit-edge") ? "#b34000" : "#929292", "stroke-width": 1.5, ...dashed }));
  }
  for (const node of visible.nodes()) {
    const { x, y } = node.position();
    const data = node.data();
    const r = node.width() / 2;
    const hit = data.kind === "hit";
    const shape = data.kind === "lead" || data.kind === "vehicle" || hit
      ? svgEl("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, rx: data.kind === "vehicle" ? 4 : 0 })
      : svgEl("circle", { cx: x, cy: y, r });
    shape.setAttribute("fill", fill(data));
    if (hit) { shape.setAttribute("stroke", "#b34000"); shape.setAttribute("stroke-width", 3); shape.setAttribute("stroke-dasharray", "5 3"); }
    const group = svgEl("g", {});
    group.append(svgEl("title", {}, data.description || data.label), shape,
                 svgEl("text", { x, y: y + r + 12, "text-anchor": "middle", fill: "#161616" }, data.label));
    svg.append(group);
  }
  return new XMLSerializer().serializeToString(svg);
}

export function exportSvg(cy, name) {
  saveBlob(new Blob([chartSvg(cy)], { type: "image/svg+xml" }), `${name}.svg`);
}

const EXTENSIONS = { csv: "zip", graphml: "graphml", anx: "anx", ftm: "ftm.json" };

// The API's export of an entity's network (the chart's anchor): audited there as a disclosure.
export async function exportApi(kind, key, format) {
  const response = await api(`/api/v1/entities/${encodeURIComponent(kind)}/${encodeURIComponent(key)}/export`,
    { query: { format, depth: 1 }, consult: true, raw: true });
  const header = response.headers.get("Content-Disposition") || "";
  const named = /filename="([^"]+)"/.exec(header)?.[1];
  saveBlob(await response.blob(), named || `reseau.${EXTENSIONS[format] || format}`);
}

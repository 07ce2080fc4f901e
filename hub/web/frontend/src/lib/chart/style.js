// How the chart looks: DSFR colours, one shape per kind, leads in their agency's colour, hits
// as locked tags outlined in the warning orange. The legend is drawn from the same table.
import { AGENCIES, KINDS } from "../labels.js";

export const AGENCY_COLOURS = {
  police: "#000091", gendarmerie: "#3558a2", douanes: "#009081", police_judiciaire: "#6a6af4",
  paf: "#a558a0", gir: "#716043", prefecture: "#465f9d", ofast: "#c3992a",
  bailleur_social: "#7d4e5b",
};
export const KIND_STYLE = {
  vehicle: { shape: "round-rectangle", colour: "#6a6af4" },
  phone: { shape: "diamond", colour: "#a558a0" },
  person: { shape: "ellipse", colour: "#ce614a" },
  location: { shape: "round-triangle", colour: "#18753c" },
  deal_point: { shape: "star", colour: "#ce0500" },
  seizure: { shape: "hexagon", colour: "#716043" },
  substance: { shape: "octagon", colour: "#7d4e5b" },
  commune: { shape: "round-pentagon", colour: "#3a3a3a" },
  lead: { shape: "rectangle", colour: "#000091" },
  hit: { shape: "tag", colour: "#b34000" },
};
const HIT = "#b34000";
const FOCUS = "#0a76f6";

export function stylesheet() {
  const rules = [
    { selector: "node", style: {
      label: "data(label)", "font-family": "Marianne, arial, sans-serif", "font-size": 10,
      color: "#161616", "text-valign": "bottom", "text-margin-y": 4, "text-wrap": "ellipsis",
      "text-max-width": 190, "text-background-color": "#ffffff", "text-background-opacity": 0.85,
      "text-background-padding": 2, width: 26, height: 26, "border-width": 1, "border-color": "#ffffff" } },
    { selector: "edge", style: {
      width: 1.5, "line-color": "#929292", "curve-style": "bezier", "target-arrow-shape": "none",
      opacity: 0.8 } },
  ];
  for (const [kind, { shape, colour }] of Object.entries(KIND_STYLE)) {
    rules.push({ selector: `node[kind = "${kind}"]`, style: { shape, "background-color": colour } });
  }
  rules.push({ selector: 'node[kind = "lead"]', style: { width: 20, height: 20 } });
  for (const [code, colour] of Object.entries(AGENCY_COLOURS)) {
    rules.push({ selector: `node[kind = "lead"][agency = "${code}"]`, style: { "background-color": colour } });
  }
  rules.push(
    { selector: 'node[access = "redacted"]', style: { "border-width": 3, "border-color": "#b34000", "border-style": "dotted" } },
    { selector: "node.hit", style: {
      shape: "tag", width: 34, height: 26, "background-color": "#fff4f3", "border-width": 3,
      "border-style": "dashed", "border-color": HIT, color: "#6e2200", "font-weight": "bold" } },
    { selector: "edge.hit-edge", style: { "line-style": "dashed", "line-color": HIT, width: 2 } },
    { selector: "edge.copresence", style: { "line-style": "dotted", "line-color": "#ce0500", width: 3 } },
    { selector: "node.anchor", style: { width: 38, height: 38, "border-width": 4, "border-color": "#161616" } },
    { selector: "node.central", style: { "underlay-color": "#fcc63a", "underlay-opacity": 0.8, "underlay-padding": 8, "underlay-shape": "ellipse" } },
    { selector: ".path", style: { "line-color": "#e1000f", width: 4, opacity: 1, "z-index": 9 } },
    { selector: "node.path", style: { "border-width": 4, "border-color": "#e1000f" } },
    { selector: "node:selected", style: { "overlay-color": FOCUS, "overlay-opacity": 0.2, "overlay-padding": 6 } },
    { selector: "node.focused", style: { "outline-width": 4, "outline-color": FOCUS, "outline-offset": 4 } },
    { selector: ".filtered", style: { display: "none" } },
  );
  return rules;
}

// [label, kind-or-agency, css modifier] for the legend (drawn as HTML, read by screen readers).
export function legendEntries() {
  const kinds = ["vehicle", "phone", "person", "location", "deal_point", "seizure", "substance"]
    .map((k) => ({ label: KINDS[k], swatch: `ch-swatch--${k}` }));
  const leads = ["police", "gendarmerie", "douanes"]
    .map((a) => ({ label: `Piste ${AGENCIES[a]}`, swatch: `ch-swatch--lead-${a}` }));
  return [...kinds, ...leads,
    { label: "Hit : piste détenue par un autre service (verrouillée)", swatch: "ch-swatch--hit" },
    { label: "Piste partiellement masquée", swatch: "ch-swatch--redacted" }];
}

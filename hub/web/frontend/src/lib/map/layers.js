// What the map draws, from the API's answers: each drawing also yields an item for the table
// under the map (kind, label, commune, agency, sheet), so nothing is reachable only on the canvas.
import L from "leaflet";
import { when } from "../api.js";
import { h } from "../dom.js";
import { agency as agencyLabel } from "../labels.js";
import { latlng, pointLatLng } from "./base.js";

const KNOWN_AGENCIES = ["police", "gendarmerie", "douanes"];
const TRENDS = { up: "en hausse", down: "en baisse", flat: "stable", new: "nouveau" };
const OPERATION_KINDS = {
  surveillance: "Surveillance", controlled_delivery: "Livraison surveillée",
  arrest: "Interpellation", search: "Perquisition",
};
const entity = (kind, key) => `/entites/${encodeURIComponent(kind)}/${encodeURIComponent(key)}`;

function popup(title, lines, href, linkText = "Ouvrir la fiche") {
  return h("div", { class: "ch-map-popup" }, h("p", { class: "fr-text--bold fr-mb-1v" }, title),
    lines.filter(Boolean).map((line) => h("p", { class: "fr-text--sm fr-mb-1v" }, line)),
    href ? h("a", { class: "fr-link fr-text--sm", href }, linkText) : null);
}

// A focusable pin (Leaflet gives it role=button and tabindex=0; its title is its name).
function pin(position, kindClass, agency, title, content) {
  const who = KNOWN_AGENCIES.includes(agency) ? agency : "autre";
  const marker = L.marker(position, {
    title, keyboard: true, riseOnHover: true,
    icon: L.divIcon({ className: `ch-pin ch-pin--${kindClass} ch-pin--${who}`, iconSize: [16, 16] }),
  });
  marker.bindPopup(content);
  return marker;
}

// GeoJSON features of /api/v1/analysis/map → layer groups and table items.
export function mapFeatures(collection) {
  const groups = { communes: L.layerGroup(), leads: L.layerGroup(), deal_points: L.layerGroup(),
                   operations: L.layerGroup() };
  const items = [];
  for (const feature of collection.features) {
    const p = feature.properties;
    const position = latlng(feature.geometry);
    const placed = p.placement === "commune" ? "centre de la commune" : null;
    let item;
    if (p.kind === "commune") {
      const href = entity("commune", p.insee_code);
      item = { kind: "Commune", label: p.label, commune: `${p.label} (${p.insee_code})`, agency: "—", href,
               detail: `${p.lead_count} piste(s) consultable(s)` };
      if (position) {
        const label = h("span", {}, p.label);
        item.layer = L.circleMarker(position, { radius: 4, className: "ch-map-commune", weight: 1 })
          .bindTooltip(label, { permanent: true, direction: "right", className: "ch-map-commune-label" })
          .bindPopup(popup(p.label, [item.detail, "Placée au centre de ses lieux connus."], href));
        groups.communes.addLayer(item.layer);
      }
    } else if (p.kind === "lead") {
      const href = `/pistes/${encodeURIComponent(p.key)}`;
      const title = `Piste ${agencyLabel(p.agency)} ${p.handling_code} — ${p.label}`;
      item = { kind: "Piste", label: `${p.label}${p.at ? ` — ${when(p.at)}` : ""}`, commune: p.commune,
               agency: agencyLabel(p.agency), href, detail: placed };
      if (position) {
        item.layer = pin(position, "lead", p.agency, title,
          popup(title, [p.at ? when(p.at) : null, placed ? `Position : ${placed}` : null], href, "Ouvrir la fiche de la piste"));
        groups.leads.addLayer(item.layer);
      }
    } else if (p.kind === "deal_point") {
      const href = entity("deal_point", p.key);
      const title = `Point de deal — ${p.label}`;
      const agencies = p.agencies.map(agencyLabel).join(", ");
      item = { kind: "Point de deal", label: p.label, commune: p.commune, agency: agencies, href,
               detail: `${p.lead_count} piste(s)${placed ? ` ; ${placed}` : ""}` };
      if (position) {
        item.layer = pin(position, "deal", p.agencies[0], title, popup(title, [item.detail], href));
        groups.deal_points.addLayer(item.layer);
      }
    } else if (p.kind === "operation") {
      const kindFr = OPERATION_KINDS[p.nature] || p.nature;
      const title = `Opération — ${kindFr} — ${p.label}`;
      item = { kind: "Opération", label: `${kindFr} — ${p.label}`, commune: p.commune,
               agency: agencyLabel(p.agency), href: "/deconfliction",
               detail: `${when(p.starts_at)} → ${when(p.ends_at)}, rayon ${p.radius_m} m` };
      if (position) {
        item.layer = pin(position, "operation", p.agency, title,
          popup(title, [item.detail], "/deconfliction", "Voir la déconfliction"));
        groups.operations.addLayer(item.layer);
        groups.operations.addLayer(L.circle(position, { radius: p.radius_m, className: "ch-map-operation-area",
                                                        weight: 2, dashArray: "6 4", fill: false }));
      }
    }
    if (item) items.push({ ...item, position, group: p.kind });
  }
  return { groups, items };
}

// Hotspots: the recent period (filled) and the previous one (dashed), an arrow from the previous
// centre to the recent one when the activity moved.
export function hotspotLayers(result) {
  const group = L.layerGroup();
  const items = [];
  const entries = [...result.communes.map((e) => ({ ...e, scope: "commune" })),
                   ...result.places.map((e) => ({ ...e, scope: "place" }))];
  for (const e of entries) {
    const recent = pointLatLng(e.recent_centroid);
    const previous = pointLatLng(e.previous_centroid);
    const href = e.scope === "commune" ? entity("commune", e.key) : entity("location", e.key);
    const detail = `${e.recent} récente(s) / ${e.previous} précédente(s) — ${TRENDS[e.trend] || e.trend}`;
    const title = `Point chaud — ${e.label}`;
    if (previous) {
      group.addLayer(L.circleMarker(previous, { radius: 6 + 3 * Math.sqrt(e.previous), className: "ch-hot ch-hot--previous",
                                                weight: 2, dashArray: "4 3", fill: false }));
    }
    if (recent) {
      group.addLayer(L.circleMarker(recent, { radius: 6 + 3 * Math.sqrt(e.recent), className: "ch-hot ch-hot--recent",
                                              weight: 2, fillOpacity: 0.25 }).bindPopup(popup(title, [detail], href)));
    }
    if (recent && previous && (recent[0] !== previous[0] || recent[1] !== previous[1])) {
      group.addLayer(arrow(previous, recent));
    }
    items.push({ kind: e.scope === "commune" ? "Point chaud (commune)" : "Point chaud (lieu)", label: e.label,
                 commune: e.scope === "commune" ? e.label : e.label.split(" — ").slice(-1)[0], agency: "—", href,
                 detail, position: recent || previous || pointLatLng(e.point), group: "hotspots" });
  }
  return { group, items };
}

function arrow(from, to) {
  const dy = to[0] - from[0];
  const dx = to[1] - from[1];
  const head = (angle) => {
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    return [to[0] - 0.25 * (dy * cos - dx * sin), to[1] - 0.25 * (dx * cos + dy * sin)];
  };
  return L.polyline([from, to, head(0.45), to, head(-0.45)], { className: "ch-hot-move", weight: 3 });
}

// Co-presence: the disc asked for, the places examined, the pairs found (listed by the page).
export function copresenceLayers(result) {
  const group = L.layerGroup();
  const items = [];
  const centre = pointLatLng(result.center);
  if (centre && result.radius_m) {
    group.addLayer(L.circle(centre, { radius: result.radius_m, className: "ch-copresence", weight: 2, fillOpacity: 0.1 }));
  }
  for (const loc of result.locations) {
    const position = pointLatLng(loc.point);
    const href = entity("location", loc.key);
    group.addLayer(L.circleMarker(position, { radius: 5, className: "ch-copresence-place", weight: 2 })
      .bindPopup(popup(`Lieu examiné — ${loc.key}`, [`${loc.lead_count} piste(s) dans la période`], href)));
    items.push({ kind: "Lieu de co-présence", label: loc.key, commune: "—", agency: "—", href,
                 detail: `${loc.lead_count} piste(s)`, position, group: "copresence" });
  }
  return { group, items, centre };
}

// The map itself: Leaflet on the hub's own stylesheet, with the configured raster basemap or none.
// With none (the default) the map makes no request outside the hub: the communes are drawn at the
// centre of the places the graph knows in them, and the legend says so.
import L from "leaflet";
import { h } from "../dom.js";

export const NO_BASEMAP = "Fond de carte : aucun — communes placées au centre de leurs lieux connus";
const FRANCE = [46.6, 2.4];

// Leaflet's stylesheet, served by the hub (build.mjs copies it), linked once before drawing.
export function leafletStylesheet() {
  if (document.querySelector("link[data-leaflet]")) return Promise.resolve();
  return new Promise((resolve) => {
    const link = h("link", { rel: "stylesheet", href: "/static/leaflet/leaflet.css", "data-leaflet": "" });
    link.addEventListener("load", resolve);
    link.addEventListener("error", resolve);
    document.head.append(link);
  });
}

export function createMap(container, config) {
  const map = L.map(container, { zoomControl: false, attributionControl: false, keyboard: true,
                                 center: FRANCE, zoom: 6 });
  L.control.zoom({ zoomInTitle: "Zoom avant", zoomOutTitle: "Zoom arrière" }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  if (config?.tiles_url) L.tileLayer(config.tiles_url, { maxZoom: 19 }).addTo(map);
  // Leaflet's own words are English: the popup's close button speaks French here.
  map.on("popupopen", (event) => {
    const close = event.popup.getElement()?.querySelector(".leaflet-popup-close-button");
    if (close) { close.setAttribute("aria-label", "Fermer la bulle"); close.title = "Fermer"; }
  });
  return map;
}

export function basemapNote(config) {
  if (!config?.tiles_url) return NO_BASEMAP;
  return `Fond de carte : ${config.attribution || "tuiles configurées par l'administrateur"} — cartographie Leaflet`;
}

// [lat, lon] of a GeoJSON point, or null.
export function latlng(geometry) {
  return geometry?.coordinates ? [geometry.coordinates[1], geometry.coordinates[0]] : null;
}

export function pointLatLng(point) {
  return point ? [point.lat, point.lon] : null;
}

export function fit(map, latlngs) {
  const known = latlngs.filter(Boolean);
  if (known.length === 1) map.setView(known[0], 14);
  else if (known.length) map.fitBounds(L.latLngBounds(known), { padding: [30, 30], maxZoom: 15 });
}

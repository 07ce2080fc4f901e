"""The week's map, drawn offline: matplotlib on the points the agenda placed (graph/meetings/
weekmap.py) — no tile server, no network, no base map fetched from anywhere.

No département outline is drawn: the repository bundles no geometry (see graph/analysis/geo.py);
communes are labelled at the centre of their readable places instead. Longitude is scaled by
the cosine of the mean latitude so distances look right at French latitudes.
"""

from __future__ import annotations

import math

from matplotlib.figure import Figure

from graph.meetings import WeekMap
from hub.brief.charts import _png

# kind → (marker, colour, size, legend)
STYLE = {
    "lead": ("o", "#2f5d8a", 22, "piste de la semaine"),
    "seizure": ("^", "#b30000", 46, "saisie"),
    "deal_point": ("D", "#1b1b1b", 34, "point de deal"),
    "hotspot": ("o", "#f0a030", 420, "point chaud en mouvement"),
}
PAD_DEG = 0.02  # margin around the points (~2 km)


def draw(week_map: WeekMap) -> bytes:
    fig = Figure(figsize=(6.4, 5.0))
    ax = fig.subplots()
    points = week_map.points
    ax.set_title("Carte de la semaine (pistes consultables)", fontsize=10, loc="left")
    if not points:
        ax.text(0.5, 0.5, "aucune position connue", ha="center", va="center", transform=ax.transAxes, fontsize=9)
        ax.set_axis_off()
        return _png(fig)
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    # Hotspots first (large, translucent) so the points above stay visible.
    for kind in ("hotspot", "lead", "seizure", "deal_point"):
        group = [p for p in points if p.kind == kind]
        if not group:
            continue
        marker, colour, size, legend = STYLE[kind]
        ax.scatter([p.lon for p in group], [p.lat for p in group], marker=marker, s=size, c=colour,
                   alpha=0.35 if kind == "hotspot" else 0.9, edgecolors="none", label=legend, zorder=2)
    for p in points:
        if p.kind == "commune":
            ax.annotate(p.label, (p.lon, p.lat), fontsize=7, color="#444", xytext=(4, 4),
                        textcoords="offset points", zorder=3)
        elif p.kind == "deal_point":
            ax.annotate(p.label, (p.lon, p.lat), fontsize=6, color="#1b1b1b", xytext=(4, -8),
                        textcoords="offset points", zorder=3)
    lat0 = sum(lats) / len(lats)
    ax.set_aspect(1 / max(math.cos(math.radians(lat0)), 0.1))
    ax.set_xlim(min(lons) - PAD_DEG, max(lons) + PAD_DEG)
    ax.set_ylim(min(lats) - PAD_DEG, max(lats) + PAD_DEG)
    ax.tick_params(labelsize=6)
    ax.set_xlabel("longitude", fontsize=7)
    ax.set_ylabel("latitude", fontsize=7)
    ax.grid(color="#dde3ea", linewidth=0.5, zorder=0)
    # Below the map, so it never hides a point.
    ax.legend(fontsize=7, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2,
              markerscale=0.6)
    return _png(fig)

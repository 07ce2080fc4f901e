"""The brief's figures as PNG bytes: counts by agency, kind and commune, and the weekly trend.

matplotlib's object API on the Agg canvas (no pyplot, no global state): safe in the hub's worker
threads and without a display. Figures are small and drawn at print resolution.
"""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from graph.meetings import Agenda
from hub.brief.labels import agency_fr, kind_fr

DPI = 110
BAR = "#2f5d8a"
HIT = "#c8a23c"


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, bbox_inches="tight")
    return buf.getvalue()


def _hbar(title: str, labels: list[str], values: list[int], *, extra: list[int] | None = None,
          extra_label: str | None = None) -> bytes:
    fig = Figure(figsize=(5.2, 0.45 * max(len(labels), 2) + 0.9))
    ax = fig.subplots()
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=BAR, label="consultables")
    if extra is not None:
        ax.barh(ys, extra, left=values, color=HIT, label=extra_label)
        ax.legend(loc="lower right", fontsize=7, frameon=False)
    ax.set_yticks(ys, labels, fontsize=8)
    ax.set_title(title, fontsize=10, loc="left")
    ax.tick_params(axis="x", labelsize=7)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for y, v, e in zip(ys, values, extra or [0] * len(values), strict=True):
        ax.text(v + e, y, f" {v + e}", va="center", fontsize=7)
    if not labels:
        ax.text(0.5, 0.5, "aucune donnée", ha="center", va="center", transform=ax.transAxes, fontsize=8)
    return _png(fig)


def by_agency(agenda: Agenda) -> bytes:
    s = agenda.new_leads
    hits = {h.agency: h.lead_count for h in s.hits}
    agencies = sorted(set(s.by_agency) | set(hits), key=lambda a: -(s.by_agency.get(a, 0) + hits.get(a, 0)))
    return _hbar("Nouvelles pistes par service", [agency_fr(a) for a in agencies],
                 [s.by_agency.get(a, 0) for a in agencies],
                 extra=[hits.get(a, 0) for a in agencies], extra_label="hits (non consultables)")


def by_kind(agenda: Agenda) -> bytes:
    s = agenda.new_leads
    kinds = list(s.by_kind)
    return _hbar("Nouvelles pistes consultables par nature", [kind_fr(k) for k in kinds],
                 [s.by_kind[k] for k in kinds])


def by_commune(agenda: Agenda, top: int = 10) -> bytes:
    s = agenda.new_leads
    codes = list(s.by_commune)[:top]
    return _hbar(f"Communes les plus citées (≤ {top})",
                 [f"{s.commune_names.get(c, c)} ({c})" for c in codes], [s.by_commune[c] for c in codes])


def trend(agenda: Agenda) -> bytes:
    fig = Figure(figsize=(5.2, 2.4))
    ax = fig.subplots()
    weeks = [p.week.split("-")[1] for p in agenda.trend]
    xs = list(range(len(weeks)))
    ax.plot(xs, [p.visible for p in agenda.trend], marker="o", color=BAR, label="consultables")
    ax.plot(xs, [p.hits for p in agenda.trend], marker="s", color=HIT, label="hits")
    ax.set_xticks(xs, weeks, fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_title("Tendance hebdomadaire des pistes", fontsize=10, loc="left")
    ax.legend(fontsize=7, frameon=False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return _png(fig)


def seizure_trend(agenda: Agenda) -> bytes:
    """Seizures the participant reads per week (bars, this week darker) and their cash (line)."""
    points = agenda.seizures.trend
    fig = Figure(figsize=(5.2, 2.4))
    ax = fig.subplots()
    xs = list(range(len(points)))
    colours = [BAR if i == len(points) - 1 else "#9db4cc" for i in xs]
    ax.bar(xs, [p.seizures for p in points], color=colours, label="saisies consultables")
    ax.set_xticks(xs, [p.week.split("-")[1] for p in points], fontsize=7)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(bottom=0)
    ax.set_title("Saisies par semaine (consultables) et numéraire", fontsize=10, loc="left")
    cash = ax.twinx()
    cash.plot(xs, [p.cash_eur for p in points], marker="o", color=HIT, label="numéraire (€)")
    cash.set_ylim(bottom=0)
    cash.tick_params(axis="y", labelsize=7)
    handles = ax.get_legend_handles_labels()[0] + cash.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, frameon=False, loc="upper left")
    for side in ("top",):
        ax.spines[side].set_visible(False)
        cash.spines[side].set_visible(False)
    return _png(fig)

"""The plan's pictures (issue #17), as PNG bytes: the staffing heat map (sector x half-hour, the
counters the plan needs against what the roster gives) and the wait curve over the day before and
after the plan's first training suggestions. Drawn with matplotlib's object API (a Figure of its
own, the Agg canvas), never pyplot: pyplot keeps global state, and the web app draws from its
threads. Every label goes through the web app's catalogue; each picture comes with its alt text.
"""
from __future__ import annotations

import io
from typing import Any

from queue_server.web.pages import T

DPI = 100


def _(msgid: str, lang: str, **params: Any) -> str:
    """A text of the web app's catalogue in `lang` (named `_` so the catalogue test finds it)."""
    return T(msgid, lang, **params)


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})   # no version stamp: same plan, same bytes
    return buf.getvalue()


def _num(value: float, lang: str, digits: int = 1) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "vi" else text


def heatmap(staffing: dict[str, Any], names: dict[str, dict[str, str]], lang: str) -> tuple[bytes, str]:
    """(PNG, alt text) of the staffing plan: one row per sector, one column per half-hour, the cell
    coloured by counters short (red) or spare (blue) and labelled "need/roster"."""
    sectors, slots = staffing["sectors"], staffing["slots"]
    cell = {(c["sector"], c["slot"]): c for c in staffing["cells"]}
    grid = [[(cell[(s, t)]["need"] - cell[(s, t)]["roster"]) if (s, t) in cell else 0 for t in slots] for s in sectors]
    fig = _figure(max(6.0, 0.42 * len(slots) + 3.2), max(2.6, 0.48 * len(sectors) + 1.6))
    ax = fig.add_subplot()
    span = max([abs(v) for row in grid for v in row] + [1])
    image = ax.imshow(grid, cmap="RdBu_r", vmin=-span, vmax=span, aspect="auto")
    for i, s in enumerate(sectors):
        for j, t in enumerate(slots):
            c = cell.get((s, t))
            if c is not None and (c["need"] or c["roster"]):
                ax.text(j, i, f"{c['need']}/{c['roster']}", ha="center", va="center", fontsize=7,
                        color="white" if abs(grid[i][j]) > span * 0.6 else "black")
    ax.set_yticks(range(len(sectors)), [names.get(s, {}).get(lang, s) for s in sectors], fontsize=8)
    ax.set_xticks(range(len(slots)), slots, rotation=90, fontsize=7)
    ax.set_xlabel(_("Half-hour", lang))
    ax.set_title(_("Counters needed / on the roster, per sector and half-hour", lang), fontsize=10)
    bar = fig.colorbar(image, ax=ax, shrink=0.8, ticks=range(-span, span + 1))   # whole counters
    bar.set_label(_("counters short (+) or spare (−)", lang), fontsize=8)
    fig.tight_layout()
    by_sector = staffing.get("shortfall_by_sector_h") or {}
    worst = max(by_sector, key=lambda s: by_sector[s], default=None)
    alt = _("Heat map of the counters each sector needs against the roster, per half-hour: {hours} counter-hours short in all",
            lang, hours=_num(staffing.get("shortfall_counter_hours", 0.0), lang))
    if worst is not None and by_sector[worst] > 0:
        alt += "; " + _("most in {sector} ({hours} h)", lang, sector=names.get(worst, {}).get(lang, worst),
                        hours=_num(by_sector[worst], lang))
    return _png(fig), alt


def wait_curve(curves: dict[str, tuple[list[float], list[float]]], change: str, lang: str) -> tuple[bytes, str]:
    """(PNG, alt text) of the mean wait by the time the ticket was taken, over the day: `curves` has
    "now" and "after" (hours of the day, minutes), the day as it is and with `change` (its words)."""
    fig = _figure(7.5, 3.4)
    ax = fig.add_subplot()
    labels = {"now": _("Today's trained lists", lang), "after": change}
    for key, style in (("now", "-o"), ("after", "--s")):
        xs, ys = curves.get(key, ([], []))
        ax.plot(xs, ys, style, markersize=3, linewidth=1.5, label=labels[key])
    ax.set_xlabel(_("Time of day (hour the ticket was taken)", lang))
    ax.set_ylabel(_("Mean wait (min)", lang))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()

    def peak(key: str) -> str:
        xs, ys = curves.get(key, ([], []))
        if not ys:
            return "–"
        i = max(range(len(ys)), key=lambda k: ys[k])
        hour = xs[i]
        return _("{minutes} min at {time}", lang, minutes=_num(ys[i], lang),
                 time=f"{int(hour):02d}:{int(round((hour % 1) * 60)):02d}")
    alt = _("Mean wait over the day, now and {change}: the longest, {now} now and {after} after", lang,
            change=change, now=peak("now"), after=peak("after"))
    return _png(fig), alt

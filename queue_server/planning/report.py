"""The plan as text for a terminal (`motcua plan`): each heading and suggestion in Vietnamese, then
in English; the staffing grid as "need/roster" per sector (rows) and half-hour (columns)."""
from __future__ import annotations

from queue_server.planning.plan import Plan
from queue_server.planning.texts import both, minutes, number, percent


def _pair(texts: dict[str, str]) -> list[str]:
    return [texts["vi"], f"  ({texts['en']})"]


def plan_text(plan: Plan) -> str:
    out: list[str] = [f"{plan.scenario}: {plan.days} simulated days, seed {plan.seed}", ""]

    st = plan.staffing
    out += _pair(both("Staffing: counters needed per half-hour (need / roster)"))
    width = max(len(s) for s in st.sectors)
    out.append(" " * width + " " + " ".join(f"{s:>5}" for s in st.slots))
    cells = {(c.sector, c.slot): c for c in st.cells}
    for sector in st.sectors:
        row = []
        for slot in st.slots:
            c = cells[(sector, slot)]
            mark = "!" if c.shortfall else " "
            row.append(f"{c.need}/{c.roster}{mark}".rjust(5) if c.arrivals_per_hour > 0 else "    -")
        out.append(f"{sector:<{width}} " + " ".join(row))
    out += _pair(both("Shortfall: {hours} counter-hours",
                      hours={lang: number(st.shortfall_counter_hours, lang) for lang in ("vi", "en")}))
    out.append("")

    tr = plan.training
    out += _pair(both("Training, best first (every counter on its whole trained list)"))
    out += _pair(both("Now: mean wait {mean} min, p90 {p90} min, {gap} of the gap to a fully pooled centre captured",
                      mean={lang: minutes(tr.mean_wait_s, lang) for lang in ("vi", "en")},
                      p90={lang: minutes(tr.p90_wait_s, lang) for lang in ("vi", "en")},
                      gap={lang: percent(tr.gap_captured, lang) for lang in ("vi", "en")}))
    for i, step in enumerate(tr.steps, 1):
        out.append(f"{i}. {step.text['vi']}")
        out.append(f"   ({step.text['en']})")
        after = both("After: p90 {p90} min, {gap} of the gap captured",
                     p90={lang: minutes(step.p90_wait_after_s, lang) for lang in ("vi", "en")},
                     gap={lang: percent(step.gap_captured_after, lang) for lang in ("vi", "en")})
        out.append(f"   {after['vi']} ({after['en']})")
    out.append("")

    for cover in plan.roster:
        label = plan.counter_labels[cover.absent]
        out += _pair(both("If {counter} is absent all day", counter=label))
        if cover.nobody_covers_never_called:
            nobody = both("Nobody covers: {n} citizens a day cannot be called",
                          n=round(cover.nobody_covers_never_called / plan.days))
        else:
            nobody = both("{changes}: mean wait {after} min", changes=both("Nobody covers"),
                          after={lang: minutes(cover.nobody_covers_mean_wait_s, lang) for lang in ("vi", "en")})
        out.append(f"   {nobody['vi']} ({nobody['en']})")
        if not cover.options:
            none = both("No other counter trained for its sectors has time to spare: train one (above)")
            out.append(f"   {none['vi']} ({none['en']})")
        for i, option in enumerate(cover.options, 1):
            out.append(f"{i}. {option.text['vi']}")
            out.append(f"   ({option.text['en']})")
        out.append("")
    return "\n".join(out).rstrip() + "\n"

"""The --compare chart: tickets waiting over the day and the wait by time of issue, per policy."""
from __future__ import annotations

from pathlib import Path

from queue_server.sim.engine import DayResult
from queue_server.sim.metrics import wait_by_time_of_day, waiting_over_day


def write_chart(path: str | Path, title: str, results: dict[str, list[DayResult]]) -> None:
    import matplotlib
    matplotlib.use("Agg")  # no display: a server or CI writes the file
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True)
    for policy, days in results.items():
        xs, ys = waiting_over_day(days)
        top.plot(xs, ys, label=policy, linewidth=1.4)
        xs, ys = wait_by_time_of_day(days)
        bottom.plot(xs, ys, label=policy, marker="o", markersize=3, linewidth=1.4)
    n = len(next(iter(results.values()), []))
    top.set_title(f"{title}: {n} simulated day(s)")
    top.set_ylabel("citizens waiting (mean over days)")
    bottom.set_ylabel("mean wait, minutes\n(by time the ticket was taken)")
    bottom.set_xlabel("time of day (hour)")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)

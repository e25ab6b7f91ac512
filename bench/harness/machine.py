"""The machine a figure was measured on, and who used its CPU meanwhile: the line every
benchmark prints first, resident memory, the CPU meter of a run."""
from __future__ import annotations

import os
import platform
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .site import BenchSite


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "?"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    mosq = "?"
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    try:
        out = subprocess.run([exe, "-h"], capture_output=True, text=True, timeout=5).stdout
        mosq = out.splitlines()[0].strip() if out else "?"
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {"date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), "nproc": str(os.cpu_count()),
            "cpu": cpu, "ram": ram, "python": platform.python_version(), "mosquitto": mosq}


def print_machine() -> None:
    m = machine()
    print(f"machine: {m['nproc']} cores · {m['cpu']} · {m['ram']} RAM · Python {m['python']} · "
          f"{m['mosquitto']} · {m['date']} · load average {load_average()}")


def rss_kib(pid: int | str = "self") -> int:
    """Resident set size (VmRSS) of a process, KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _proc_cpu_s(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _busy_s() -> float:
    parts = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq, steal = (int(x) for x in parts[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


class CpuMeter:
    """CPU used during a run, in cores: by the server, by the bench (load generator, display,
    this process) and mosquitto, and by everything else on the machine (other people's work:
    a shared machine makes every figure worse, so the tables say how busy it was)."""

    def __init__(self, site: "BenchSite"):
        self.pids = {"server": site.server_pid, "bench": os.getpid(),
                     "broker": site.broker.proc.pid if site.broker and site.broker.proc else 0}
        # The server's publisher process (queue_server/mqtt/publisher.py), when it runs one.
        self.pids["publisher"] = (_children(site.server_pid) or [0])[0] if site.server_pid != os.getpid() else 0

    def __enter__(self) -> "CpuMeter":
        self.t0 = time.perf_counter()
        self.busy0 = _busy_s()
        self.p0 = {k: _proc_cpu_s(p) for k, p in self.pids.items() if p}
        return self

    def __exit__(self, *exc) -> None:
        dt = time.perf_counter() - self.t0
        self.cores = {k: (_proc_cpu_s(self.pids[k]) - v) / dt for k, v in self.p0.items()}
        self.cores.setdefault("publisher", 0.0)
        total = (_busy_s() - self.busy0) / dt
        # The server's own CPU counts once even when it runs in this process.
        ours = sum(v for k, v in self.cores.items() if not (k == "server" and self.pids["server"] == self.pids["bench"]))
        self.cores["others"] = max(0.0, total - ours)

    def __str__(self) -> str:
        return " ".join(f"{k} {v:.2f}" for k, v in self.cores.items())


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"

"""A fingerprint of the simulator: one hash per shipped scenario, policy and seed.

    .venv/bin/python -m bench.sim_fingerprint [--days 2] [--seeds 1 2] [--save FILE] [--check FILE]
                                             [--json-dir DIR] [SCENARIO.yaml ...]

For a change that must not change behaviour (a refactor of the domain, the pipeline, the
simulator): run it with `--save` before and with `--check` after. Each line is
`scenario policy seed json-hash state-hash`: the hash of the JSON `motcua simulate --json`
prints, and the hash of the site state the last day ends with (the fold of every event, so
a change the summary rounds away still shows). `--check` exits 1 and names the runs that
differ. Every policy the CLI offers is run; keep `--days` small, the forecast makes a day
take a few seconds.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from queue_server.sim import EXTRA_POLICIES, SIM_POLICIES, Simulation, load_scenario
from queue_server.sim.metrics import summarize

SCENARIOS = Path(__file__).resolve().parent.parent / "queue_server" / "sim" / "scenarios"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint(path: Path, policy: str, seed: int, days: int) -> tuple[str, str, str]:
    """(the CLI's JSON, its hash, the hash of the final state) of one run."""
    scenario = load_scenario(path)
    # What queue_server.sim.simulate() does, keeping the Simulation to read its state.
    sim = Simulation(scenario, policy, seed=seed, days=days)
    results = sim.run()
    sectors = [s.id for s in scenario.site.sectors if s.id in scenario.arrivals]
    text = json.dumps(summarize(policy, scenario.name, results, sectors), ensure_ascii=False)
    state = json.dumps(sim.state.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return text, _sha(text), _sha(state)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", type=Path, help="scenario files (default: every shipped one)")
    ap.add_argument("--days", type=int, default=2)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--policies", nargs="+", default=[*SIM_POLICIES, *EXTRA_POLICIES])
    ap.add_argument("--save", type=Path, help="write the lines to this file")
    ap.add_argument("--check", type=Path, help="compare with a file written by --save; exit 1 if any differs")
    ap.add_argument("--json-dir", type=Path, help="also write each run's JSON here")
    args = ap.parse_args(argv)
    paths = args.scenarios or sorted(SCENARIOS.glob("*.yaml"))
    lines = []
    for path in paths:
        for policy in args.policies:
            for seed in args.seeds:
                text, json_hash, state_hash = fingerprint(path, policy, seed, args.days)
                line = f"{path.stem} {policy} {seed} {json_hash} {state_hash}"
                print(line, flush=True)
                lines.append(line)
                if args.json_dir:
                    args.json_dir.mkdir(parents=True, exist_ok=True)
                    (args.json_dir / f"{path.stem}.{policy}.{seed}.json").write_text(text + "\n", encoding="utf-8")
    if args.save:
        args.save.write_text("\n".join(lines) + "\n", encoding="utf-8")
    if args.check:
        saved = {" ".join(ln.split()[:3]): ln for ln in args.check.read_text(encoding="utf-8").splitlines() if ln}
        differ = [ln for ln in lines if saved.get(" ".join(ln.split()[:3])) != ln]
        for ln in differ:
            print(f"DIFFERS: {ln}  (saved: {saved.get(' '.join(ln.split()[:3]), 'none')})")
        print(f"{len(lines) - len(differ)} of {len(lines)} runs identical")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())

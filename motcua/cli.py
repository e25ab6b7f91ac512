"""The `motcua` command. Each subcommand is a module of motcua/commands/, imported only when
that subcommand runs, so a kiosk never imports Flask."""
from __future__ import annotations

import argparse
import importlib
import sys

# subcommand -> (module with `add_arguments(parser)` and `run(args) -> int`, one-line help)
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "up": ("motcua.commands.up", "run a whole demo site here: mosquitto, queue server, web app"),
    "server": ("motcua.commands.server", "run the queue server of a site against a broker and a database"),
    "rebalance": ("motcua.commands.rebalance", "change a counter's sectors, open/pause it, switch auto mode"),
    "user": ("motcua.commands.user", "add, list or change the web accounts (manager, clerk, viewer)"),
    "simulate": ("motcua.commands.simulate", "simulate days of a scenario under a calling policy"),
    "plan": ("motcua.commands.plan", "plan the counters: staffing per half-hour, whom to train, who covers an absence"),
    "kiosk": ("motcua.commands.kiosk", "run the citizens' touch kiosk"),
    "display": ("motcua.commands.display", "run the wall display (and its announcer)"),
    "announcer": ("motcua.commands.announcer", "run the call announcer alone"),
    "counter": ("motcua.commands.counter", "run a counter terminal (keypad, rating pad, status screen)"),
    "provision": ("motcua.commands.provision", "write every device's files for a site inventory"),
    "province": ("motcua.commands.province", "run the provincial consumer and dashboard"),
    "protocol": ("motcua.commands.protocol", "print the MQTT contract's JSON Schemas"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="motcua", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_) in SUBCOMMANDS.items():
        sub.add_parser(name, help=help_, add_help=False)
    if not argv or argv[0] in ("-h", "--help") or argv[0] not in SUBCOMMANDS:
        parser.print_help()
        return 0 if not argv or argv[0] in ("-h", "--help") else 2
    name = argv[0]
    try:
        module = importlib.import_module(SUBCOMMANDS[name][0])
    except ModuleNotFoundError as exc:
        print(f"motcua {name}: not available in this installation ({exc.name} is missing); "
              f"install the role with ./setup.sh --role ...", file=sys.stderr)
        return 2
    cmd_parser = argparse.ArgumentParser(prog=f"motcua {name}", description=SUBCOMMANDS[name][1])
    module.add_arguments(cmd_parser)
    args = cmd_parser.parse_args(argv[1:])
    return int(module.run(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())

"""`motcua user`: add, list, change or disable the web accounts of a site (managers, clerks, viewers)."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data-dir", default="data", help="the site's data dir (its motcua.db holds the accounts)")
    p.add_argument("--db", default=None, help="database URL or file (default: <data-dir>/motcua.db)")
    sub = p.add_subparsers(dest="action", required=True)
    a = sub.add_parser("add", help="add an account; prints a generated password unless --password-stdin")
    a.add_argument("username")
    a.add_argument("--role", choices=("viewer", "clerk", "manager"), required=True)
    a.add_argument("--name", default=None, help="display name, e.g. 'Nguyễn Thị Lan'")
    a.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list accounts")
    pw = sub.add_parser("passwd", help="set a new password (generated unless --password-stdin)")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    r = sub.add_parser("role", help="change an account's role")
    r.add_argument("username")
    r.add_argument("role", choices=("viewer", "clerk", "manager"))
    d = sub.add_parser("disable", help="disable an account (it can no longer log in)")
    d.add_argument("username")
    e = sub.add_parser("enable", help="enable a disabled account")
    e.add_argument("username")


def _password(args: argparse.Namespace) -> tuple[str, bool]:
    from queue_server.users import generate_password
    if args.password_stdin:
        text = sys.stdin.readline() if not sys.stdin.isatty() else getpass.getpass("password: ")
        return text.rstrip("\n"), False
    return generate_password(), True


def run(args: argparse.Namespace) -> int:
    from queue_server.store import EventStore
    from queue_server.users import UserError, Users
    db = args.db or str(Path(args.data_dir) / "motcua.db")
    store = EventStore(db)
    users = Users(store.engine)
    try:
        if args.action == "add":
            password, generated = _password(args)
            user = users.add(args.username, password, args.role, args.name)
            print(f"added {user.username} ({user.role})")
            if generated:
                print(f"password: {password}")
        elif args.action == "list":
            for u in users.list():
                flag = " (disabled)" if u.disabled else ""
                print(f"{u.username}\t{u.role}\t{u.display_name or ''}{flag}")
        elif args.action == "passwd":
            password, generated = _password(args)
            users.set_password(args.username, password)
            print(f"password changed for {args.username}" + (f": {password}" if generated else ""))
        elif args.action == "role":
            users.set_role(args.username, args.role)
            print(f"{args.username} is now {args.role}")
        elif args.action in ("disable", "enable"):
            users.set_disabled(args.username, args.action == "disable")
            print(f"{args.username} {args.action}d")
    except UserError as exc:
        print(f"motcua user: {exc}", file=sys.stderr)
        return 2
    finally:
        store.close()
    return 0

"""`motcua rebalance`: a manager's live changes from a terminal, through the server's HTTP API.

    motcua rebalance --server http://127.0.0.1:8080 --token-file data/web-secrets.json sectors q1 ly-lich-tu-phap tu-phap-ho-tich
    motcua rebalance ... sectors q1 dat-dai --override --reason "Quầy 4 nghỉ ốm"
    motcua rebalance ... status q3 paused
    motcua rebalance ... auto on
    motcua rebalance ... show
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--server", default="http://127.0.0.1:8080", help="the queue server's web address")
    p.add_argument("--token", help="manager API token")
    p.add_argument("--token-file", default="data/web-secrets.json", help="web-secrets.json with `api_token`")
    sub = p.add_subparsers(dest="action", required=True)
    s = sub.add_parser("sectors", help="set the sectors a counter serves, in order")
    s.add_argument("counter")
    s.add_argument("sectors", nargs="+")
    s.add_argument("--override", action="store_true", help="allow sectors outside the counter's trained list")
    s.add_argument("--reason", help="why (required with --override)")
    st = sub.add_parser("status", help="open, pause or close a counter")
    st.add_argument("counter")
    st.add_argument("status", choices=["open", "paused", "closed"])
    a = sub.add_parser("auto", help="switch automatic rebalancing on or off")
    a.add_argument("state", choices=["on", "off"])
    sub.add_parser("show", help="print each counter's status and sectors")


def _token(args) -> str | None:
    if args.token:
        return args.token
    path = Path(args.token_file)
    if path.exists():
        return json.loads(path.read_text()).get("api_token")
    return None


def _call(args, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(args.server.rstrip("/") + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json"})
    token = _token(args)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def run(args: argparse.Namespace) -> int:
    try:
        if args.action == "show":
            status, body = _call(args, "GET", "/api/v1/counters")
            for c in body.get("counters", []):
                print(f"{c['counter']:>6}  {c['status']:<8} {', '.join(c['sectors'])}"
                      + (f"  serving {c['serving']['number']}" if c.get("serving") else ""))
            return 0 if status == 200 else 1
        if args.action == "sectors":
            status, body = _call(args, "POST", f"/api/v1/counters/{args.counter}/sectors",
                                 {"sectors": args.sectors, "override": args.override, "reason": args.reason})
        elif args.action == "status":
            status, body = _call(args, "POST", f"/api/v1/counters/{args.counter}/status", {"status": args.status})
        else:
            status, body = _call(args, "POST", "/api/v1/site/auto", {"on": args.state == "on"})
    except urllib.error.URLError as exc:
        print(f"motcua rebalance: cannot reach {args.server}: {exc.reason}", file=sys.stderr)
        return 1
    if status == 200 and body.get("ok"):
        print(json.dumps(body["result"], ensure_ascii=False))
        return 0
    err = body.get("error", {})
    print(f"motcua rebalance: {err.get('code', status)}: {err.get('message', '')} / {err.get('message_vi', '')}",
          file=sys.stderr)
    return 1

"""The docs say what the code does: every repository path they name exists, every `motcua`
command line they show parses with the real CLI, security.md's known gaps are exactly the xfails
in tests/, and nothing cites the design notes that live outside the repository.

Deliberately loose where prose is loose: only paths that start with a directory of the repo (or a
bare `name.py`/`name.md`) are checked, and only flags written on the same command line as
`motcua <sub>`, so wording can change freely while a renamed file or flag cannot slip through.
"""
from __future__ import annotations

import argparse
import ast
import importlib
import re
import subprocess
from functools import lru_cache
from pathlib import Path

import pytest

from motcua.cli import SUBCOMMANDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md", ROOT / "bench" / "README.md"]
TOP_DIRS = {p.name for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".")} - {"data"}
FILE_EXTS = ("py", "md", "yaml", "yml", "sh", "toml", "kv", "js", "html", "css", "po", "png", "ini", "cfg")
PATH_RE = re.compile(r"`([A-Za-z0-9_.\-/]+(?:\.(?:%s)|/))(?:::([A-Za-z0-9_]+))?[`\s:]" % "|".join(FILE_EXTS))
LINK_RE = re.compile(r"\]\(([^)#\s]+)\)")


def _ids(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@lru_cache(maxsize=None)
def tracked_files() -> tuple[str, ...]:
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    return tuple(line for line in out.splitlines() if (ROOT / line).exists())


def _exists(name: str, doc: Path) -> bool:
    name = name.rstrip("/")
    if (ROOT / name).exists() or (doc.parent / name).exists():
        return True
    if "/" not in name:      # a bare `site_server.py`: somewhere in the repo
        return any(f == name or f.endswith("/" + name) for f in tracked_files())
    # a path relative to a package the sentence names (`store/migrations/versions/`)
    return any(("/" + name + "/") in ("/" + f) or f.endswith("/" + name) for f in tracked_files())


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_repository_path_a_doc_names_exists(doc):
    text = doc.read_text(encoding="utf-8")
    missing = []
    for m in PATH_RE.finditer(text):
        name, test = m.group(1), m.group(2)
        first = name.split("/")[0]
        if "/" in name.rstrip("/") and first not in TOP_DIRS:
            continue            # a topic, a URL path, a path on a device (`/etc/...`), a data-dir file
        if "/" not in name.rstrip("/") and not name.endswith((".py", ".md")):
            continue            # `kiosk.yaml`, `site.yaml`: files the reader writes
        if name.endswith("/") and first not in TOP_DIRS:
            continue
        if not _exists(name, doc):
            missing.append(name)
        elif test and name.endswith(".py") and not _defines(name, test):
            missing.append(f"{name}::{test}")
    for m in LINK_RE.finditer(text):
        target = m.group(1)
        if "://" not in target and not (doc.parent / target).exists():
            missing.append(target)
    assert not missing, f"{doc.name} names what is not in the repo: {sorted(set(missing))}"


def _defines(name: str, func: str) -> bool:
    files = [f for f in tracked_files() if f == name or f.endswith("/" + name)]
    return any(re.search(rf"^\s*(?:async )?def {func}\b", (ROOT / f).read_text(encoding="utf-8"), re.M)
               for f in files)


# `motcua <sub> [<sub-sub>] ... --flag` on one line, in a code span or a code block
CMD_RE = re.compile(r"(?:^|[\s`(/])motcua ([a-z][a-z-]*)((?:[^`\n|;#&]|&(?!&))*)")


@lru_cache(maxsize=None)
def cli_parser(sub: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"motcua {sub}")
    importlib.import_module(SUBCOMMANDS[sub][0]).add_arguments(parser)
    return parser


def _flags(parser: argparse.ArgumentParser, words: list[str]) -> set[str]:
    """Every option of the parser, and of the nested sub-command the words name."""
    flags = {o for a in parser._actions for o in a.option_strings}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for w in words:
                if w in action.choices:
                    flags |= _flags(action.choices[w], words)
    return flags


def _nested(parser: argparse.ArgumentParser) -> set[str]:
    return {c for a in parser._actions if isinstance(a, argparse._SubParsersAction) for c in a.choices}


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_motcua_command_a_doc_shows_exists_with_its_flags(doc):
    wrong = []
    for line in doc.read_text(encoding="utf-8").splitlines():
        for m in CMD_RE.finditer(line):
            sub, rest = m.group(1), m.group(2)
            if sub not in SUBCOMMANDS:
                if line.lstrip().startswith(("$", ".venv/bin/motcua", "motcua")) or "`motcua " + sub in line:
                    wrong.append(f"motcua {sub}")
                continue
            parser = cli_parser(sub)
            words = rest.split()
            nested = _nested(parser)
            plain = [w for w in words if re.fullmatch(r"[a-z][a-z-]*", w)]
            if nested and plain and not any(w in nested for w in words):
                wrong.append(f"motcua {sub} {plain[0]}")      # a sub-command the CLI does not have
            known = _flags(parser, words)
            for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", rest):
                if flag not in known:
                    wrong.append(f"motcua {sub} {flag}")
    assert not wrong, f"{doc.name} shows commands or flags the CLI does not have: {sorted(set(wrong))}"


BENCH_CMD_RE = re.compile(r"(?:-m bench\.([a-z_0-9]+)|(bench/[a-z_0-9]+\.py))((?:[^`\n|;#&])*)")
# A benchmark runs as a module of the bench package (bench/README.md); by its path it would not
# find bench.harness or tests.support. pi_arm64.py runs by its path inside the arm64 root.
BENCH_BY_PATH_RE = re.compile(r"python3? (bench/(?!pi_arm64\.py)[a-z_0-9]+\.py)|`(bench/[a-z_0-9]+\.py) --")


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_bench_command_a_doc_shows_runs_as_a_module(doc):
    wrong = [m.group(1) or m.group(2) for m in BENCH_BY_PATH_RE.finditer(doc.read_text(encoding="utf-8"))]
    assert not wrong, f"{doc.name} runs benchmarks by their path, not as `python -m bench.<name>`: {wrong}"


@pytest.mark.parametrize("doc", DOCS, ids=_ids(DOCS))
def test_every_bench_flag_a_doc_shows_is_in_the_script(doc):
    wrong = []
    for m in BENCH_CMD_RE.finditer(doc.read_text(encoding="utf-8")):
        script = f"bench/{m.group(1)}.py" if m.group(1) else m.group(2)
        if not (ROOT / script).exists():
            if m.group(1):
                wrong.append(f"-m bench.{m.group(1)}")     # a module the bench package does not have
            continue                     # a path: the path test names it
        source = (ROOT / script).read_text(encoding="utf-8")
        for flag in re.findall(r"(?<![\w-])(--[a-z][a-z0-9-]*)", m.group(3)):
            if f'"{flag}"' not in source and f"'{flag}'" not in source:
                wrong.append(f"{script} {flag}")
    assert not wrong, f"{doc.name} shows benchmark flags the scripts do not take: {sorted(set(wrong))}"


def _xfails() -> dict[str, bool]:
    """test name -> strict, for every test marked xfail (decorator or pytest.param marks)."""
    found: dict[str, bool] = {}
    for path in sorted((ROOT / "tests").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "xfail" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for call in (n for d in node.decorator_list for n in ast.walk(d)):
                if isinstance(call, ast.Call) and ast.unparse(call.func).endswith("xfail"):
                    strict = any(k.arg == "strict" and ast.unparse(k.value) == "True" for k in call.keywords)
                    found[node.name] = found.get(node.name, True) and strict
                elif isinstance(call, ast.Attribute) and call.attr == "xfail" and not isinstance(call, ast.Call):
                    found.setdefault(node.name, False)       # bare @pytest.mark.xfail: not strict
    return found


def _known_gaps() -> set[str]:
    text = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    m = re.search(r"^### Known gaps.*?$(.*?)^#", text, re.M | re.S)
    assert m, "docs/security.md has no '### Known gaps' section followed by another heading"
    section = m.group(1)
    # every listed gap names the xfail test that shows it, so a gap closed since cannot stay listed
    bullets = re.split(r"^- ", section, flags=re.M)[1:]
    unnamed = [b.split("\n")[0] for b in bullets if not re.search(r"`(?:[\w/.]+::)?test_\w+`", b)]
    assert not unnamed, f"known gaps in docs/security.md that name no xfail test: {unnamed}"
    return set(re.findall(r"`(?:[\w/.]+::)?(test_\w+)`", section))


def test_security_known_gaps_are_exactly_the_xfails_in_tests():
    xfails = _xfails()
    not_strict = sorted(n for n, strict in xfails.items() if not strict)
    assert not not_strict, f"xfail without strict=True hides a fix: {not_strict}"
    raw = sum(len(re.findall(r"\bmark\.xfail\b", p.read_text(encoding="utf-8"))) for p in (ROOT / "tests").rglob("*.py")
              if p.name != Path(__file__).name)
    assert raw == len(xfails), "an xfail this test cannot attribute to a test function: mark the function"
    gaps = _known_gaps()
    assert gaps == set(xfails), (f"docs/security.md's known gaps {sorted(gaps)} are not the xfails in tests/ "
                                 f"{sorted(xfails)}: a passing test is a closed gap, an xfail is an open one")


# Design notes kept beside the checkout while the project started; the repo's own docs say it all now.
OUTSIDE = re.compile(r"PROTOCOL" r"\.md|DESIGN" r"\.md|DESIGN" r" rule|STACK" r"_NOTES|SIMULATION" r"\.md|\.\./shared" r"/")
TEXT_EXTS = {".py", ".md", ".js", ".html", ".kv", ".yaml", ".yml", ".toml", ".sh", ".po", ".css", ".txt", ".cfg",
             ".ini", ".service", ".json"}


def test_nothing_cites_the_design_notes_outside_the_repo():
    citing = []
    for name in tracked_files():
        path = ROOT / name
        if path.suffix not in TEXT_EXTS or not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        for no, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                citing.append(f"{name}:{no}")
    assert not citing, f"cite the doc in docs/ that says it instead: {citing}"

"""The tests' own layout (tests/README.md): helpers live in tests/support, so no test module
imports from another test module or from a level's package (tests.unit, tests.integration, ...)."""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
LEVELS = ("unit", "integration", "ui", "e2e", "soak")


def imported_modules(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:                       # a relative import reaches a sibling module
                out.append("." * node.level + (node.module or ""))
            elif node.module:
                out.append(node.module)
    return out


def test_no_test_module_imports_another():
    bad = []
    for path in sorted(TESTS.rglob("*.py")):
        for name in imported_modules(path):
            if name.startswith(".") or name.split(".")[:2] in (["tests", level] for level in LEVELS):
                bad.append(f"{path.relative_to(TESTS.parent)}: {name}")
    assert not bad, "move shared helpers to tests/support and import them from there:\n" + "\n".join(bad)


def test_support_is_not_a_test_level():
    assert not list((TESTS / "support").glob("test_*.py")), "tests/support holds helpers, not tests"

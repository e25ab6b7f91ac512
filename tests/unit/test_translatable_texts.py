"""Every text that goes through a message catalogue can be extracted as written, by any Babel.

Babel's Python extractor reads tokens, not the syntax tree: whatever follows a translation
keyword and a bracket becomes a msgid. Newer Babels also open a "call" on `[` and, on
Python 3.12, see the fields inside f-strings as tokens, so a loop variable named `t` in a
package whose translation function is `t` turned `t["id"]` into the msgid "id"
(issue #14). This scan checks the source itself, so it does not depend on the installed
Babel: in every module that translates,

- a translation call's first argument is a string literal, or a reference to a msgid kept
  elsewhere (a name, an attribute, a table lookup): never a string built or chosen in the
  call (f-string, `+`, `%`, `.format`, `a if c else b`), which no extractor can read and
  which would reach the catalogue as a text nobody translated;
- the translation names are used for nothing else (no variable, argument or subscript
  named `t` where `t` translates), so a token-based extractor cannot mistake them.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each package with a catalogue -> the names through which its msgids reach it
# (the catalogue `T`, and the wrappers that forward a msgid to it).
KEYWORDS = {
    "kiosk": {"T", "t"},
    "counter": {"T", "_say"},
    "display": {"T", "both"},
    "queue_server": {"T", "gettext", "both", "error_message"},
    "firmware_config": {"T"},
    "province": {"T"},
    "motcua": {"T", "both"},
}
# Methods of the catalogue object that take a msgid first.
CATALOGUE_METHODS = {"both"}
# A reference to a msgid kept elsewhere: a variable, a constant, a table lookup.
REFERENCE = (ast.Name, ast.Attribute, ast.Subscript)


def _translating_modules():
    for package, keywords in KEYWORDS.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(path))
            if _translates(tree, keywords):
                yield pytest.param(path, tree, keywords, id=str(path.relative_to(ROOT)))


def _translates(tree: ast.AST, keywords: set[str]) -> bool:
    """Defines or imports the catalogue `T`, or calls a translation function (`vm.t(...)`)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_translation_call(node, keywords):
            return True
        if isinstance(node, ast.ImportFrom) and any(a.name == "T" and a.asname is None for a in node.names):
            return True
        if isinstance(node, ast.Assign) and any(isinstance(x, ast.Name) and x.id == "T" for x in node.targets):
            return True
    return False


def _is_translation_call(node: ast.Call, keywords: set[str]) -> bool:
    f = node.func
    if isinstance(f, ast.Name):
        return f.id in keywords
    if isinstance(f, ast.Attribute):
        if f.attr in keywords:                     # vm.t(...), self.t(...)
            return True
        return f.attr in CATALOGUE_METHODS and isinstance(f.value, ast.Name) and f.value.id == "T"
    return False


def _is_reference(arg: ast.AST) -> bool:
    if isinstance(arg, REFERENCE):
        return True
    # TABLE.get(key, default): a lookup in a table of msgids (the default checked too)
    return (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "get"
            and isinstance(arg.func.value, REFERENCE)
            and all(_is_literal(a) or _is_reference(a) for a in arg.args[1:]))


def _is_literal(arg: ast.AST) -> bool:
    return isinstance(arg, ast.Constant) and isinstance(arg.value, str)


def _name_misuses(tree: ast.AST, keywords: set[str]) -> list[str]:
    """Every use of a translation name as something other than the translation function."""
    # `T = Catalogue(__file__)` defines it and `t = vm.t` only aliases it: those bindings are fine
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            value = node.value
            if ((isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "Catalogue")
                    or (isinstance(value, ast.Attribute) and value.attr in keywords)):
                allowed.update(id(target) for target in node.targets)
    bad = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Name) and node.id in keywords and isinstance(node.ctx, (ast.Store, ast.Del))
                and id(node) not in allowed):
            bad.append(f"line {node.lineno}: {node.id} bound to something else")
        elif isinstance(node, ast.arg) and node.arg in keywords:
            bad.append(f"line {node.lineno}: argument named {node.arg}")
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in keywords:
            bad.append(f"line {node.lineno}: {node.value.id}[...]")
        elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in keywords
              and node.attr not in CATALOGUE_METHODS | {"missing"}):
            bad.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return sorted(bad)


@pytest.mark.parametrize("path, tree, keywords", list(_translating_modules()))
def test_translation_calls_take_a_msgid_as_written(path, tree, keywords):
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _is_translation_call(node, keywords):
            arg = node.args[0] if node.args else None
            if arg is None or not (_is_literal(arg) or _is_reference(arg)):
                bad.append(f"line {node.lineno}: {ast.unparse(node)[:90]}")
    assert bad == [], f"{path.name}: build the text after translating, e.g. T('{{n}} people', lang, n=n)"


@pytest.mark.parametrize("path, tree, keywords", list(_translating_modules()))
def test_translation_names_mean_nothing_else(path, tree, keywords):
    assert _name_misuses(tree, keywords) == []


def test_the_scan_catches_what_broke_extraction():
    """The scan flags the shapes of issue #14 (so a pass above means something)."""
    kw = {"T", "t"}
    tile_label = ast.parse("def label(t):\n    return f\"{t['icon']} {t['prefix']}\"\n")
    assert _name_misuses(tile_label, kw) == ["line 1: argument named t", "line 2: t[...]", "line 2: t[...]"]
    loop = ast.parse("ids = [t['id'] for t in tiles]\n")
    assert len(_name_misuses(loop, kw)) == 2
    assert _name_misuses(ast.parse("T = Catalogue(__file__)\nt = vm.t\nx = t('Back')\n"), kw) == []
    for call in ("t(f'{n} people')", "T('a' + b, 'vi')", "t('{n} people'.format(n=n))",
                 "T('Now serving' if s else 'Nobody', 'vi')", "t()"):
        node = ast.parse(call).body[0].value
        assert _is_translation_call(node, kw)
        assert not (node.args and (_is_literal(node.args[0]) or _is_reference(node.args[0]))), call
    for call in ("t('{n} people', n=n)", "T(PRIORITY_LABELS[p], lang)", "T(NAMES.get(s, 'Closed'), 'vi')",
                 "T.both(msgid)"):
        node = ast.parse(call).body[0].value
        assert _is_literal(node.args[0]) or _is_reference(node.args[0]), call

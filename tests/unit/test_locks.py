"""The locks in requirements/ agree with pyproject.toml, and were resolved for both machines.

setup.sh installs `requirements/<role>.lock.txt` with `pip --require-hashes` and then the project with
`--no-deps`, so a requirement of pyproject.toml that the lock misses, or pins outside its specifier,
would never be installed or checked. The roles and their extras are read from setup.sh itself.
"""
from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"

# Debian 12 and Raspberry Pi OS Bookworm (64-bit): Python 3.11, a PC or a Pi
MACHINES = {
    machine: {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix",
              "platform_machine": machine, "python_version": "3.11", "python_full_version": "3.11.2",
              "implementation_name": "cpython", "platform_python_implementation": "CPython"}
    for machine in ("x86_64", "aarch64")
}


def roles() -> dict[str, list[str]]:
    """role -> extras, as setup.sh installs them (its ROLES and extras_of)."""
    script = ("eval \"$(sed -n -e '/^ROLES=/p' -e '/^extras_of()/p' setup.sh)\"; "
              "for r in $ROLES; do echo \"$r $(extras_of \"$r\")\"; done")
    out = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {role: extras.split(",") for role, extras in (line.split() for line in out.splitlines())}


def pyproject() -> dict:
    with (ROOT / "pyproject.toml").open("rb") as fh:
        return tomllib.load(fh)


def wanted(extras: list[str]) -> list[Requirement]:
    """The base dependencies, the extras (a self-reference like motcua[server] expanded) and the build backend."""
    project = pyproject()
    name = canonicalize_name(project["project"]["name"])
    optional = project["project"]["optional-dependencies"]
    reqs = [Requirement(r) for r in project["project"]["dependencies"]]
    reqs += [Requirement(r) for r in project["build-system"]["requires"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in optional[extra]:
            req = Requirement(text)
            if canonicalize_name(req.name) == name:
                todo.extend(req.extras)
            else:
                reqs.append(req)
    return reqs


def parse_lock(path: Path) -> list[tuple[Requirement, list[str]]]:
    """Each entry of a hashed requirements file: the requirement and its --hash values."""
    text = re.sub(r"\\\n", " ", path.read_text(encoding="utf-8"))
    entries = []
    for line in text.splitlines():
        line = line.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        assert not line.startswith("-"), f"{path.name}: an option in the lock: {line}"
        spec, *hashes = re.split(r"\s+--hash=", line)
        entries.append((Requirement(spec), hashes))
    return entries


def pinned(entries, name: str, env: dict) -> list[str]:
    """The versions the lock installs for `name` on the machine `env`."""
    return [next(iter(req.specifier)).version for req, _ in entries
            if canonicalize_name(req.name) == canonicalize_name(name)
            and (req.marker is None or req.marker.evaluate(env))]


ROLES = roles()


def test_setup_sh_knows_every_role_and_each_has_a_lock():
    assert set(ROLES) == {"server", "kiosk", "counter", "display", "all"}
    assert "test" in ROLES["all"]
    assert sorted(p.name for p in LOCKS.glob("*.lock.txt")) == sorted(f"{r}.lock.txt" for r in ROLES)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_entry_is_pinned_and_hashed(role):
    entries = parse_lock(LOCKS / f"{role}.lock.txt")
    assert entries
    for req, hashes in entries:
        specs = list(req.specifier)
        assert len(specs) == 1 and specs[0].operator == "==" and "*" not in specs[0].version, \
            f"{role}: {req} is not pinned to one version"
        assert hashes and all(re.fullmatch(r"sha256:[0-9a-f]{64}", h) for h in hashes), \
            f"{role}: {req.name} has no sha256 hash"
        assert not req.url, f"{role}: {req.name} comes from a URL"


@pytest.mark.parametrize("machine", sorted(MACHINES))
@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_lock_satisfies_pyproject_on_both_machines(role, machine):
    env = MACHINES[machine]
    entries = parse_lock(LOCKS / f"{role}.lock.txt")
    for req, _ in entries:   # one version of each package per machine
        assert len(pinned(entries, req.name, env)) <= 1, f"{role}/{machine}: {req.name} pinned twice"
    for req in wanted(ROLES[role]):
        if req.marker is not None and not req.marker.evaluate(env):
            continue
        versions = pinned(entries, req.name, env)
        assert versions, f"{role}/{machine}: {req} is not in requirements/{role}.lock.txt (run ./setup.sh --lock)"
        assert req.specifier.contains(versions[0], prereleases=True), \
            f"{role}/{machine}: the lock pins {req.name}=={versions[0]}, pyproject.toml wants {req}"


def test_every_machine_gets_every_package():
    """A lock resolved for one machine only would leave the other without part of it (uv's markers)."""
    for role in ROLES:
        entries = parse_lock(LOCKS / f"{role}.lock.txt")
        names = {canonicalize_name(req.name) for req, _ in entries}
        for machine, env in MACHINES.items():
            assert {n for n in names if pinned(entries, n, env)} == names, f"{role}: some packages skip {machine}"


@pytest.mark.parametrize("role", ["kiosk", "counter"])
def test_a_pi_gets_a_real_lgpio(role):
    """lgpio 0.0.x is an empty placeholder (what a resolution for old aarch64 platform tags picks):
    gpiozero would have no pin factory on a Pi 5."""
    entries = parse_lock(LOCKS / f"{role}.lock.txt")
    versions = pinned(entries, "lgpio", MACHINES["aarch64"])
    assert versions and Requirement("lgpio>=0.2").specifier.contains(versions[0])
    hashes = [h for req, h in entries if canonicalize_name(req.name) == "lgpio"][0]
    assert len(hashes) >= 2   # a wheel for each machine at least


def test_the_locks_say_how_to_refresh_them():
    for role in ROLES:
        head = (LOCKS / f"{role}.lock.txt").read_text(encoding="utf-8").splitlines()[:3]
        assert any("./setup.sh --lock" in line for line in head), role


def test_axe_core_is_pinned_with_its_integrity():
    import json
    package = json.loads((LOCKS / "npm" / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((LOCKS / "npm" / "package-lock.json").read_text(encoding="utf-8"))
    version = package["dependencies"]["axe-core"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), "axe-core must be an exact version"
    entry = lock["packages"]["node_modules/axe-core"]
    assert entry["version"] == version and entry["integrity"].startswith("sha512-")

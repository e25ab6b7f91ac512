"""The generated `motcua-release` script: side-by-side releases, update, self-rollback, rollback.

Run for real in a temp prefix, with tarballs whose setup.sh makes a stand-in .venv, and a
stand-in `systemctl` on PATH that records calls and reports the units healthy or not.
"""
from __future__ import annotations

import copy
import os
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from firmware_config.inventory import parse_inventory
from firmware_config.provision import provision

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "site-inventory.yaml"


def tarball(tmp: Path, version: str, setup_ok: bool = True) -> Path:
    src = tmp / f"src-{version}" / f"motcua-{version}"
    src.mkdir(parents=True)
    body = ("#!/bin/sh\nset -e\n[ \"$1\" = --role ] || exit 3\necho \"$2\" > role.txt\n"
            "mkdir -p .venv/bin\nprintf '#!/bin/sh\\n' > .venv/bin/motcua\nchmod +x .venv/bin/motcua\n"
            if setup_ok else "#!/bin/sh\necho broken >&2\nexit 1\n")
    (src / "setup.sh").write_text(body)
    (src / "setup.sh").chmod(0o755)
    (src / "VERSION").write_text(version)
    out = tmp / f"motcua-{version}.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        tf.add(src, arcname=f"motcua-{version}")
    return out


@pytest.fixture
def release(tmp_path):
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    prefix = tmp_path / "opt-motcua"
    data["inventory"]["prefix"] = str(prefix)
    bundle = provision(parse_inventory(data), tmp_path / "out")
    host = next(b for b in bundle.hosts if b.host.hostname == "mc-kiosk-1")
    script = next((host.directory / "files").rglob("motcua-release"))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "systemctl").write_text(
        "#!/bin/sh\necho \"$@\" >> \"$SYSTEMCTL_LOG\"\n"
        "if [ \"$1\" = is-active ]; then [ \"$(cat \"$HEALTH\")\" = ok ]; exit $?; fi\nexit 0\n")
    (bindir / "systemctl").chmod(0o755)
    health = tmp_path / "health"
    health.write_text("ok")
    env = {**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}", "MOTCUA_HEALTH_WAIT": "0",
           "SYSTEMCTL_LOG": str(tmp_path / "systemctl.log"), "HEALTH": str(health)}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["bash", str(script), *args], env=env, capture_output=True, text=True)

    def current() -> str:
        return Path(os.readlink(prefix / "current")).name

    def previous() -> str:
        return Path(os.readlink(prefix / "previous")).name

    return {"run": run, "current": current, "previous": previous, "prefix": prefix, "tmp": tmp_path,
            "health": health, "log": tmp_path / "systemctl.log"}


def test_fetch_install_rollback(release):
    run, tmp = release["run"], release["tmp"]
    res = run("fetch", "v1", str(tarball(tmp, "v1")))
    assert res.returncode == 0, res.stderr
    assert release["current"]() == "v1"
    assert (release["prefix"] / "releases/v1/role.txt").read_text().strip() == "kiosk"   # setup.sh --role kiosk

    res = run("install", "v2", str(tarball(tmp, "v2")))
    assert res.returncode == 0, res.stdout + res.stderr
    assert (release["current"](), release["previous"]()) == ("v2", "v1")
    assert "restart motcua-kiosk.service" in release["log"].read_text()

    res = run("rollback")
    assert res.returncode == 0, res.stderr
    assert (release["current"](), release["previous"]()) == ("v1", "v2")
    res = run("rollback")                                  # and forward again
    assert (release["current"](), release["previous"]()) == ("v2", "v1")


def test_unhealthy_release_rolls_itself_back(release):
    run, tmp = release["run"], release["tmp"]
    assert run("fetch", "v1", str(tarball(tmp, "v1"))).returncode == 0
    assert run("install", "v2", str(tarball(tmp, "v2"))).returncode == 0
    release["health"].write_text("failed")
    res = run("install", "v3", str(tarball(tmp, "v3")))
    assert res.returncode == 1
    assert "rolling back" in res.stdout
    assert release["current"]() == "v2"                    # the centre stays on the release that worked


def test_broken_setup_changes_nothing(release):
    run, tmp = release["run"], release["tmp"]
    assert run("fetch", "v1", str(tarball(tmp, "v1"))).returncode == 0
    res = run("install", "v2", str(tarball(tmp, "v2", setup_ok=False)))
    assert res.returncode != 0 and "setup.sh failed" in res.stdout
    assert release["current"]() == "v1"
    assert not (release["prefix"] / "releases/v2").exists()


def test_old_releases_are_pruned(release):
    run, tmp = release["run"], release["tmp"]
    for v in ("v1", "v2", "v3", "v4", "v5"):
        assert run("install", v, str(tarball(tmp, v))).returncode == 0
    kept = sorted(p.name for p in (release["prefix"] / "releases").iterdir())
    assert "v5" in kept and "v4" in kept and len(kept) <= 3
    assert run("status").returncode == 0

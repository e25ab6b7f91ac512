#!/usr/bin/env bash
# Set up motcua on Debian 12 / Raspberry Pi OS (64-bit): system packages, a venv in .venv, the project.
#
#   ./setup.sh                  everything (all roles + what the tests need)
#   ./setup.sh --role kiosk     only what a kiosk Pi needs (server | kiosk | counter | display | all)
#   ./setup.sh --lock           refresh the locks in requirements/ to the newest versions pyproject.toml allows
#
# Python packages come from requirements/<role>.lock.txt (every version pinned, every file hashed), so
# a fresh clone installs what CI tested. Idempotent: a second run checks and returns in a few seconds.
set -Eeuo pipefail

ROLE=all
LOCK=0
while [ $# -gt 0 ]; do
  case "$1" in
    --role) ROLE="${2:-}"; shift 2 ;;
    --role=*) ROLE="${1#*=}"; shift ;;
    --lock) LOCK=1; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$ROLE" in server|kiosk|counter|display|all) ;; *)
  echo "setup.sh: --role must be server, kiosk, counter, display or all (got '$ROLE')" >&2; exit 2 ;;
esac

cd "$(dirname "$0")"
trap 'echo "setup.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2; echo "setup.sh: fix the problem above and run ./setup.sh again (it is safe to re-run)." >&2' ERR
say() { printf 'setup.sh: %s\n' "$*"; }

ROLES="server kiosk counter display all"
# the extras of pyproject.toml that each role installs
extras_of() { case "$1" in all) echo "all,test" ;; *) echo "$1" ;; esac; }

# --- ./setup.sh --lock: refresh the locks ----------------------------------------
# uv resolves once for both machines ([tool.uv] environments in pyproject.toml) at Python 3.11
# (Bookworm's); the build backend (build-system.requires) is locked too, because the project is
# installed without build isolation so that nothing unpinned is downloaded.
UV_VERSION=0.13.9
if [ "$LOCK" = 1 ]; then
  TOOLS=.cache/lock-tools
  if [ "$("$TOOLS/bin/uv" --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    say "installing uv $UV_VERSION into $TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install -q "uv==$UV_VERSION"
  fi
  mkdir -p requirements
  python3 -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"]))' \
    > .cache/lock-tools/build.in
  for role in $ROLES; do
    flags=()
    for extra in $(extras_of "$role" | tr , ' '); do flags+=(--extra "$extra"); done
    say "locking role $role -> requirements/$role.lock.txt"
    "$TOOLS/bin/uv" pip compile -q --upgrade --universal --python-version 3.11 --generate-hashes \
      --custom-compile-command "./setup.sh --lock" \
      "${flags[@]}" pyproject.toml .cache/lock-tools/build.in -o "requirements/$role.lock.txt"
    # every pinned version must have a wheel for both machines at Bookworm's glibc (2.36): no compiler on a Pi
    for platform in x86_64-manylinux_2_36 aarch64-manylinux_2_36; do
      "$TOOLS/bin/uv" pip compile -q --no-deps --only-binary :all: --python-version 3.11 \
        --python-platform "$platform" "requirements/$role.lock.txt" -o /dev/null \
        || { echo "setup.sh: requirements/$role.lock.txt has no wheel for $platform (see above)" >&2; exit 1; }
    done
  done
  say "locking axe-core -> requirements/npm/package-lock.json"
  npm install --silent --no-audit --no-fund --package-lock-only --save-exact --prefix requirements/npm axe-core@latest
  say "locks refreshed: review 'git diff requirements/', run the tests, commit"
  exit 0
fi

# --- system packages -------------------------------------------------------
COMMON="python3 python3-venv python3-pip mosquitto-clients fonts-dejavu-core ca-certificates"
KIVY="libmtdev1 libegl-mesa0 libgl1-mesa-dri libgles2 libsdl2-2.0-0 xauth"
case "$ROLE" in
  server)  PKGS="$COMMON mosquitto espeak-ng" ;;   # espeak-ng: the browser display's spoken calls
  kiosk)   PKGS="$COMMON $KIVY espeak-ng alsa-utils libusb-1.0-0" ;;
  counter) PKGS="$COMMON $KIVY" ;;
  display) PKGS="$COMMON $KIVY espeak-ng alsa-utils sox" ;;
  all)     PKGS="$COMMON mosquitto $KIVY espeak-ng alsa-utils sox libusb-1.0-0 xvfb chromium chromium-driver postgresql npm" ;;
esac

missing=()
for p in $PKGS; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# npm: a machine with Node.js from elsewhere already has it.
if [[ " ${missing[*]:-} " == *" npm "* ]] && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/npm}")
fi
missing=($(printf '%s\n' "${missing[@]:-}" | grep -v '^$' || true))
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "setup.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    SUDO="sudo"
  fi
  say "installing Debian packages: ${missing[*]}"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  # The Debian package starts a system-wide broker on 1883; motcua runs its own (with auth), so stop that one.
  if [[ " ${missing[*]} " == *" mosquitto "* ]] && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
  fi
else
  say "Debian packages for role '$ROLE' already installed"
fi

# --- Python venv and the project -----------------------------------------------
PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup.sh: Python 3.11 or newer is needed ($("$PY" --version 2>&1))" >&2; exit 1
fi
if [ ! -x .venv/bin/python ]; then
  say "creating .venv"
  "$PY" -m venv .venv
fi
EXTRAS=$(extras_of "$ROLE")
LOCKFILE=requirements/$ROLE.lock.txt
[ -f "$LOCKFILE" ] || { echo "setup.sh: $LOCKFILE is missing (make it with ./setup.sh --lock)" >&2; exit 1; }
# The lock was resolved for these machines only; elsewhere pip would quietly skip every package.
case "$(uname -m)" in x86_64|aarch64) ;; *)
  echo "setup.sh: the locks in requirements/ are for 64-bit Linux (x86_64 or aarch64), not $(uname -m);" \
       "on a Raspberry Pi use the 64-bit Raspberry Pi OS" >&2; exit 1 ;;
esac
STAMP=.venv/.motcua-installed
WANT="$(cat "$LOCKFILE" pyproject.toml | sha256sum | cut -c1-16)-$ROLE"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  say "installing $LOCKFILE and motcua[$EXTRAS] into .venv"
  # the lock pins and hashes every file (pip refuses a lock that misses a dependency); the project
  # adds nothing to it (--no-deps) and is built with the locked setuptools (build isolation would
  # fetch an unpinned one)
  .venv/bin/python -m pip install -q --require-hashes -r "$LOCKFILE"
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  echo "$WANT" > "$STAMP"
else
  say "motcua[$EXTRAS] already installed in .venv from $LOCKFILE"
fi

# --- test tools: axe-core for the accessibility checks of the web pages -----------------
# pinned with its integrity hash in requirements/npm/package-lock.json; npm ci installs exactly that
if [ "$ROLE" = all ] && ! cmp -s requirements/npm/package-lock.json .cache/node/package-lock.json; then
  if command -v npm >/dev/null 2>&1; then
    say "installing axe-core (npm) into .cache/node"
    mkdir -p .cache/node
    cp requirements/npm/package.json requirements/npm/package-lock.json .cache/node/
    npm ci --silent --no-audit --no-fund --prefix .cache/node >/dev/null
  else
    say "npm not found: the accessibility checks will be skipped"
  fi
fi

say "ready (role: $ROLE). Demo site: .venv/bin/motcua up   Tests: .venv/bin/python -m pytest"

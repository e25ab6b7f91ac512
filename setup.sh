#!/usr/bin/env bash
# Set up motcua on Debian 12 / Raspberry Pi OS: system packages, a venv in .venv, the project.
#
#   ./setup.sh                  everything (all roles + what the tests need)
#   ./setup.sh --role kiosk     only what a kiosk Pi needs (server | kiosk | counter | display | all)
#
# Idempotent: a second run checks and returns in a few seconds.
set -Eeuo pipefail

ROLE=all
while [ $# -gt 0 ]; do
  case "$1" in
    --role) ROLE="${2:-}"; shift 2 ;;
    --role=*) ROLE="${1#*=}"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
case "$ROLE" in server|kiosk|counter|display|all) ;; *)
  echo "setup.sh: --role must be server, kiosk, counter, display or all (got '$ROLE')" >&2; exit 2 ;;
esac

cd "$(dirname "$0")"
trap 'echo "setup.sh: FAILED at line $LINENO: $BASH_COMMAND" >&2; echo "setup.sh: fix the problem above and run ./setup.sh again (it is safe to re-run)." >&2' ERR
say() { printf 'setup.sh: %s\n' "$*"; }

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
case "$ROLE" in
  all) EXTRAS="all,test" ;;
  *)   EXTRAS="$ROLE" ;;
esac
STAMP=.venv/.motcua-installed
WANT="$(sha256sum pyproject.toml | cut -c1-16)-$EXTRAS"
if [ "$(cat "$STAMP" 2>/dev/null || true)" != "$WANT" ]; then
  say "installing motcua[$EXTRAS] into .venv"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[$EXTRAS]"
  echo "$WANT" > "$STAMP"
else
  say "motcua[$EXTRAS] already installed in .venv"
fi

# --- test tools: axe-core for the accessibility checks of the web pages -----------------
if [ "$ROLE" = all ] && [ ! -f .cache/node/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null 2>&1; then
    say "installing axe-core (npm) into .cache/node"
    npm install --silent --no-audit --no-fund --prefix .cache/node axe-core@4 >/dev/null
  else
    say "npm not found: the accessibility checks will be skipped"
  fi
fi

say "ready (role: $ROLE). Demo site: .venv/bin/motcua up   Tests: .venv/bin/python -m pytest"

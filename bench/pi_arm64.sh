#!/usr/bin/env bash
# Prove the kiosk on arm64 (a Raspberry Pi's CPU) on an x86 machine, through qemu-user. Opt-in: never run
# by pytest or CI. Needs root (debootstrap, chroot, mounts) and the host's own ./setup.sh done.
#
#   sudo bench/pi_arm64.sh                 reuse the cached arm64 root ($MOTCUA_ARM64_ROOT, default /var/cache/motcua-arm64/root) and its .venv
#   sudo bench/pi_arm64.sh --fresh         from scratch: a new Debian 12 arm64 root, then everything
#   sudo bench/pi_arm64.sh --fresh-venv    keep the root, but let setup.sh build the root's .venv again
#
# Steps, each timed: host packages (debootstrap, qemu-user-static, binfmt-support); debootstrap
# bookworm arm64 (--foreign, second stage through qemu); the repo (git HEAD) copied into the root;
# `./setup.sh --role kiosk` inside it (clean environment, the host's CA bundle for pip); Xvfb in the
# root; `motcua up` on the x86 host (loopback); the arm64 Kivy kiosk pointed at it with the kiosk
# k1 credentials, 2 touches to a ticket, the Dummy printer's raster decoded back and checked against
# the issued number, a screenshot; which pin factory gpiozero picks in the root.
# Exits non-zero on any failure and stops everything it started. The kiosk and the server talk over
# 127.0.0.1 only (the chroot shares the host's network namespace).
set -Eeuo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=$REPO/bench/out
# The arm64 root lives outside the checkout: pip's editable build, grep -r and cp -r walk the
# checkout, and a Debian root (with /proc mounted during a run) has no place there.
ROOTFS=${MOTCUA_ARM64_ROOT:-/var/cache/motcua-arm64/root}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
FRESH=0; FRESH_VENV=0
while [ $# -gt 0 ]; do
  case "$1" in
    --fresh) FRESH=1; shift ;;
    --fresh-venv) FRESH_VENV=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "pi_arm64.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "pi_arm64.sh: run as root (debootstrap, chroot and bind mounts need it)" >&2; exit 2; }
[ -x "$REPO/.venv/bin/motcua" ] || { echo "pi_arm64.sh: run ./setup.sh on the host first (no .venv/bin/motcua)" >&2; exit 2; }

say() { printf 'pi_arm64: %s\n' "$*"; }
now() { date +%s.%N; }
declare -A TIME
timed() {   # timed NAME command...: run it, keep its duration
  local name=$1; shift
  local t0; t0=$(now)
  "$@"
  TIME[$name]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}')
  say "$name: ${TIME[$name]} s"
}

# --- cleanup: whatever was started, in reverse ----------------------------------------------
UP_PID=""; KIOSK_PID=""; MOUNTED=()
cleanup() {
  local rc=$?
  set +e
  [ -n "$KIOSK_PID" ] && kill "$KIOSK_PID" 2>/dev/null && wait "$KIOSK_PID" 2>/dev/null
  if [ -n "$UP_PID" ] && kill -0 "$UP_PID" 2>/dev/null; then
    kill -INT "$UP_PID"; wait "$UP_PID" 2>/dev/null       # motcua up stops its broker on SIGINT
  fi
  local i
  for ((i=${#MOUNTED[@]}-1; i>=0; i--)); do umount "${MOUNTED[i]}" || umount -l "${MOUNTED[i]}"; done
  [ $rc -eq 0 ] || say "FAILED (exit $rc); logs in $OUT"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
trap 'say "failed at line $LINENO: $BASH_COMMAND"' ERR

mount_into_root() {
  local what
  for what in proc sys dev dev/pts; do
    mountpoint -q "$ROOTFS/$what" && continue
    mkdir -p "$ROOTFS/$what"
    case $what in
      proc) mount -t proc proc "$ROOTFS/proc" ;;
      *) mount --bind "/$what" "$ROOTFS/$what" ;;
    esac
    MOUNTED+=("$ROOTFS/$what")
  done
}

# A clean environment: nothing of the host's (its pip config in /etc/pip.conf, /etc/xdg/pip and
# ~/.config/pip is outside the root, and PIP_* variables go with env -i), pip told to read no config
# file at all, and the host's CA bundle (this machine's egress proxy signs TLS with its own CA; the root's
# ca-certificates package, installed by setup.sh, would not have it).
in_root() {
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    TERM=dumb DEBIAN_FRONTEND=noninteractive PIP_CONFIG_FILE=/dev/null \
    PIP_CERT=/etc/motcua-bench/host-ca.crt SSL_CERT_FILE=/etc/motcua-bench/host-ca.crt \
    chroot "$ROOTFS" "$@"
}

mkdir -p "$OUT" "$(dirname "$ROOTFS")"
T_ALL=$(now)

# --- 1. host packages and binfmt --------------------------------------------------------------
host_packages() {
  local missing=() p
  for p in debootstrap qemu-user-static binfmt-support; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing on the host: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  fi
  # containers often have binfmt_misc unmounted; qemu-user-static registers aarch64 with the F flag,
  # so the interpreter need not be inside the root
  mountpoint -q /proc/sys/fs/binfmt_misc || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  [ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ] || update-binfmts --enable qemu-aarch64
  grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 \
    || { echo "pi_arm64.sh: binfmt for aarch64 is not enabled" >&2; return 1; }
}
timed host_packages host_packages

# --- 2. the arm64 Debian 12 root (cached) --------------------------------------------------------
if [ $FRESH -eq 1 ] && [ -d "$ROOTFS" ]; then
  say "removing the cached root"
  rm -rf --one-file-system "$ROOTFS"
fi
make_root() {
  rm -rf --one-file-system "$ROOTFS.part"
  debootstrap --arch=arm64 --foreign --variant=minbase bookworm "$ROOTFS.part" "$MIRROR" > "$OUT/debootstrap.log"
  chroot "$ROOTFS.part" /debootstrap/debootstrap --second-stage >> "$OUT/debootstrap.log"
  local m    # the second stage can leave its own /proc or /sys mounted in the root
  for m in proc sys; do
    if mountpoint -q "$ROOTFS.part/$m"; then umount "$ROOTFS.part/$m"; fi
  done
  mv "$ROOTFS.part" "$ROOTFS"
}
if [ -x "$ROOTFS/usr/bin/dpkg" ] && [ ! -d "$ROOTFS/debootstrap" ]; then
  say "reusing the arm64 root in $ROOTFS"
else
  timed debootstrap make_root
fi
[ "$(in_root uname -m)" = aarch64 ] || { echo "pi_arm64.sh: the root does not run as aarch64" >&2; exit 1; }
mkdir -p "$ROOTFS/etc/motcua-bench" "$ROOTFS/etc/ssl/certs"
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/motcua-bench/host-ca.crt"
cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/ca-certificates.crt"
cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
mount_into_root

# --- 3. the repo: what is committed (HEAD), the root's .venv kept unless --fresh-venv --------
APP=$ROOTFS/opt/motcua
mkdir -p "$APP"
[ $FRESH_VENV -eq 1 ] && rm -rf "$APP/.venv"
find "$APP" -mindepth 1 -maxdepth 1 ! -name .venv -exec rm -rf {} +
git -C "$REPO" archive HEAD | tar -x -C "$APP"
cp "$REPO/bench/pi_arm64.py" "$APP/bench/pi_arm64.py"     # the driver this script was written with
say "repo at $(git -C "$REPO" rev-parse --short HEAD) copied into the root"

# --- 4. setup.sh --role kiosk inside the root -----------------------------------------------------
run_setup() { in_root bash -c 'cd /opt/motcua && ./setup.sh --role kiosk'; }
timed setup run_setup > >(tee "$OUT/setup.log") 2>&1
install_xvfb() {   # the kiosk's own X server in the root (a Pi has its screen; setup.sh does not need it)
  in_root dpkg-query -W -f='${Status}' xvfb 2>/dev/null | grep -q "install ok installed" && return 0
  in_root apt-get install -y -q --no-install-recommends xvfb > "$OUT/xvfb-apt.log"
}
timed root_xvfb install_xvfb

# --- 5. gpiozero's pin factory in the root ---------------------------------------------------------
GPIO=$(in_root /opt/motcua/.venv/bin/python /opt/motcua/bench/pi_arm64.py gpio | sed -n 's/^RESULT //p')
say "gpio: $GPIO"

# --- 6. motcua up on the x86 host, on loopback -----------------------------------------------------
SITE_DIR=$OUT/arm64-site
rm -rf "$SITE_DIR"; mkdir -p "$SITE_DIR"
free_port() { "$REPO/.venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
t0=$(now)
"$REPO/.venv/bin/motcua" up --host 127.0.0.1 --mqtt-port "$(free_port)" --http-port "$(free_port)" \
  --data-dir "$SITE_DIR/data" > "$SITE_DIR/up.log" 2>&1 &
UP_PID=$!
READY=""
for _ in $(seq 1 600); do        # the ready line, or the process gone, within 60 s
  READY=$(grep -s -m1 ' ready · ' "$SITE_DIR/up.log" || true)
  [ -n "$READY" ] && break
  kill -0 "$UP_PID" 2>/dev/null || break
  sleep 0.1
done
[ -n "$READY" ] || { cat "$SITE_DIR/up.log" >&2; echo "pi_arm64.sh: motcua up did not start" >&2; exit 1; }
TIME[server_up]=$(awk -v a="$t0" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}')
MQTT_URL=$(sed -n 's/.*MQTT \(mqtt:\/\/[^ ]*\).*/\1/p' <<<"$READY")
WEB_URL=$(sed -n 's/.* web \(http:\/\/[^ ]*\).*/\1/p' <<<"$READY")
say "host: $MQTT_URL, $WEB_URL"

# --- 7. the arm64 kiosk: config (k1's credentials from the host's data dir), 2 touches, print, screenshot
KOUT=/root/motcua-arm64
rm -rf "$ROOTFS$KOUT"; mkdir -p "$ROOTFS$KOUT"
"$REPO/.venv/bin/python" - "$SITE_DIR/data/credentials.json" "$MQTT_URL" "$WEB_URL" "$ROOTFS$KOUT/kiosk.yaml" <<'EOF'
import json, os, sys, yaml
creds, mqtt_url, web_url, path = sys.argv[1:]
k1 = json.load(open(creds))["kiosk"]["k1"]
conf = {"role": "kiosk", "site": "demo-district", "id": "k1", "server_url": web_url,
        "mqtt": {"url": mqtt_url, "username": k1["username"], "password": k1["password"]},
        "printer": {"kind": "dummy", "width_px": 576, "profile": "TM-T20II"},
        "speech": {"enabled": False},
        "screen": {"width": 800, "height": 480, "fullscreen": False}}
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)    # a password: not world-readable
with os.fdopen(fd, "w") as f:
    yaml.safe_dump(conf, f, allow_unicode=True)
EOF
in_root /opt/motcua/.venv/bin/python /opt/motcua/bench/pi_arm64.py kiosk --config "$KOUT/kiosk.yaml" \
  --out "$KOUT" > "$OUT/kiosk.log" 2>&1 &
KIOSK_PID=$!
set +e; wait "$KIOSK_PID"; KRC=$?; set -e
KIOSK_PID=""
RESULT=$(sed -n 's/^RESULT //p' "$OUT/kiosk.log")
say "kiosk: $RESULT"
[ $KRC -eq 0 ] || { tail -40 "$OUT/kiosk.log" >&2; echo "pi_arm64.sh: the arm64 kiosk failed" >&2; exit 1; }
cp "$ROOTFS$KOUT/kiosk-arm64.png" "$ROOTFS$KOUT/printed-ticket.png" "$OUT/"
# the server's side of it: the ticket is waiting on the board
WAITING=$(curl -s --max-time 10 "$WEB_URL/api/v1/board" | "$REPO/.venv/bin/python" -c \
  'import json,sys; print(sum(s["waiting"] for s in json.load(sys.stdin)["sectors"]))')
[ "$WAITING" -eq 1 ] || { echo "pi_arm64.sh: the board shows $WAITING waiting, expected 1" >&2; exit 1; }

TIME[total]=$(awk -v a="$T_ALL" -v b="$(now)" 'BEGIN{printf "%.0f", b-a}')
KSTART=$(sed -n 's/.*"kiosk_start_s": \([0-9.]*\).*/\1/p' <<<"$RESULT")
KTICKET=$(sed -n 's/.*"ticket_s": \([0-9.]*\).*/\1/p' <<<"$RESULT")
echo
echo "arm64 kiosk through qemu-user ($(date -I), $(nproc) cores, $(uname -m) host, load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-28s %s\n' "host packages" "${TIME[host_packages]} s" \
  "debootstrap (both stages)" "${TIME[debootstrap]:-(cached)}${TIME[debootstrap]:+ s}" \
  "setup.sh --role kiosk" "${TIME[setup]} s" \
  "xvfb in the root" "${TIME[root_xvfb]} s" \
  "motcua up (host)" "${TIME[server_up]} s" \
  "kiosk start to home screen" "$KSTART s" \
  "2 touches to printed ticket" "$KTICKET s" \
  "total" "${TIME[total]} s"
echo "  gpiozero in the root: $GPIO"
echo "  screenshot: $OUT/kiosk-arm64.png   printed ticket (decoded): $OUT/printed-ticket.png"

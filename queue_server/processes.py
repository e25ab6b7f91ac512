"""Child processes `motcua up` runs for you (mosquitto), restarted if they die."""
from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

log = logging.getLogger(__name__)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(preferred: int, host: str = "127.0.0.1") -> int:
    if preferred and port_free(preferred, host):
        return preferred
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_port(port: int, host: str = "127.0.0.1", timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.3):
                return True
        except OSError:
            time.sleep(0.05)
    return False


class Mosquitto:
    """mosquitto in the foreground as our child; a watchdog restarts it if it dies."""

    def __init__(self, conf: Path, port: int, log_path: Path, host: str = "127.0.0.1"):
        self.conf, self.port, self.log_path, self.host = conf, port, log_path, host
        self.proc: subprocess.Popen | None = None
        self._stopping = threading.Event()
        self._watchdog: threading.Thread | None = None

    def start(self) -> None:
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(exe).exists():
            raise RuntimeError("mosquitto is not installed: run ./setup.sh (it installs the Debian package)")
        self._spawn(exe)
        if not wait_port(self.port, self.host):
            raise RuntimeError(f"mosquitto did not start; see {self.log_path}")
        self._watchdog = threading.Thread(target=self._watch, args=(exe,), daemon=True, name="mosquitto-watchdog")
        self._watchdog.start()

    def _spawn(self, exe: str) -> None:
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, "-c", str(self.conf)], stdout=logf, stderr=subprocess.STDOUT)

    def _watch(self, exe: str) -> None:
        while not self._stopping.wait(1.0):
            if self.proc is not None and self.proc.poll() is not None:
                log.warning("mosquitto exited with %s; restarting", self.proc.returncode)
                self._spawn(exe)
                wait_port(self.port, self.host)

    def stop(self) -> None:
        self._stopping.set()
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()

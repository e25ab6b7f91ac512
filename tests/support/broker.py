"""A real mosquitto for tests, on a free loopback port, in the foreground of a subprocess."""
from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from queue_server.processes import pick_port
from queue_server.processes import wait_port as _port_answers


def free_port() -> int:
    return pick_port(0)


def wait_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    if not _port_answers(port, host, timeout):
        raise TimeoutError(f"nothing listens on {host}:{port} after {timeout} s")


class Mosquitto:
    """`Mosquitto(tmp_path).start()`; anonymous unless `conf` is given (a full config text)."""

    def __init__(self, directory: Path, port: int | None = None, conf: str | None = None):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.conf_path = self.directory / "mosquitto-test.conf"
        self.conf_text = conf or (f"listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                                  "set_tcp_nodelay true\nmax_queued_messages 10000\n")
        self.proc: subprocess.Popen | None = None
        self.log_path = self.directory / "mosquitto.log"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> "Mosquitto":
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.conf_path.write_text(self.conf_text)
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([exe, "-c", str(self.conf_path)], stdout=self._log, stderr=subprocess.STDOUT)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self, down_for: float = 0.0) -> None:
        self.stop()
        time.sleep(down_for)
        self.start()

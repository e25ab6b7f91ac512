"""A real PostgreSQL (Debian's packages) for tests: initdb in a temp dir, started on a free port.

PostgreSQL refuses to run as root. When the tests run as root (CI containers do), the server
is run as the `postgres` system user (made by Debian's package) through `runuser`; its data
dir is owned by that user. One server per test process (started on first use, stopped at
exit); each test gets its own fresh database from `pg_url`.

    from tests.support.postgres import pg_url   # noqa: F401  (the fixture)
"""
from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.support.broker import free_port


def pg_bin() -> Path | None:
    for cand in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(cand, "initdb").exists():
            return Path(cand)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


class Postgres:
    def __init__(self, directory: Path | None = None, port: int | None = None):
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.directory = Path(directory or tempfile.mkdtemp(prefix="motcua-pg-"))
        self.data = self.directory / "data"
        self.sockets = self.directory / "sock"
        self.port = port or free_port()
        self.proc: subprocess.Popen | None = None
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no postgres user to run PostgreSQL as") from None
            self.as_user = ["runuser", "-u", "postgres", "--"]

    @property
    def admin_url(self) -> str:
        return f"postgresql://motcua@127.0.0.1:{self.port}/postgres"

    def url(self, db: str) -> str:
        return f"postgresql://motcua@127.0.0.1:{self.port}/{db}"

    def _own(self, path: Path) -> None:
        if self.as_user:
            shutil.chown(path, "postgres", "postgres")

    def start(self) -> "Postgres":
        self.directory.mkdir(parents=True, exist_ok=True)
        self.directory.chmod(0o755)
        self._own(self.directory)
        self.sockets.mkdir(exist_ok=True)
        self._own(self.sockets)
        log = self.directory / "postgres.log"
        if not self.data.exists():
            res = subprocess.run(self.as_user + [str(self.bin / "initdb"), "-D", str(self.data), "-U", "motcua",
                                                 "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
                                 capture_output=True, text=True, cwd=self.directory)
            if res.returncode != 0:
                raise RuntimeError(f"initdb failed (every parent of {self.directory} must be reachable by "
                                   f"the user running PostgreSQL): {res.stderr.strip()[-1000:]}")
        # durability off: a test database, thrown away at the end
        args = [str(self.bin / "postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.sockets),
                "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
                "-c", "full_page_writes=off", "-c", "max_connections=50", "-c", "shared_buffers=64MB"]
        self._log = open(log, "ab")
        self.proc = subprocess.Popen(self.as_user + args, stdout=self._log, stderr=subprocess.STDOUT,
                                     cwd=self.directory)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {log.read_text()[-2000:]}")
            ok = subprocess.run([str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                                capture_output=True).returncode == 0
            if ok:
                return self
            time.sleep(0.1)
        raise TimeoutError(f"postgres did not start: {log.read_text()[-2000:]}")

    def create_database(self, name: str | None = None) -> str:
        import psycopg
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()   # SIGTERM = smart shutdown; our clients are gone by now
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.directory, ignore_errors=True)


_server: Postgres | None = None
_lock = threading.Lock()


def shared_server() -> Postgres:
    """The test process's PostgreSQL, started on first use."""
    global _server
    with _lock:
        if _server is None:
            _server = Postgres().start()
            atexit.register(_server.stop)
        return _server


@pytest.fixture
def pg_url() -> str:
    """A fresh, empty database on the test PostgreSQL."""
    try:
        server = shared_server()
    except RuntimeError as exc:
        pytest.fail(f"PostgreSQL for the province tests: {exc}")
    return server.create_database()

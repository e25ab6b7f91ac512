"""Web user accounts (manager, clerk, viewer) kept in the site's database, and clerks' counter sign-ins.

No default password exists anywhere: `ensure_admin` creates the first manager
with a generated password written to the data dir (0600), once.
Passwords are stored as werkzeug hashes (scrypt).
"""
from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Boolean, Column, Integer, MetaData, Table, Text, func, insert, select, update
from sqlalchemy.engine import Engine
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = ("viewer", "clerk", "manager")
USERNAME_RE = re.compile(r"^[a-z0-9._-]{2,40}$")
MIN_PASSWORD = 10
ADMIN_USER = "admin"
ADMIN_PASSWORD_FILE = "manager-password.txt"

# The tables of migration 0002 (queue_server/store/migrations/versions/0002_web_users.py).
metadata = MetaData()
web_users = Table(
    "web_users", metadata,
    Column("username", Text, primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", Text, nullable=False),
    Column("display_name", Text),
    Column("created", Text, nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)
counter_sessions = Table(
    "counter_sessions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("username", Text, nullable=False),
    Column("counter", Text, nullable=False),
    Column("started", Text, nullable=False),
    Column("ended", Text),
)


class UserError(ValueError):
    """A bad username, role or password; the message says which."""


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str | None = None
    disabled: bool = False


@dataclass(frozen=True)
class CounterSession:
    username: str
    counter: str
    started: str
    ended: str | None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def generate_password() -> str:
    return secrets.token_urlsafe(12)


class Users:
    """Accounts in the event store's database (`Users(store.engine)`)."""

    def __init__(self, engine: Engine):
        self.engine = engine

    # accounts -----------------------------------------------------------------------

    def add(self, username: str, password: str, role: str, display_name: str | None = None) -> User:
        username = (username or "").strip().lower()
        if not USERNAME_RE.match(username):
            raise UserError("username: 2-40 characters from a-z 0-9 . _ -")
        if role not in ROLES:
            raise UserError(f"role: one of {', '.join(ROLES)}")
        if len(password or "") < MIN_PASSWORD:
            raise UserError(f"password: at least {MIN_PASSWORD} characters")
        if self.get(username) is not None:
            raise UserError(f"username: {username!r} already exists")
        with self.engine.begin() as conn:
            conn.execute(insert(web_users).values(username=username, password_hash=generate_password_hash(password),
                                                  role=role, display_name=display_name, created=_now(),
                                                  disabled=False))
        return User(username, role, display_name)

    def get(self, username: str) -> User | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(web_users).where(web_users.c.username == (username or "").lower())).first()
        return User(row.username, row.role, row.display_name, bool(row.disabled)) if row else None

    def list(self) -> list[User]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(web_users).order_by(web_users.c.username)).all()
        return [User(r.username, r.role, r.display_name, bool(r.disabled)) for r in rows]

    def count_role(self, role: str) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(web_users)
                                    .where(web_users.c.role == role, web_users.c.disabled.is_(False))).scalar_one())

    def set_password(self, username: str, password: str) -> None:
        if len(password or "") < MIN_PASSWORD:
            raise UserError(f"password: at least {MIN_PASSWORD} characters")
        self._update(username, password_hash=generate_password_hash(password))

    def set_role(self, username: str, role: str) -> None:
        if role not in ROLES:
            raise UserError(f"role: one of {', '.join(ROLES)}")
        self._update(username, role=role)

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._update(username, disabled=disabled)

    def _update(self, username: str, **values) -> None:
        with self.engine.begin() as conn:
            n = conn.execute(update(web_users).where(web_users.c.username == username.lower()).values(**values)).rowcount
        if not n:
            raise UserError(f"username: no user {username!r}")

    def verify(self, username: str, password: str) -> User | None:
        """The user if the password is right and the account is enabled; else None (same time either way)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(web_users).where(web_users.c.username == (username or "").strip().lower())).first()
        if row is None:
            check_password_hash(_DUMMY_HASH, password or "")  # spend the same time: no user enumeration
            return None
        if not check_password_hash(row.password_hash, password or "") or row.disabled:
            return None
        return User(row.username, row.role, row.display_name, False)

    # clerks at counters ----------------------------------------------------------------

    def sign_in_counter(self, username: str, counter: str, at: str | None = None) -> None:
        """`username` now works at `counter`: ends any open session of that counter or of that user."""
        at = at or _now()
        with self.engine.begin() as conn:
            conn.execute(update(counter_sessions)
                         .where(counter_sessions.c.ended.is_(None),
                                (counter_sessions.c.counter == counter) | (counter_sessions.c.username == username))
                         .values(ended=at))
            conn.execute(insert(counter_sessions).values(username=username, counter=counter, started=at, ended=None))

    def ensure_at_counter(self, username: str, counter: str, at: str | None = None) -> bool:
        """Signs `username` in at `counter` unless that is already their open session; True if it did."""
        with self.engine.connect() as conn:
            current = conn.execute(select(counter_sessions.c.id).where(
                counter_sessions.c.ended.is_(None), counter_sessions.c.username == username,
                counter_sessions.c.counter == counter)).first()
        if current is not None:
            return False
        self.sign_in_counter(username, counter, at)
        return True

    def sign_out_counter(self, username: str, at: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(counter_sessions)
                         .where(counter_sessions.c.ended.is_(None), counter_sessions.c.username == username)
                         .values(ended=at or _now()))

    def counter_sessions(self) -> list[CounterSession]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(counter_sessions).order_by(counter_sessions.c.id)).all()
        return [CounterSession(r.username, r.counter, r.started, r.ended) for r in rows]


_DUMMY_HASH = generate_password_hash("motcua-no-such-user")


def ensure_admin(data_dir: str | Path, store) -> tuple[str, Path]:
    """Create the first manager account `admin` if no manager exists, with a generated password
    written to `<data_dir>/manager-password.txt` (0600). Returns (username, password_path).
    Idempotent: an existing manager is left alone and the file is not rewritten."""
    from motcua.files import write_private
    path = Path(data_dir) / ADMIN_PASSWORD_FILE
    users = Users(store.engine)
    if users.count_role("manager") == 0:
        password = generate_password()
        if users.get(ADMIN_USER) is None:
            users.add(ADMIN_USER, password, "manager", "Quản trị viên")
        else:
            users.set_password(ADMIN_USER, password)
            users.set_role(ADMIN_USER, "manager")
            users.set_disabled(ADMIN_USER, False)
        write_private(path, f"username: {ADMIN_USER}\npassword: {password}\n")
    return ADMIN_USER, path


class LoginThrottle:
    """Slows password guessing: after 5 failures for a (client, username) pair, 30 s of refusals."""

    def __init__(self, limit: int = 5, window_s: float = 300.0, lock_s: float = 30.0):
        self.limit, self.window_s, self.lock_s = limit, window_s, lock_s
        self._fails: dict[tuple[str, str], list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, key: tuple[str, str], now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            fails = [t for t in self._fails.get(key, []) if now - t < self.window_s]
            self._fails[key] = fails
            return len(fails) >= self.limit and now - fails[-1] < self.lock_s

    def failed(self, key: tuple[str, str], now: float | None = None) -> None:
        with self._lock:
            self._fails.setdefault(key, []).append(time.monotonic() if now is None else now)
            if len(self._fails) > 10_000:
                self._fails.clear()

    def succeeded(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._fails.pop(key, None)

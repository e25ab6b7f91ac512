"""No secret lives in the repository (docs/architecture.md rule 7): every tracked file is grepped for things that
look like private keys, password hashes, generated credentials files, and passwords or tokens
written as literals outside the tests. Secrets are generated at set-up into the data dir."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SECRET_FILE_NAMES = re.compile(r"(^|/)(credentials\.json|web-secrets\.json|admin-password[^/]*|passwd|\.env|"
                               r"[^/]*\.(pem|key|p12|pfx|jks)|id_(rsa|ed25519|ecdsa)|mosquitto\.db|motcua\.db)$")
EVERYWHERE = {
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----"),
    "mosquitto password hash": re.compile(r"^[\w.-]+:\$[67]\$\d+\$", re.M),
    "werkzeug password hash": re.compile(r"(?:scrypt|pbkdf2):[\w:]+\$[A-Za-z0-9]{8,}\$[0-9a-f]{32,}"),
    "AWS key": re.compile(r"AKIA[0-9A-Z]{16}"),
    "GitHub token": re.compile(r"gh[pousr]_[A-Za-z0-9]{30,}"),
    "Slack token": re.compile(r"xox[baprs]-[A-Za-z0-9-]{10,}"),
    "URL with a password": re.compile(r"\b(?:mqtts?|postgres(?:ql)?|https?)://[^\s:/@'\"]+:(?![^@\s]*\{)"
                                      r"[^@\s'\"/]{6,}@"),
}
# Outside tests/: a password, secret or token written as a literal value.
LITERALS = re.compile(r"""(?ix)\b(?:password|passwd|secret|secret_key|api_token|token|api_key)\b["']?\s*[:=]\s*
                          ["']([^"'\s{}<>$%]{8,})["']""")
LITERAL_OK = {"change-me"}


def tracked_files() -> list[str]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("not a git checkout: cannot list the tracked files to check them for secrets")
    return [p for p in out.stdout.decode().split("\0") if p]


def test_no_secret_in_the_repository():
    files = tracked_files()
    assert len(files) > 50
    problems = [f"{p}: a secrets file is tracked" for p in files if SECRET_FILE_NAMES.search(p)]
    scanned = 0
    for rel in files:
        path = ROOT / rel
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue                      # images, fonts, audio
        scanned += 1
        for what, pattern in EVERYWHERE.items():
            for m in pattern.finditer(text):
                line = text.count("\n", 0, m.start()) + 1
                problems.append(f"{rel}:{line}: looks like a {what}")
        if not rel.startswith("tests/") and rel != Path(__file__).relative_to(ROOT).as_posix():
            for m in LITERALS.finditer(text):
                if m.group(1) not in LITERAL_OK:
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{rel}:{line}: a literal password/token {m.group(0)[:60]!r}")
    assert not problems, "\n".join(problems[:30])
    print(f"secrets scan: {scanned} tracked text files clean")


def test_the_scanner_finds_what_it_looks_for():
    """The patterns above must not rot into matching nothing."""
    key = "-----BEGIN " + "PRIVATE KEY-----"
    assert EVERYWHERE["private key"].search(key)
    assert EVERYWHERE["mosquitto password hash"].search("kiosk-k1:$7$101$abcdefgh$xyz")
    assert EVERYWHERE["URL with a password"].search("mqtt://server:" + "s3cr3t-pass@10.0.0.1:1883")
    assert not EVERYWHERE["URL with a password"].search("mqtt://user:{password}@host")
    assert LITERALS.search('password = "hunter2hunter2"')
    assert LITERALS.search('"api_token": "abcdefghijklmnop"')
    assert not LITERALS.search('password = os.environ["PW"]')
    assert SECRET_FILE_NAMES.search("data/credentials.json") and SECRET_FILE_NAMES.search("site/tls/server.key")

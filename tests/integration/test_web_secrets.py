"""The site's web secrets (queue_server/site_server.py): made at the first start, owner-only, kept."""
from __future__ import annotations

import stat

from queue_server.site_server import load_or_create_web_secrets


def test_the_api_token_can_be_typed_after_a_flag_and_is_kept(tmp_path):
    # A URL-safe token starts with "-" one time in 64, and `motcua rebalance --token -x...` then
    # fails (it did once in a fresh-clone run): the token is hex.
    for i in range(200):
        path = tmp_path / f"s{i}.json"
        made = load_or_create_web_secrets(path)
        assert not made["api_token"].startswith("-") and int(made["api_token"], 16) >= 0
        assert len(made["api_token"]) == 64
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert load_or_create_web_secrets(path) == made

"""The ID card key's file (motcua/id_key.py): made once, owner-only, read back; a file that is
there but unusable is said by its name (never its content) and never replaced."""
from __future__ import annotations

import stat

import pytest

from motcua.id_key import IdKeyError, key_text, load_or_create_id_key, read_id_key
from protocol.cccd import MIN_KEY_BYTES


def test_made_once_owner_only_and_read_back(tmp_path):
    path = tmp_path / "data" / "id-hash.key"
    key = load_or_create_id_key(path)
    assert len(key) == MIN_KEY_BYTES and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text() == key_text(key) == key.hex() + "\n"
    assert load_or_create_id_key(path) == key == read_id_key(path)
    assert load_or_create_id_key(tmp_path / "other.key") != key


@pytest.mark.parametrize("content, words", [
    ("zz" * MIN_KEY_BYTES, "must be hex digits"),
    ("ab" * (MIN_KEY_BYTES - 1), f"at least {MIN_KEY_BYTES} bytes"),
    ("", f"at least {MIN_KEY_BYTES} bytes"),
    (b"\xff\xfe", "cannot be read (UnicodeDecodeError)"),
])
def test_an_unusable_file_is_said_by_name_and_kept(tmp_path, content, words):
    path = tmp_path / "id-hash.key"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = path.read_bytes()
    with pytest.raises(IdKeyError) as err:
        load_or_create_id_key(path)
    assert str(err.value).startswith(f"{path}: ") and words in str(err.value)
    if content:
        assert str(content) not in str(err.value)
    assert path.read_bytes() == before


def test_a_missing_file_is_said_when_only_read(tmp_path):
    with pytest.raises(IdKeyError, match="no ID hash key file"):
        read_id_key(tmp_path / "none.key")
    assert not (tmp_path / "none.key").exists()

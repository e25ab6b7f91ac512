"""`motcua kiosk`: a bad config is a clear error and exit code 2, never a traceback or a window."""
from __future__ import annotations

from motcua.cli import main


def test_missing_config_file(tmp_path, capsys):
    assert main(["kiosk", "--config", str(tmp_path / "nope.yaml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_bad_field_is_named(tmp_path, capsys):
    conf = tmp_path / "kiosk.yaml"
    conf.write_text("site: demo-district\nid: K 1\nprinter: {kind: laser}\nidle_timeout_s: 1\n", encoding="utf-8")
    assert main(["kiosk", "--config", str(conf)]) == 2
    err = capsys.readouterr().err
    assert "id:" in err and "printer.kind" in err and "idle_timeout_s" in err


def test_wrong_role(tmp_path, capsys):
    conf = tmp_path / "kiosk.yaml"
    conf.write_text("role: counter\nsite: demo-district\nid: q1\n", encoding="utf-8")
    assert main(["kiosk", "--config", str(conf)]) == 2
    assert "expected 'kiosk'" in capsys.readouterr().err

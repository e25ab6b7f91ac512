"""Reading a YAML config file with an error a person can act on (missing file, bad YAML)."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_yaml(path: str | Path, error: type[Exception]) -> Any:
    """The parsed file, or `error` naming the file and what is wrong with it."""
    p = Path(path)
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{p}: no such file") from None
    except yaml.YAMLError as exc:
        raise error(f"{p}: not valid YAML: {exc}") from None

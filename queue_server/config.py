"""Loading a site config file (YAML) into the domain's typed SiteConfig."""
from __future__ import annotations

from pathlib import Path


from queue_server.domain.site import SiteConfig, SiteConfigError, parse_site
from motcua.yamlfile import read_yaml

DEMO_SITE = Path(__file__).resolve().parent / "sites" / "demo-district.yaml"


def load_site(path: str | Path | None = None) -> SiteConfig:
    p = Path(path) if path else DEMO_SITE
    data = read_yaml(p, SiteConfigError)
    if isinstance(data, dict) and isinstance(data.get("inventory"), dict):
        data = {k: v for k, v in data.items() if k != "inventory"}  # provisioning's section, not the site's
    return parse_site(data, str(p))

"""The site's catalogue of sectors and procedures, as the kiosk reads it.

The server serves it at GET {server_url}/api/v1/catalogue. The last good copy
is kept on disk so a kiosk that restarts while the server is down still shows
its screens (tickets then wait for the server, guidance falls back to the portal).
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from pydantic import ValidationError

from kiosk.textfold import matches
from protocol import catalogue as protocol_catalogue
from protocol.catalogue import Procedure, Sector, SiteInfo, Text, zone  # noqa: F401  (the kiosk's names for them)

log = logging.getLogger(__name__)
CATALOGUE_PATH = protocol_catalogue.CATALOGUE_PATH


class CatalogueError(Exception):
    """No usable catalogue: neither the server nor the disk cache gave one."""


class Catalogue(protocol_catalogue.Catalogue):
    """The contract's catalogue, with the kiosk's search."""

    def search(self, query: str, sector_id: str | None = None) -> list[tuple[Sector, Procedure]]:
        """Procedures whose name (either language) matches `query` without diacritics.

        With a query the search covers every sector, because a citizen who
        types "khai sinh" may not know which field it belongs to.
        """
        out = []
        for s in self.sectors:
            if sector_id and s.id != sector_id and not query.strip():
                continue
            for p in s.procedures:
                if matches(query, p.name.vi, p.name.en):
                    out.append((s, p))
        return out


def parse_catalogue(data: object) -> Catalogue:
    try:
        return Catalogue.model_validate(data)
    except ValidationError as exc:
        first = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:3])
        raise CatalogueError(f"catalogue is not valid: {first}") from None


class CatalogueStore:
    """Fetch the catalogue over HTTP, keep the last good one in `cache_path`."""

    def __init__(self, server_url: str, cache_path: str | Path, timeout: float = 3.0):
        self.url = protocol_catalogue.catalogue_url(server_url)
        self.cache_path = Path(cache_path)
        self.timeout = timeout
        self.from_cache = False

    def fetch(self) -> Catalogue:
        """From the server only; writes the cache on success. Raises CatalogueError."""
        try:
            data = protocol_catalogue.fetch_document(self.url, self.timeout)
        except (OSError, ValueError) as exc:
            raise CatalogueError(f"{self.url}: {exc}") from None
        cat = parse_catalogue(data)
        self._write_cache(data)
        return cat

    def cached(self) -> Catalogue:
        try:
            data = json.loads(self.cache_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CatalogueError(f"no cached catalogue at {self.cache_path}: {exc}") from None
        return parse_catalogue(data)

    def load(self) -> Catalogue:
        """The server's catalogue, else the cached one, else CatalogueError."""
        try:
            cat = self.fetch()
            self.from_cache = False
            return cat
        except CatalogueError as exc:
            log.warning("catalogue from server failed (%s); trying the cache", exc)
        cat = self.cached()
        self.from_cache = True
        return cat

    def _write_cache(self, data: object) -> None:
        # write-then-rename so a power cut never leaves half a file
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_path.parent, prefix=".catalogue-")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(data, fh, ensure_ascii=False)
            os.replace(tmp, self.cache_path)
        except OSError as exc:
            log.warning("could not write the catalogue cache %s: %s", self.cache_path, exc)

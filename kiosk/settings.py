"""What a kiosk's behaviour is tuned by: the citizen's default language, idle and request timeouts."""
from __future__ import annotations

from dataclasses import dataclass

from motcua.zones import DEFAULT_TIMEZONE


@dataclass
class KioskSettings:
    lang: str = "vi"
    idle_timeout_s: float = 45
    long_wait_min: float = 30
    ticket_home_s: float = 12          # the ticket screen goes home by itself after this
    request_timeout_s: float = 6.0     # a ticket request waits this long (retrying, same req_id)
    guidance_timeout_s: float = 3.0
    catalogue_retry_s: float = 15.0    # without a catalogue, try again this often
    catalogue_refresh_s: float = 600.0
    printer_recheck_s: float = 20.0    # while the printer is in fault, ask it again this often
    timezone: str = DEFAULT_TIMEZONE   # when the catalogue names no zone
    # the ID hash key (the site server's <data dir>/id-hash.key, hex): check-in by ID card needs it
    id_hash_key_file: str | None = None

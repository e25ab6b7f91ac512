"""Every MQTT topic of the contract is built and parsed here, and nowhere else."""
from __future__ import annotations

import re
from dataclasses import dataclass

ROOT_PREFIX = "motcua/v1"
SLUG_RE = re.compile(r"^[a-z0-9-]{1,40}$")

DEVICE_KINDS = ("kiosk", "counter", "display")


def is_slug(value: object) -> bool:
    return isinstance(value, str) and bool(SLUG_RE.match(value))


def _check(value: str, what: str) -> str:
    if not is_slug(value):
        raise ValueError(f"{what} {value!r} is not a slug [a-z0-9-]{{1,40}}")
    return value


@dataclass(frozen=True)
class Topics:
    """The topic tree of one site: `Topics("demo-district").board`."""

    site: str

    def __post_init__(self) -> None:
        _check(self.site, "site id")

    @property
    def root(self) -> str:
        return f"{ROOT_PREFIX}/{self.site}"

    # commands and replies
    def kiosk_cmd(self, kiosk: str) -> str:
        return f"{self.root}/kiosk/{_check(kiosk, 'kiosk id')}/cmd"

    def kiosk_reply(self, kiosk: str) -> str:
        return f"{self.root}/kiosk/{_check(kiosk, 'kiosk id')}/reply"

    def counter_cmd(self, counter: str) -> str:
        return f"{self.root}/counter/{_check(counter, 'counter id')}/cmd"

    def counter_reply(self, counter: str) -> str:
        return f"{self.root}/counter/{_check(counter, 'counter id')}/reply"

    def counter_state(self, counter: str) -> str:
        return f"{self.root}/counter/{_check(counter, 'counter id')}/state"

    def cmd(self, kind: str, device: str) -> str:
        return f"{self.root}/{kind}/{_check(device, kind + ' id')}/cmd"

    def reply(self, kind: str, device: str) -> str:
        return f"{self.root}/{kind}/{_check(device, kind + ' id')}/reply"

    # server outputs
    @property
    def board(self) -> str:
        return f"{self.root}/board"

    def sector_stats(self, sector: str) -> str:
        return f"{self.root}/sector/{_check(sector, 'sector id')}/stats"

    @property
    def events_call(self) -> str:
        return f"{self.root}/events/call"

    @property
    def events_log(self) -> str:
        return f"{self.root}/events/log"

    @property
    def server_status(self) -> str:
        return f"{self.root}/server/status"

    @property
    def booking_offer(self) -> str:
        """Retained: what the province's booking portal lists for this site (BookingOffer)."""
        return f"{self.root}/bookings/offer"

    @property
    def bridge_state(self) -> str:
        """Retained "1"/"0": the site's bridge to the province is up (mosquitto's bridge
        notification, sent to the province broker too, with a will of "0" there)."""
        return f"{self.root}/bridge/state"

    def device_status(self, kind: str, device: str) -> str:
        return f"{self.root}/device/{kind}/{_check(device, kind + ' id')}/status"

    # subscriptions (wildcards)
    @property
    def all_kiosk_cmds(self) -> str:
        return f"{self.root}/kiosk/+/cmd"

    @property
    def all_counter_cmds(self) -> str:
        return f"{self.root}/counter/+/cmd"

    @property
    def all_device_status(self) -> str:
        return f"{self.root}/device/+/+/status"

    @property
    def all_counter_states(self) -> str:
        return f"{self.root}/counter/+/state"

    @property
    def all_sector_stats(self) -> str:
        return f"{self.root}/sector/+/stats"

    @property
    def everything(self) -> str:
        return f"{self.root}/#"

    # parsing
    def parse_cmd(self, topic: str) -> tuple[str, str] | None:
        """`.../kiosk/k1/cmd` -> ("kiosk", "k1"); None for any other topic."""
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) == 3 and parts[0] in ("kiosk", "counter") and parts[2] == "cmd" and is_slug(parts[1]):
            return parts[0], parts[1]
        return None

    def parse_device_status(self, topic: str) -> tuple[str, str] | None:
        prefix = self.root + "/device/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) == 3 and parts[2] == "status" and is_slug(parts[1]):
            return parts[0], parts[1]
        return None

    def parse_sector_stats(self, topic: str) -> str | None:
        prefix = self.root + "/sector/"
        if topic.startswith(prefix) and topic.endswith("/stats"):
            sector = topic[len(prefix):-len("/stats")]
            return sector if is_slug(sector) else None
        return None

    def parse_counter_state(self, topic: str) -> str | None:
        prefix = self.root + "/counter/"
        if topic.startswith(prefix) and topic.endswith("/state"):
            counter = topic[len(prefix):-len("/state")]
            return counter if is_slug(counter) else None
        return None


def site_of(topic: str) -> str | None:
    """The site slug of any motcua v1 topic (used by the province consumer)."""
    parts = topic.split("/")
    if len(parts) >= 3 and f"{parts[0]}/{parts[1]}" == ROOT_PREFIX and is_slug(parts[2]):
        return parts[2]
    return None


# --- province (additions to v1: a province broker bridged to every site broker) ---
PROVINCE_ROOT = f"{ROOT_PREFIX}/province"


@dataclass(frozen=True)
class ProvinceTopics:
    """Topics of the provincial service. Each site's bridge brings `nearby_site(site)` back in,
    so a kiosk reads `nearby(site, sector)` on its own site broker."""

    root: str = PROVINCE_ROOT

    def nearby(self, site: str, sector: str) -> str:
        """Retained, per sector: nearby sites offering that sector with shorter waits."""
        return f"{self.root}/nearby/{_check(site, 'site id')}/{_check(sector, 'sector id')}"

    def nearby_site(self, site: str) -> str:
        return f"{self.root}/nearby/{_check(site, 'site id')}/+"

    @property
    def status(self) -> str:
        return f"{self.root}/status"

    # cross-centre booking (issue #16): the province's commands for a site, bridged in to the
    # site broker, and the site's replies (correlated by req_id), bridged back out
    def booking_cmd(self, site: str) -> str:
        return f"{self.root}/booking/{_check(site, 'site id')}/cmd"

    def booking_reply(self, site: str) -> str:
        return f"{self.root}/booking/{_check(site, 'site id')}/reply"

    @property
    def all_booking_replies(self) -> str:
        return f"{self.root}/booking/+/reply"

    # what the province consumes from every bridged site
    all_events_log: str = f"{ROOT_PREFIX}/+/events/log"
    all_boards: str = f"{ROOT_PREFIX}/+/board"
    all_sector_stats: str = f"{ROOT_PREFIX}/+/sector/+/stats"
    all_booking_offers: str = f"{ROOT_PREFIX}/+/bookings/offer"
    all_server_status: str = f"{ROOT_PREFIX}/+/server/status"
    all_bridge_states: str = f"{ROOT_PREFIX}/+/bridge/state"

    def parse_booking_reply(self, topic: str) -> str | None:
        """`.../province/booking/{site}/reply` -> the site; None for any other topic."""
        prefix = self.root + "/booking/"
        if topic.startswith(prefix) and topic.endswith("/reply"):
            site = topic[len(prefix):-len("/reply")]
            return site if is_slug(site) else None
        return None

    def parse_nearby(self, topic: str) -> tuple[str, str] | None:
        prefix = self.root + "/nearby/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if len(parts) == 2 and all(is_slug(p) for p in parts):
            return parts[0], parts[1]
        return None

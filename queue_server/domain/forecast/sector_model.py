"""What one sector's future looks like to the forecast: its arrival rate by time of day (learned
over days, or today's pace on a first day), its services (lognormal, by procedure when known),
its priority share and its no-shows."""
from __future__ import annotations

import math
import random
from statistics import NormalDist

from queue_server.domain.estimate import procedure_factors
from queue_server.domain.learning import CV_MIN_SERVICES, SLOT_S
from queue_server.domain.site import SiteConfig
from queue_server.domain.state import SiteState

DEFAULT_CV = 0.7                 # service time spread before any is observed
DEFAULT_NO_SHOW = 0.04
NO_SHOW_HOLD_S = 60.0            # a no-show holds the counter about this long
_FIRST_DAY_WINDOW_S = 3600.0     # with no profile yet: today's pace over the last hour


class SectorModel:
    """What one sector's future looks like: its arrival rate by time of day, its services."""

    __slots__ = ("rates", "mean", "sigma", "mu", "priority", "no_show", "target_s", "log_factors",
                 "sigma_k", "mu_k")

    def __init__(self, state: SiteState, config: SiteConfig, sector: str, sod: int, mean: float):
        st = state.sectors[sector]
        if st.profile_days:
            self.rates = {int(k): v / SLOT_S for k, v in st.arrival_profile.items() if v > 0}
        else:
            # A first day: today's pace over the last hour, from now on (the day's shape is unknown).
            now_slot = sod // SLOT_S
            recent = sum(n for k, n in st.arrivals_today.items() if now_slot - int(k) < _FIRST_DAY_WINDOW_S / SLOT_S)
            self.rates = {k: recent / _FIRST_DAY_WINDOW_S for k in range(now_slot, 48)} if recent else {}
        cv = st.service_cv_days
        if st.service_n >= CV_MIN_SERVICES:
            today = st.service_cv_today()
            today = DEFAULT_CV if today is None else today
            cv = today if cv is None else 0.5 * (today + cv)
        cv = min(max(cv if cv is not None else DEFAULT_CV, 0.1), 2.0)
        self.mean = mean
        self.target_s = config.sector_by_id[sector].target_wait_min * 60.0
        self.sigma = math.sqrt(math.log(1.0 + cv * cv))
        self.mu = math.log(mean) - self.sigma ** 2 / 2.0
        # A citizen whose procedure is known draws from that procedure's own lognormal: its mean
        # is the sector's times the procedure's factor, its spread what is left of the sector's
        # once the procedures' differences are taken out ((1 + cv^2) = (1 + within^2)(1 + between^2)).
        factors = procedure_factors(st)
        weights = {p: st.procedure_service[p][0] for p in factors}
        total = sum(weights.values())
        between = sum(w * (factors[p] - 1.0) ** 2 for p, w in weights.items()) / total if total > 0 else 0.0
        within = max((1.0 + cv * cv) / (1.0 + between) - 1.0, 0.01)
        self.log_factors = {p: math.log(f) for p, f in factors.items()}
        self.sigma_k = math.sqrt(math.log(1.0 + within))
        self.mu_k = math.log(mean) - self.sigma_k ** 2 / 2.0
        share = st.priority_share_days
        if st.issued_today >= 20:
            today_share = st.priority_today / st.issued_today
            share = today_share if share is None else 0.5 * (today_share + share)
        self.priority = share if share is not None else 0.0
        done = st.served_today + st.no_show_today
        self.no_show = st.no_show_today / done if done >= 20 else DEFAULT_NO_SHOW

    def log_factor(self, procedure: str | None) -> float | None:
        """The log of how much longer than the sector's mean the procedure takes, or None when
        it is not known (then the sector's whole spread applies)."""
        return self.log_factors.get(procedure) if procedure else None

    def _params(self, log_factor: float | None) -> tuple[float, float]:
        return (self.mu, self.sigma) if log_factor is None else (self.mu_k + log_factor, self.sigma_k)

    def service(self, rng: random.Random, log_factor: float | None = None) -> float:
        if rng.random() < self.no_show:
            return NO_SHOW_HOLD_S
        mu, sigma = self._params(log_factor)
        return math.exp(mu + sigma * rng.gauss(0.0, 1.0))

    def remaining(self, rng: random.Random, elapsed: float, log_factor: float | None = None) -> float:
        """The rest of a service that has lasted `elapsed` so far: a draw of the lognormal above
        `elapsed` (by its inverse distribution function), less `elapsed`."""
        mu, sigma = self._params(log_factor)
        if elapsed <= 0.0:
            return math.exp(mu + sigma * rng.gauss(0.0, 1.0))
        done = _NORMAL.cdf((math.log(elapsed) - mu) / sigma)
        if done > 1.0 - 1e-9:          # far beyond any usual service: it should end soon
            return 0.5 * math.exp(mu + sigma * sigma / 2.0)
        u = done + (1.0 - done) * rng.random()
        return max(0.0, math.exp(mu + sigma * _NORMAL.inv_cdf(min(u, 1.0 - 1e-12))) - elapsed)

    def next_arrival(self, rng: random.Random, t: float, sod0: float, horizon: float) -> float | None:
        """The next arrival after `t` (seconds from now), slot by slot (rates change each half hour)."""
        rates = self.rates
        while t < horizon:
            slot = int((sod0 + t) // SLOT_S)
            slot_end = (slot + 1) * SLOT_S - sod0
            r = rates.get(slot, 0.0)
            if r > 0:
                nxt = t + rng.expovariate(r)
                if nxt < slot_end:
                    return nxt
            t = slot_end
        return None


_NORMAL = NormalDist()

"""What a site learns over days and within a day: the arrival profile by half hour, service
times (per sector and per procedure), the priority share, and how printed waits compare with
the stream estimate. `learn_day` folds the day that ends into the figures kept over days."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from queue_server.domain.state import SiteState

CV_MIN_SERVICES = 10   # services seen today before today's spread is trusted


SLOT_S = 1800          # the arrival profile's step: half an hour
PROCEDURE_DECAY = 0.9  # what a day's services of a procedure still count the next day
RATIO_MIN_S = 60       # a stream estimate under this is too short to divide a printed wait by
RATIO_ALPHA = 0.3      # weight of the newest ticket in SectorStats.printed_ratio
DAYS_ALPHA = 0.3       # weight of the newest day in what is learned over days


def slot_of(when: datetime) -> str:
    """09:41 local -> "19" (the half hour 09:30-10:00 of the local day)."""
    return str((when.hour * 3600 + when.minute * 60) // SLOT_S)


EWMA_ALPHA = 0.2


def blend(old: float | None, new: float, weight: float) -> float:
    """An exponentially weighted mean: `new` weighs `weight`, what came before the rest."""
    return new if old is None else weight * new + (1 - weight) * old


def learn_day(s: SiteState) -> None:
    """Fold the day that ends into what is learned over days (a day nobody came is skipped)."""
    if s.day is None or not any(st.issued_today for st in s.sectors.values()):
        return
    for st in s.sectors.values():
        first = st.profile_days == 0
        for k in set(st.arrival_profile) | set(st.arrivals_today):
            today = float(st.arrivals_today.get(k, 0))
            st.arrival_profile[k] = blend(None if first else st.arrival_profile.get(k, 0.0), today, DAYS_ALPHA)
        st.profile_days += 1
        if st.issued_today:
            share = st.priority_today / st.issued_today
            st.priority_share_days = blend(st.priority_share_days, share, DAYS_ALPHA)
        if st.service_n >= 5:
            mean = st.service_s_sum / st.service_n
            st.service_mean_days = blend(st.service_mean_days, mean, DAYS_ALPHA)
        if st.service_n >= CV_MIN_SERVICES:
            cv = st.service_cv_today() or 0.0
            st.service_cv_days = blend(st.service_cv_days, cv, DAYS_ALPHA)
        for row in st.procedure_service.values():
            row[0] *= PROCEDURE_DECAY
            row[1] *= PROCEDURE_DECAY

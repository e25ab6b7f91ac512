"""The wait printed on a ticket, forecast: the median of short simulations of the site from now.

The stream estimate (estimate.py) merges each counter's calls as if every service took its
mean and nobody else arrived. What a citizen then waits also depends on what happens next:
priority citizens who will come and go ahead, other sectors' citizens who will come and take
a shared counter's time, services that run long. So for the printed wait the site is played
forward REPS times from the state at the moment of issue, each time with fresh draws of

- the remaining service of each citizen at a counter (given how long they have been served),
- the services of everyone ahead, and of everyone who arrives meanwhile,
- arrivals per sector from the site's own arrival profile by half hour of the day, learned
  over earlier days from the event log (state.SectorStats.arrival_profile); on a first day,
  today's own pace,
- priority citizens among them (jumping ahead of normal tickets), no-shows,
- the visits of several procedures (docs/visits.md): after each service a visit's citizen is
  kept by the counter when it serves their next sector, else rejoins that sector's queue in the
  place their ticket gave them, so they come back ahead of later tickets; the new ticket's own
  visit is played to its end for the printed end of the visit (`printed_visit`),

with every counter calling as the site's policy does (the production policy through the very
rules and score it decides with live, `DynamicPolicy.pick`). The printed wait is the median of
the REPS waits of the new ticket: of all single numbers, the median is the one that is off by
the least on average (and about half the citizens do wait longer than printed).

Service times are drawn lognormal, with each sector's observed mean and spread (today's
once 10 are seen, blended with earlier days'). Deterministic: the draws are seeded by the
ticket, so the same state always prints the same wait.

Measured with the simulator (docs/balancing.md, 30 days): the error of the printed wait against the
real one, as a share of the mean wait, fell by 4 to 11 points against the stream estimate (for
example 42 -> 34 % on the afternoon rush under the dynamic policy), and it is within one
to two points of the same forecast told the simulator's true parameters (bench/forecast_floor.py).
Cost: about 1 ms a ticket, 10-15 ms at the 99th percentile (more with more counters), so a ticket
with more than MAX_AHEAD people ahead (where the stream estimate is as good: many services
average out) uses the stream estimate, and the live server bounds the time it may take
(`time_limit_s`, service.CpuBudget), timed with the clock it passes in (`clock`): the domain
reads no clock of its own.
"""
from __future__ import annotations

# The package's homes: printed.py the entry point (the state at the moment of issue, the
# plays, their median), sector_model.py what one sector's future looks like, play.py the
# site played forward once. Tune REPS and MAX_AHEAD in printed.py: they are read there.
from queue_server.domain.forecast.printed import MAX_AHEAD, REPS, printed_visit, printed_wait

__all__ = ["MAX_AHEAD", "REPS", "printed_visit", "printed_wait"]

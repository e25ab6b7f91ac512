"""Reports computed from the event log only (docs/architecture.md rule 2): pure functions, no Flask, no database.

`build_report(events, config, first_day, last_day)` folds the events of a
period into per-ticket and per-visit records and summarises them per sector,
counter, procedure and clerk, per hour, and as the Decision 766/QĐ-TTg
indicators a queue system can feed (`indicators.py`, formulas included).
"""
from queue_server.reports.compute import Report, build_report  # noqa: F401

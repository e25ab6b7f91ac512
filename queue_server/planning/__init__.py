"""Planning the counters (issue #17, docs/planning.md): staffing per sector and half-hour, whom to
train for what, who covers an absent clerk, all computed by simulating the centre's own days with
the real domain (queue_server/sim). Pure: no I/O, no clock; `plan.make_plan` is the one entry."""

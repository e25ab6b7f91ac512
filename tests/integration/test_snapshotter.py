"""Snapshots are written beside the command loop (queue_server/snapshotter.py): each one must be
exactly the fold of the log up to its seq, transfers included, whatever the live state did since."""
from __future__ import annotations

import json

from sqlalchemy import select

from queue_server.domain.state import SiteState
from queue_server.store.schema import snapshots
from tests.support.service_day import Clock, build_a_day, make


def test_every_snapshot_is_the_fold_of_the_log_up_to_its_seq(tmp_path, site_config):
    clock = Clock()
    svc = make(site_config, str(tmp_path / "motcua.db"), clock, snapshot_every=7)
    svc.start()
    build_a_day(svc, clock)
    svc.stop()
    assert svc.snapshots.written > 10
    with svc.store.engine.connect() as conn:
        rows = conn.execute(select(snapshots.c.seq, snapshots.c.state).order_by(snapshots.c.seq)).all()
    assert len(rows) == svc.snapshots.written
    events = list(svc.store.read())
    assert any(e.type == "ticket.transferred" for e in events)
    fold = SiteState.initial(site_config)
    it = iter(events)
    for seq, data in rows:
        while fold.last_seq < seq:
            fold.apply(next(it))
        assert json.loads(data) == json.loads(json.dumps(fold.to_dict())), f"snapshot at seq {seq}"
    # the live state was not disturbed by the second fold of the same events
    for e in it:
        fold.apply(e)
    assert fold.to_dict() == svc.state.to_dict()
    svc.store.close()

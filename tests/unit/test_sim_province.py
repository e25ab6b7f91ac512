"""Province scenarios in the simulator (issue #16, queue_server/sim/province.py): two centres,
bookings confined to each or going to the centre whose slot starts first after the travel
penalty, through each centre's real booking.create. Two small sites, one simulated morning: fast."""
from __future__ import annotations

import pytest
import yaml

from queue_server.sim.engine import draw_citizens
from queue_server.sim.province import ProvinceSimulation, centre_figures, load_province, parse_province
from queue_server.sim.scenario import ScenarioError


def site(sid: str, counters: int) -> dict:
    return {"site": {"id": sid, "name": {"vi": f"Trung tâm {sid}", "en": sid}, "hours": ["08:00-11:00"]},
            "sectors": [{"id": "a", "prefix": "A", "name": {"vi": "A", "en": "A"}, "target_wait_min": 10,
                         "procedures": [{"id": "p1", "name": {"vi": "Thủ tục 1", "en": "Procedure 1"}, "online": "none"},
                                        {"id": "p2", "name": {"vi": "Thủ tục 2", "en": "Procedure 2"}, "online": "none"}]}],
            "counters": [{"id": f"q{i}", "label": {"vi": f"Quầy {i}", "en": f"Counter {i}"}, "sectors": ["a"]}
                         for i in range(1, counters + 1)],
            "bookings": {"share": 0.5}}


def centre(sid: str, counters: int, rate: float, appointments=True) -> dict:
    data = {"name": sid, "site": site(sid, counters), "arrivals": {"a": {"08:00": rate, "11:00": 0}},
            "service_min": {"a": {"dist": "fixed", "mean": 10}}}
    if appointments:
        data["appointments"] = {"share": 0.8, "no_show": 0.0, "punctuality_min": {"mean": 0, "sd": 0}}
    return data


@pytest.fixture
def files(tmp_path):
    def write(cross=None, urban=None, rural=None):
        (tmp_path / "urban.yaml").write_text(yaml.safe_dump(urban or centre("urban", 1, 12)), encoding="utf-8")
        (tmp_path / "rural.yaml").write_text(yaml.safe_dump(rural or centre("rural", 3, 2)), encoding="utf-8")
        prov = {"name": "two", "days": 1, "seed": 4, "centres": ["urban.yaml", "rural.yaml"],
                "cross_centre": {"allowed": True, "travel_min": 0, "reluctance": 0.0, **(cross or {})}}
        (tmp_path / "p.yaml").write_text(yaml.safe_dump(prov), encoding="utf-8")
        return load_province(tmp_path / "p.yaml")
    return write


def run(p, allowed):
    return ProvinceSimulation(p.with_cross(allowed)).run()


def test_confined_bookings_stay_at_each_centre(files):
    urban, rural = run(files(), False)
    assert urban[0].bookings > 0 and urban[0].booking_refused > 0     # one counter: its slots fill
    assert not any(b.away for d in (urban[0], rural[0]) for b in d.booked)
    assert centre_figures(rural)["booked_from_elsewhere"] == 0


def test_cross_centre_bookers_take_the_first_slot_and_relieve_the_busy_centre(files):
    p = files()
    confined, cross = run(p, False), run(p, True)
    away = [b for b in cross[1][0].booked if b.away]
    assert away                                      # urban bookers booked at the rural centre
    assert cross[0][0].booking_refused < confined[0][0].booking_refused
    # the rural centre's counters work more, the urban centre's citizens wait less
    assert centre_figures(cross[1])["utilisation"] > centre_figures(confined[1])["utilisation"]
    assert centre_figures(cross[0])["mean_wait_s"] < centre_figures(confined[0])["mean_wait_s"]
    # every citizen drawn is somewhere: served at a centre, an unused booking, or never called
    drawn = sum(len(draw_citizens(sc, 4 * 1000 + i, 0)) for i, sc in enumerate(p.centres))
    assert sum(d[0].tickets for d in cross) + sum(d[0].booked_no_show for d in cross) == drawn


def test_with_a_long_journey_only_those_without_a_slot_at_home_go_elsewhere(files):
    # three hours' travel: any slot at home starts before another centre's; a booker goes away
    # only when their own centre has no slot left that day
    p = files(cross={"travel_min": 180})
    confined, cross = run(p, False), run(p, True)
    away = sum(1 for b in cross[1][0].booked if b.away)
    assert away > 0
    assert cross[0][0].bookings == confined[0][0].bookings
    assert away + cross[0][0].booking_refused == confined[0][0].booking_refused


def test_reluctant_citizens_and_procedures_not_shared_stay_home(files):
    _, rural = run(files(cross={"reluctance": 1.0}), True)
    assert not any(b.away for b in rural[0].booked)
    _, rural = run(files(cross={"procedures": []}), True)
    assert not any(b.away for b in rural[0].booked)


def test_what_goes_to_another_centre_is_what_that_centre_takes_from_anywhere_by_its_site_config(files):
    """The default is each centre's own `bookings.any_residence` (the fact the portal reads from
    its offer, per centre); an explicit list, the same for every centre, overrides it."""
    assert files().accepts == ({"p1", "p2"}, {"p1", "p2"})   # neither restricts: every procedure
    rural = centre("rural", 3, 2)
    rural["site"]["bookings"]["any_residence"] = ["p1"]
    # per centre, as the portal lists them: the urban centre still takes p2 from rural residents
    assert files(rural=rural).accepts == ({"p1", "p2"}, {"p1"})
    rural["site"]["bookings"]["any_residence"] = []
    p = files(rural=rural)
    assert p.accepts == ({"p1", "p2"}, frozenset())
    assert not any(b.away for b in run(p, True)[1][0].booked)          # nobody books at the rural centre
    assert files(cross={"procedures": ["p2"]}, rural=rural).accepts == ({"p2"}, {"p2"})


@pytest.mark.parametrize("cross, urban, match", [
    ({"procedures": ["p9"]}, None, "'p9' is not a procedure of every centre"),
    ({"travel_min": -1}, None, r"cross_centre\.travel_min"),
    (None, centre("urban", 1, 12, appointments=False), r"centres\[0\] \(urban\): needs an appointments section"),
    (None, centre("rural", 1, 12), "same site id"),
    (None, {**centre("urban", 1, 12), "appointments": {"share": 0.5, "lead_days": {0: 0.5, 2: 0.5}}},
     r"centres\[0\] \(urban\): appointments.lead_days and later_days are not simulated in a province run"),
])
def test_a_bad_province_scenario_names_the_field(files, cross, urban, match):
    with pytest.raises(ScenarioError, match=match):
        files(cross=cross, urban=urban)


def test_the_shipped_province_scenario_loads():
    from bench.appointment_targets import PROVINCE
    p = load_province(PROVINCE)
    assert [c.site.id for c in p.centres] == ["hn-long-bien", "hn-bat-trang"]
    assert all(p.accepts) and p.cross.allowed and all(c.carry_over for c in p.centres)
    with pytest.raises(ScenarioError, match="centres"):
        parse_province({"name": "one", "centres": ["a.yaml"]})

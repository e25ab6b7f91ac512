"""Scenario files: the shipped ones load, bad ones are refused with the bad field named."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from queue_server.sim import ScenarioError, load_scenario, parse_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "queue_server" / "sim" / "scenarios"


def base() -> dict:
    return yaml.safe_load((SCENARIOS / "district-normal-day.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_scenarios_load(path):
    sc = load_scenario(path)
    assert sc.days >= 1 and sc.arrivals and set(sc.arrivals) <= set(sc.site.sector_by_id)


def test_site_path_is_relative_to_the_scenario(tmp_path):
    data = base()
    (tmp_path / "sub").mkdir()
    (tmp_path / "site.yaml").write_text((SCENARIOS.parent / "site-sample.yaml").read_text(encoding="utf-8"),
                                        encoding="utf-8")
    data["site"] = "../site.yaml"
    (tmp_path / "sub" / "s.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert load_scenario(tmp_path / "sub" / "s.yaml").site.id == "demo-district"


def test_inline_site_and_counters_list():
    data = base()
    data["site"] = yaml.safe_load((SCENARIOS.parent / "site-sample.yaml").read_text(encoding="utf-8"))
    data["counters"] = [{"id": "x1", "label": {"vi": "Quầy 1", "en": "Counter 1"},
                         "sectors": list(data["arrivals"])}]
    sc = parse_scenario(data, base_dir=SCENARIOS)
    assert [c.id for c in sc.site.counters] == ["x1"]


@pytest.mark.parametrize("change, field", [
    (lambda d: d["arrivals"]["tu-phap-ho-tich"].update({"25:00": 3}), "arrivals"),
    (lambda d: d["arrivals"]["tu-phap-ho-tich"].update({"08:00": -1}), "arrivals"),
    (lambda d: d["arrivals"].update({"no-such-sector": {"08:00": 3}}), "arrivals.no-such-sector"),
    (lambda d: d["service_min"].pop("dat-dai"), "service_min"),
    (lambda d: d["service_min"]["dat-dai"].update({"dist": "weibull"}), "service_min.dat-dai.dist"),
    (lambda d: d["service_min"]["dat-dai"].update({"mean": 0}), "service_min.dat-dai.mean"),
    (lambda d: d.update({"no_show": 1.5}), "no_show"),
    (lambda d: d.update({"days": 0}), "days"),
    (lambda d: d.update({"online_diversion": {"when_wait_over_min": 30, "accept": 2}}), "online_diversion.accept"),
    (lambda d: d.update({"counter_changes": [{"at": "10:00", "counter": "q99", "status": "closed"}]}),
     "counter_changes[0].counter"),
    (lambda d: d.update({"site": "missing.yaml"}), "site"),
    (lambda d: d.update({"counters": [{"id": "x1", "label": {"vi": "a", "en": "a"}, "sectors": ["nope"]}]}),
     "counters[0].sectors"),
    (lambda d: d.update({"surprise": 1}), "surprise"),
    (lambda d: d.update({"procedure_service_min": {"no-such-procedure": {"mean": 3}}}),
     "procedure_service_min.no-such-procedure"),
    (lambda d: d.update({"procedure_service_min": {"khai-sinh": {"mean": -3}}}),
     "procedure_service_min.khai-sinh.mean"),
])
def test_bad_fields_are_named(change, field):
    data = base()
    change(data)
    with pytest.raises(ScenarioError) as err:
        parse_scenario(data, base_dir=SCENARIOS, source="bad.yaml")
    assert field in str(err.value)
    assert "bad.yaml" in str(err.value)


def test_not_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("name: [unclosed", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(bad)
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "none.yaml")
    bad.write_text("- a list", encoding="utf-8")
    with pytest.raises(ScenarioError, match="expected a mapping"):
        load_scenario(bad)


def test_a_procedure_s_own_service_time_replaces_its_sector_s():
    from queue_server.sim.engine import draw_citizens
    data = base()
    data["service_min"]["tu-phap-ho-tich"] = {"dist": "fixed", "mean": 7}
    data["procedure_service_min"] = {"ket-hon": {"dist": "fixed", "mean": 15}}
    sc = parse_scenario(data, base_dir=SCENARIOS)
    citizens = [c for c in draw_citizens(sc, sc.seed, 0) if c.sector == "tu-phap-ho-tich"]
    assert {c.service_s for c in citizens if c.procedure == "ket-hon"} == {900.0}
    assert {c.service_s for c in citizens if c.procedure != "ket-hon"} == {420.0}

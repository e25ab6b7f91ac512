import copy

import pytest
import yaml

from queue_server.config import DEMO_SITE, load_site
from queue_server.domain.site import SiteConfigError, parse_site


@pytest.fixture
def raw():
    return yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))


def test_demo_site_loads_into_typed_objects(site_config):
    assert site_config.id == "demo-district"
    assert site_config.sector_by_id["ly-lich-tu-phap"].prefix == "B"
    q5 = site_config.counter_by_id["q5"]
    assert q5.sectors == ("tra-ket-qua", "dat-dai") and "xay-dung" in q5.trained
    assert q5.number == "5"
    assert site_config.procedure_by_id["khai-sinh"][1].online == "full"
    assert str(site_config.site.tz) == "Asia/Ho_Chi_Minh"


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["sectors"][0].update(prefix="AA"), "sectors[0].prefix"),
    (lambda d: d["sectors"][1].update(prefix="A"), "prefix 'A' used twice"),
    (lambda d: d["counters"][0].update(sectors=["nope"]), "counters[0]"),
    (lambda d: d["site"].update(timezone="Mars/Olympus"), "site.timezone"),
    (lambda d: d["site"].update(hours=["17:00-07:00"]), "site.hours"),
    (lambda d: d["sectors"][0].update(target_wait_min=-3), "sectors[0].target_wait_min"),
    (lambda d: d["sectors"][0]["procedures"][0].update(online="sometimes"), "sectors[0].procedures[0].online"),
    (lambda d: d["site"].update(colour="red"), "site.colour"),
    (lambda d: d.update(priority_groups=["vip"]), "unknown group 'vip'"),
])
def test_bad_field_is_named(raw, mutate, expected):
    data = copy.deepcopy(raw)
    mutate(data)
    with pytest.raises(SiteConfigError) as err:
        parse_site(data, "site.yaml")
    assert expected in str(err.value)
    assert "site.yaml" in str(err.value)


def test_missing_file_and_bad_yaml_are_clear(tmp_path):
    with pytest.raises(SiteConfigError, match="no such file"):
        load_site(tmp_path / "none.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("site: [unclosed")
    with pytest.raises(SiteConfigError, match="not valid YAML"):
        load_site(bad)

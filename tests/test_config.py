"""The config file: what a user writes, and the messages a mistake gets."""
from __future__ import annotations

from pathlib import Path

import pytest

from sync.config import ConfigError, adhoc_profile, api_keys, endpoint_specs, load_config, parse_duration, profile_specs

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "profiles.yaml"
    path.write_text(text)
    return path


def test_the_bundled_example_loads_and_points_at_its_files():
    config = load_config(Path(__file__).resolve().parents[1] / "config" / "profiles.yaml")
    specs = profile_specs(config)
    assert [s.id for s in specs] == ["lei-li", "dor-verbin", "adria-fradera", "adrian-del-maestro"]
    for spec in specs:
        (source,) = spec.sources
        assert source.url.startswith("file://") and Path(source.url[7:]).is_file()
    assert specs[0].interval_s == 6 * 3600


def test_every_source_kind_becomes_a_request_and_keys_stay_out_of_the_store(tmp_path):
    config = load_config(write(tmp_path, f"""
api_keys: {{openalex: sekrit-oa, semanticscholar: sekrit-s2}}
profiles:
  - id: ada
    interval: 30m
    sources:
      - url: https://ada.github.io/
      - dblp: 95/7448-1
      - arxiv: 'au:"Lovelace, Ada"'
      - openalex: A5003721947
      - semanticscholar: "49192881"
      - orcid: 0000-0002-1825-0097
      - scholar: AbCdEfGhIjKl
      - scholarfeed: ada-lovelace
webhooks:
  - url: https://hooks.example.org/x
    secret: {SECRET}
    events: ["paper.*"]
"""))
    (spec,) = profile_specs(config)
    keys = [s.key for s in spec.sources]
    assert keys[:2] == ["https://ada.github.io/", "dblp:95/7448-1"]
    assert [s.format for s in spec.sources] == [None, "dblp", "arxiv", "openalex", "semanticscholar", "orcid",
                                                "scholar", "scholarfeed"]
    assert spec.interval_s == 1800
    assert not any("sekrit" in s.url or "sekrit" in str(s.headers) for s in spec.sources)
    assert api_keys(config) == {"openalex": "sekrit-oa", "semanticscholar": "sekrit-s2"}
    (endpoint,) = endpoint_specs(config)
    assert endpoint.events == ("paper.*",) and SECRET not in repr(endpoint) and SECRET not in repr(config)


@pytest.mark.parametrize("text, where, problem", [
    ("profiles:\n  - id: ada\n    sources:\n      - dblp: nope\n", ":4: profiles[0].sources[0]", "DBLP person id"),
    ("profiles:\n  - id: ada\n    interval: often\n    sources:\n      - url: https://a.b/\n",
     ":3: profiles[0].interval", "not a duration"),
    ("profiles:\n  - id: ada\n    sources:\n      - url: https://a.b/\n        dblp: 1/2\n",
     ":4: profiles[0].sources[0]", "exactly one of"),
    ("crawl:\n  user_agent: bot\n", ":2: crawl.user_agent", "contact URL"),
    ("crawl:\n  concurency: 3\n", ":2: crawl.concurency", "unknown key"),
    ("webhooks:\n  - url: https://h.example/\n    secret: hunter2\n", ":3: webhooks[0].secret", "whsec_"),
    ("allow_cidrs: [10.0.0.0/33]\n", ":1: allow_cidrs", "10.0.0.0/33"),
    ("profiles: [\n", ":2", "not valid YAML"),
])
def test_a_mistake_names_the_file_line_key_and_problem(tmp_path, text, where, problem):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    message = str(error.value)
    assert f"{path}{where}" in message and problem in message
    assert "hunter2" not in message


def test_durations_and_adhoc_urls():
    assert [parse_duration(v) for v in ("90s", "30m", "6h", "1d", "2w", 45)] == [90, 1800, 21600, 86400, 1209600, 45]
    with pytest.raises(ValueError):
        parse_duration("0s")
    spec = adhoc_profile("https://ada.github.io/")
    assert spec.id == "https://ada.github.io/" and spec.sources[0].key == "https://ada.github.io/"
    with pytest.raises(ConfigError, match="not an http"):
        adhoc_profile("ftp://x/")


def test_retention_defaults_to_90_days_and_0_keeps_everything(tmp_path):
    assert load_config(write(tmp_path, "profiles: []\n")).daemon.retention == 90 * 86400
    assert load_config(write(tmp_path, "daemon:\n  retention: 0\n")).daemon.retention == 0
    with pytest.raises(ConfigError, match="retention"):
        load_config(write(tmp_path, "daemon:\n  retention: forever\n"))

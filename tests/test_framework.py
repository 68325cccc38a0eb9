"""The measurement framework loads, and malformed files name the file and the field."""

import re

import pytest
import yaml

from tipipeline.errors import ConfigError
from tipipeline.framework import FRAMEWORK_PATH, load_framework
from tipipeline.reference import tables


def test_bundled_framework_loads():
    fw = load_framework()
    assert [p.id for p in fw.principles] == [
        "safety",
        "trustworthiness",
        "choice",
        "collaboration",
        "empowerment",
        "cultural_consideration",
    ]
    assert len(fw.domains) == 11 and "staff_wellbeing" in {d.id for d in fw.domains}
    assert [s.id for s in fw.stages] == [
        "not_yet_started",
        "trauma_aware",
        "trauma_sensitive",
        "trauma_informed",
        "trauma_responsive",
    ]
    assert all(s.next_step for s in fw.stages)
    assert len(fw.sha256) == 64


def test_stage_thresholds_rise_with_the_stage():
    stages = tables.journey_stages_table(load_framework())
    scores = stages["min_mean_score"].dropna().tolist()
    assert scores == sorted(scores) and len(scores) == 4


def _write(tmp_path, mutate):
    raw = yaml.safe_load(FRAMEWORK_PATH.read_text())
    mutate(raw)
    path = tmp_path / "framework.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda r: r["domains"][3].pop("name"), "domains[3].name", "Field required"),
        (lambda r: r["principles"][1].update(id="safety"), "principles[1].id", "duplicate id 'safety'"),
        (lambda r: r["stages"][2].update(level=7), "stages", "levels must run 0, 1, 2"),
        (
            lambda r: r["stage_rule"]["thresholds"][0].update(min_mean_scor=2.5),
            "stage_rule.thresholds[0].min_mean_scor",
            "Extra inputs are not permitted",
        ),
        (
            lambda r: r["stage_rule"]["thresholds"][1].update(min_percent_agree=130),
            "stage_rule.thresholds[1].min_percent_agree",
            "less than or equal to 100",
        ),
        (lambda r: r["stage_rule"]["thresholds"].pop(), "stage_rule.thresholds", "one threshold per stage above 0"),
        (lambda r: r.pop("domains"), "domains", "Field required"),
        (lambda r: r["domains"][0].update(id="Governance & leadership"), "domains[0].id", "should match pattern"),
    ],
)
def test_malformed_framework_names_file_and_field(tmp_path, mutate, field, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as info:
        load_framework(path)
    error = info.value
    assert error.field == field
    assert message in error.message
    assert str(error).startswith(f"framework.yaml: {field}: ")


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "framework.yaml"
    path.write_text("version: '1'\nprinciples: [\n  - id: safety\n")
    with pytest.raises(ConfigError, match=re.escape("framework.yaml: line ")):
        load_framework(path)


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the framework file"):
        load_framework(tmp_path / "nope.yaml")

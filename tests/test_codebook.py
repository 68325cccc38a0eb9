"""The sample instrument, and codebook validation errors."""

import collections

import pytest
import yaml
from conftest import SAMPLE_RAW

from tipipeline.errors import ConfigError
from tipipeline.framework import load_framework
from tipipeline.ingest.codebook import load_codebook

CODEBOOK = SAMPLE_RAW / "surveys" / "codebook.yaml"


def test_sample_instrument_covers_every_domain_with_three_items():
    fw = load_framework()
    cb = load_codebook(CODEBOOK, fw)
    per_domain = collections.Counter(item.domain for item in cb.items)
    assert set(per_domain) == {d.id for d in fw.domains}
    assert min(per_domain.values()) >= 3
    assert any(item.reverse for item in cb.items)
    assert {item.principle for item in cb.items} == {p.id for p in fw.principles}
    for field in [
        "organisation",
        "borough",
        "bcu",
        "role",
        "service_area",
        "ti_training_12m",
        "willing_to_share",
        "practice_example",
        "consent",
    ]:
        assert field in cb.fields, field
    assert cb.fields["practice_example"].free_text
    assert cb.scales["agreement"].missing == ["Don't know", "Prefer not to say"]
    assert cb.synthetic


def test_wave_override_matches_forms_columns_by_text():
    cb = load_codebook(CODEBOOK)
    w1, w2 = cb.columns_for_wave("2024-w1"), cb.columns_for_wave("2025-w2")
    assert w1["gov_1"] == "Q10_1" and w1["response_id"] == "ResponseId"
    assert w2["gov_1"] == cb.items[0].text and w2["response_id"] == "ID"


def _write(tmp_path, mutate):
    raw = yaml.safe_load(CODEBOOK.read_text())
    mutate(raw)
    path = tmp_path / "codebook.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (
            lambda r: r["items"][4].update(scale="agree"),
            "items[4].scale",
            "unknown scale 'agree'; known scales: agreement, yes_no",
        ),
        (lambda r: r["items"][5].update(id="gov_1"), "items[5].id", "duplicate item id 'gov_1' (first at items[0])"),
        (
            lambda r: r["waves"]["2025-w2"]["columns"].update(organisaton="Org"),
            "waves.2025-w2.columns.organisaton",
            "names no field or item",
        ),
        (lambda r: r["items"][2].update(column="Q10_1"), "items[2].column", "already used by items[0]"),
        (lambda r: r["fields"].pop("organisation"), "fields.organisation", "required field missing"),
        (
            lambda r: r["scales"]["agreement"].update(missing=["Agree"]),
            "scales.agreement",
            "labels both valued and missing",
        ),
    ],
)
def test_malformed_codebook_names_file_and_field(tmp_path, mutate, field, message):
    with pytest.raises(ConfigError) as info:
        load_codebook(_write(tmp_path, mutate))
    assert info.value.field == field
    assert message in info.value.message
    assert str(info.value).startswith("codebook.yaml: ")


def test_codebook_domain_must_exist_in_framework(tmp_path):
    path = _write(tmp_path, lambda r: r["items"][0].update(domain="leadership"))
    with pytest.raises(ConfigError, match=r"items\[0\].domain: unknown domain 'leadership'"):
        load_codebook(path, load_framework())

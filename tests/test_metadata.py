"""What the Dagster UI shows about tables and maps: column descriptions, previews rounded for
reading, descriptions without swallowed HTML, map images of a reasonable size."""

import base64
import io
import math
import re

import duckdb
import numpy as np
import pandas as pd
import pytest
from dagster import AssetKey
from PIL import Image

from tipipeline import registry
from tipipeline.assets.metadata import (
    MAP_DISPLAY_WIDTH,
    column_descriptions,
    column_schema,
    maps_markdown,
    published_columns_markdown,
    table_metadata,
)
from tipipeline.definitions import defs
from tipipeline.preview import format_number, markdown_preview


def _cells(markdown: str) -> list[list[str]]:
    """The body rows of a markdown table, as lists of cells."""
    return [[c.strip() for c in line.strip("|").split(" | ")] for line in markdown.splitlines()[2:]]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (2.9411764705882355, "2.941"),
        (-2.9411764705882355, "-2.941"),
        (14.915999999999999, "14.916"),
        (3.0, "3"),
        (2.5, "2.5"),
        (0.52110003, "0.5211"),
        (0.000123456, "0.0001235"),
        (0.0, "0"),
        (-0.0, "0"),
        (1234567.0, "1234567"),
        (123456789012.25, "123456789012.25"),
        (1e20, "100000000000000000000"),
        (float("nan"), ""),
    ],
)
def test_floats_are_rounded_for_reading(value, shown):
    assert format_number(value) == shown


def test_preview_rounds_floats_and_leaves_whole_numbers_and_text_alone():
    frame = pd.DataFrame(
        {
            "value": [2.9411764705882355, None, 12.0],
            "n": pd.array([34, None, 9_876_543_210], dtype="Int64"),
            "big": np.array([12_345_678_901, 2, 3], dtype="int64"),
            "flag": [True, False, True],
            "code": ["E09000001", "a|b", None],
        }
    )
    rows = _cells(markdown_preview(frame))
    assert rows[0] == ["2.941", "34", "12345678901", "True", "E09000001"]
    assert rows[1] == ["", "", "2", "False", "a\\|b"]
    assert rows[2] == ["12", "9876543210", "3", "True", ""]
    assert "2.9411764705882355" in markdown_preview(frame, round_floats=False)


def test_preview_of_a_float_column_with_missing_values():
    frame = pd.DataFrame({"lower_ci": [0.5211, math.nan, 8.762000000000001]})
    assert [r[0] for r in _cells(markdown_preview(frame))] == ["0.5211", "", "8.762"]


def test_the_column_schema_describes_each_column_from_the_registry():
    boroughs = column_descriptions("boroughs")
    assert boroughs["short_code"] == registry.table("boroughs").column("short_code").description
    frame = pd.DataFrame({"gss_code": ["E09000001"], "short_code": ["CTY"], "not_registered": [1]})
    columns = {c.name: c.description for c in table_metadata(frame, "boroughs")["dagster/column_schema"].columns}
    assert columns["short_code"] == boroughs["short_code"] and columns["gss_code"]
    assert columns["not_registered"] is None  # a column the registry does not hold is shown undescribed
    # The registry's rules are shown with each column.
    constraints = {c.name: c.constraints for c in table_metadata(frame, "boroughs")["dagster/column_schema"].columns}
    assert constraints["gss_code"].unique and not constraints["gss_code"].nullable
    assert any(rule.startswith("matches ^E09000") for rule in constraints["gss_code"].other)
    assert constraints["not_registered"].nullable and not constraints["not_registered"].other
    # A column of a family named by a pattern takes the pattern's description (score_<principle>).
    scores = column_schema(pd.DataFrame({"score_safety": [1]}), "audit_codings").columns[0]
    assert scores.description == registry.table("audit_codings").column("^score_[a-z0-9_]+$").description
    # The working table published under another name (policy_audit) has its own descriptions.
    assert column_descriptions("policy_documents")["strength"]
    assert column_descriptions("no_such_table") == {}


def test_every_table_asset_shows_a_description_for_every_column():
    """Every warehouse table in the UI (each asset of kind duckdb but the published file) is
    registered, so its column schema describes every column (issue 29: 27 of 40 were blank)."""
    graph = defs.resolve_asset_graph()
    tables = sorted(
        key.to_user_string()
        for key in graph.get_all_asset_keys()
        if "duckdb" in graph.get(key).kinds and key.to_user_string() not in ("published_baseline", "survey_codebook")
    )
    assert len(tables) >= 60
    registered = registry.tables()
    assert [t for t in tables if t not in registered] == []
    for name in tables:
        descriptions = column_descriptions(name)
        assert descriptions and all(text.strip() for text in descriptions.values()), name
        assert graph.get(AssetKey(name)).description == registered[name].description


def _outside_backticks(text: str) -> str:
    return re.sub(r"`[^`]*`", "", text)


def test_no_asset_description_holds_an_html_like_tag():
    """The UI renders descriptions as markdown without raw HTML: `<wave>` would vanish."""
    graph = defs.resolve_asset_graph()
    descriptions = {
        key.to_user_string(): graph.get(key).assets_def.specs_by_key[key].description or ""
        for key in graph.get_all_asset_keys()
    }
    assert descriptions
    for name, description in descriptions.items():
        assert not re.search(r"</?[A-Za-z][^<>]*>", _outside_backticks(description)), f"{name}: {description}"
    maps = descriptions["maps"]
    assert "`outputs/maps/{wave}/`" in maps


def test_published_columns_markdown_reads_the_comments_of_the_published_file(tmp_path):
    path = tmp_path / "baseline.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("CREATE TABLE boroughs (gss_code VARCHAR, inner_london BOOLEAN)")
        conn.execute("COMMENT ON TABLE boroughs IS 'The 33 London local authorities.'")
        conn.execute("COMMENT ON COLUMN boroughs.gss_code IS 'GSS code.'")
    text = published_columns_markdown(path)
    assert text.startswith("**boroughs**: The 33 London local authorities.")
    assert "| gss_code | VARCHAR | GSS code. |" in text
    assert "| inner_london | BOOLEAN |  |" in text


class _Record:
    def __init__(self, layer: str, png: bytes):
        self.layer, self.png = layer, png
        self.title = f"Index, wave 2025-w2 ({layer})"
        self.alt_text = f"Map of London [{layer}]. The table below gives every value."


def _png(width: float, height: float) -> bytes:
    from tipipeline.viz.style import figure, png_bytes

    fig = figure(width, height)
    axes = fig.add_subplot()
    axes.imshow(np.arange(100).reshape(10, 10), cmap="Blues")
    axes.set_title("A map-like picture with text in it")
    return png_bytes(fig)


def test_maps_markdown_is_one_value_at_full_size_small_and_reproducible():
    records = [_Record(layer, _png(7, 6.2)) for layer in ("councils", "police", "health")]
    records.append(_Record("partnership", _png(16.6, 5.6)))
    text = maps_markdown(records)
    assert text == maps_markdown(records)  # the same bytes for the same maps
    images = re.findall(r"!\[([^\]]*)\]\(data:image/png;base64,([^)]+)\)", text)
    assert len(images) == 4
    assert [h for h in re.findall(r"^\*\*(.+)\*\*$", text, re.M)] == [
        "Councils by borough",
        "Metropolitan Police by Basic Command Unit",
        "NHS by Integrated Care Board",
        "Borough partnership",
    ]
    assert all("table below" not in alt and "[" not in alt for alt, _ in images)
    for record, (_, data) in zip(records, images, strict=True):
        shown = base64.b64decode(data)
        with Image.open(io.BytesIO(shown)) as image, Image.open(io.BytesIO(record.png)) as original:
            # Full size (legible), the wide partnership map scaled to fit the dialog.
            assert image.width == min(original.width, MAP_DISPLAY_WIDTH)
            assert abs(image.height - original.height * image.width / original.width) <= 1
        assert len(shown) <= len(record.png)
    assert len(text) < 400_000

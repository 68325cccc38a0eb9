"""Cross-checks of the reference geography against the facts in DESIGN.md."""

import pandas as pd
import pytest

from tipipeline.reference import AliasResolver, load_reference, normalise_name, tables
from tipipeline.schemas import reference as schemas
from tipipeline.schemas.validation import validate


@pytest.fixture(scope="module")
def ref():
    return load_reference()


def test_33_unique_borough_codes(ref):
    codes = ref.boroughs["gss_code"]
    assert codes.is_unique
    assert sorted(codes) == [f"E09000{i:03d}" for i in range(1, 34)]
    assert ref.boroughs["short_code"].is_unique and ref.boroughs["name"].is_unique


def test_inner_london_matches_ons(ref):
    inner = set(ref.boroughs.loc[ref.boroughs["inner_london"], "name"])
    assert len(inner) == 14
    assert {"City of London", "Camden", "Westminster", "Wandsworth", "Lewisham", "Newham"} <= inner
    assert "Barnet" not in inner and "Croydon" not in inner


def test_every_borough_in_exactly_one_icb(ref):
    current = ref.borough_icb[ref.borough_icb["valid_to"].isna()]
    assert current.groupby("gss_code").size().eq(1).all()
    assert set(current["gss_code"]) == set(ref.boroughs["gss_code"])
    assert set(current["icb_code"]) == set(ref.icbs["icb_code"])
    sizes = current.merge(ref.icbs, on="icb_code").groupby("short_name").size().to_dict()
    assert sizes == {"NCL": 5, "NEL": 8, "NWL": 8, "SEL": 6, "SWL": 6}


def test_icb_codes_from_design(ref):
    icbs = ref.icbs.set_index("short_name")
    assert icbs.loc["NCL", ["icb_code", "ods_code"]].tolist() == ["E54000028", "QMJ"]
    assert icbs.loc["NEL", ["icb_code", "ods_code"]].tolist() == ["E54000029", "QMF"]
    assert icbs.loc["NWL", ["icb_code", "ods_code"]].tolist() == ["E54000027", "QRV"]
    assert icbs.loc["SEL", ["icb_code", "ods_code"]].tolist() == ["E54000030", "QKK"]
    assert icbs.loc["SWL", ["icb_code", "ods_code"]].tolist() == ["E54000031", "QWE"]
    assert icbs["valid_from"].notna().all()


def test_every_borough_but_the_city_in_exactly_one_bcu(ref):
    b = ref.boroughs.set_index("gss_code")
    assert pd.isna(b.loc["E09000001", "bcu_code"])
    others = b.drop(index="E09000001")
    assert others["bcu_code"].notna().all()
    assert set(others["bcu_code"]) == set(ref.bcus["bcu_code"])
    assert len(ref.bcus) == 12 and ref.bcus["bcu_code"].is_unique and ref.bcus["name"].is_unique
    # Spot checks from DESIGN.md.
    names = dict(zip(ref.bcus["bcu_code"], ref.bcus["name"]))
    assert names[b.loc["E09000012", "bcu_code"]] == "Central East"  # Hackney
    assert names[b.loc["E09000029", "bcu_code"]] == "South"  # Sutton
    assert names[b.loc["E09000027", "bcu_code"]] == "South West"  # Richmond


def test_organisations_are_the_39_partners(ref):
    orgs = ref.organisations
    assert len(orgs) == 39 and orgs["org_id"].is_unique
    assert orgs["sector"].value_counts().to_dict() == {"council": 33, "health": 5, "police": 1}
    councils = orgs[orgs["sector"] == "council"]
    assert set(councils["org_id"]) == set(ref.boroughs["gss_code"])
    assert set(orgs.loc[orgs["sector"] == "health", "org_id"]) == set(ref.icbs["icb_code"])


def test_tile_positions_unique_and_match_design(ref):
    grid = tables.tile_grid_table(ref)
    assert len(grid) == 33 and not grid.duplicated(["x", "y"]).any()
    assert grid["gss_code"].notna().all()
    at = {(r.x, r.y): r.short_code for r in grid.itertuples()}
    assert at[(4, 0)] == "ENF" and at[(4, 3)] == "CTY" and at[(3, 6)] == "STN" and at[(7, 4)] == "BXL"


@pytest.mark.parametrize(
    ("entity", "typed", "code"),
    [
        ("organisation", "Kensington & Chelsea", "E09000020"),
        ("organisation", "RBKC", "E09000020"),
        ("organisation", "Richmond", "E09000027"),
        ("organisation", "LB Hackney", "E09000012"),
        ("organisation", "Hammersmith and Fulham Council", "E09000013"),
        ("organisation", "  hammersmith & fulham  ", "E09000013"),
        ("organisation", "NHS North East London", "E54000029"),
        ("organisation", "Met Police", "E23000001"),
        ("organisation", "Metropolitan Police Service", "E23000001"),
        ("organisation", "Royal Borough of Kingston upon Thames", "E09000021"),
        ("organisation", "City of London Corporation", "E09000001"),
        ("borough", "Kensington & Chelsea", "E09000020"),
        ("borough", "Richmond", "E09000027"),
        ("bcu", "Central East", "CE"),
        ("bcu", "North BCU", "NA"),
        ("icb", "NCL", "E54000028"),
    ],
)
def test_aliases_resolve(entity, typed, code):
    assert AliasResolver().resolve(entity, typed) == code


def test_unresolvable_names_give_none_and_suggestions():
    resolver = AliasResolver()
    assert resolver.resolve("organisation", "Transport for London") is None
    assert resolver.resolve("organisation", "") is None
    assert resolver.resolve("organisation", None) is None
    assert resolver.resolve("organisation", "Hackny Council") is None
    assert "hackney council" in resolver.suggest("organisation", "Hackny Council")


def test_every_official_name_resolves(ref):
    resolver = AliasResolver(ref)
    for row in ref.organisations.itertuples():
        assert resolver.resolve("organisation", row.name) == row.org_id
        assert resolver.resolve("organisation", row.short_name) == row.org_id
    for row in ref.boroughs.itertuples():
        assert resolver.resolve("borough", row.name) == row.gss_code


def test_ambiguous_alias_is_an_error(ref):
    from dataclasses import replace

    from tipipeline.errors import ConfigError

    bad = pd.concat([ref.aliases, pd.DataFrame([{"entity": "organisation", "alias": "Hackney", "code": "E09000001"}])])
    with pytest.raises(ConfigError, match="ambiguous"):
        AliasResolver(replace(ref, aliases=bad))


def test_normalise_name():
    assert normalise_name("  Kensington &  Chelsea. ") == "kensington and chelsea"
    assert normalise_name("Hammersmith-and-Fulham") == "hammersmith and fulham"


@pytest.mark.parametrize(
    ("builder", "schema"),
    [
        (tables.boroughs_table, schemas.Boroughs),
        (tables.icbs_table, schemas.Icbs),
        (tables.borough_icb_lookup_table, schemas.BoroughIcbLookup),
        (tables.bcus_table, schemas.Bcus),
        (tables.organisations_table, schemas.Organisations),
        (tables.aliases_table, schemas.Aliases),
        (tables.tile_grid_table, schemas.TileGrid),
    ],
)
def test_reference_tables_pass_their_schemas(ref, builder, schema):
    outcome = validate(schema, builder(ref))
    assert outcome.passed, outcome.summary()


def test_schema_catches_a_duplicate_tile(ref):
    grid = tables.tile_grid_table(ref)
    grid.loc[0, ["x", "y"]] = grid.loc[1, ["x", "y"]].to_numpy()
    outcome = validate(schemas.TileGrid, grid)
    assert not outcome.passed and outcome.num_failures >= 2
    assert "one_row_per_x_y" in outcome.failure_cases_markdown()


def test_the_london_and_england_codes_are_written_once():
    """ONS's GSS codes for the London region and England (E12000007, E92000001: ONS Register of
    Geographic Codes) are defined in reference/geography.py and imported everywhere else: no module,
    template or data file of the package writes either again (the published column descriptions
    may, for readers)."""
    from pathlib import Path

    from tipipeline.reference import ENGLAND_CODE, LONDON_CODE

    assert (LONDON_CODE, ENGLAND_CODE) == ("E12000007", "E92000001")
    package = Path(__file__).resolve().parents[1] / "tipipeline"
    # The table registry's descriptions quote the codes to readers (data, not code that uses them).
    allowed = {package / "reference" / "geography.py", *(package / "registry").rglob("*.yaml")}
    written = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*")
        if path.is_file()
        and path.suffix in {".py", ".html", ".yaml", ".csv", ".css"}
        and path not in allowed
        and any(code in path.read_text(encoding="utf-8") for code in (LONDON_CODE, ENGLAND_CODE))
    )
    assert written == []

"""`tipipeline verify` rebuilds from the inputs and finds the same tables and images; tampering is named."""

import shutil

import duckdb

from tipipeline.cli import main
from tipipeline.verify import compare, table_digests


def test_verify_passes_on_the_sample_and_names_a_difference(cli_built_sample, tmp_path, monkeypatch, capsys):
    # The first run is the session's shared fresh build (conftest.cli_built_sample), copied here.
    build = cli_built_sample.copy(tmp_path / "build")
    monkeypatch.setenv("DAGSTER_HOME", str(build.home))
    paths = ["--data-dir", str(build.data), "--output-dir", str(build.outputs)]
    assert main(["run", *paths]) == 0  # the routine re-run (issue 17: alpha used to change in its last digits)
    capsys.readouterr()
    assert main(["verify", *paths]) == 0
    assert "Verified" in capsys.readouterr().out
    # The comparison names what differs: change one published value in a copy.
    baseline = build.data / "warehouse" / "baseline.duckdb"
    tampered = tmp_path / "tampered.duckdb"
    shutil.copy(baseline, tampered)
    with duckdb.connect(str(tampered)) as conn:
        conn.execute(
            "UPDATE indicators SET value = value + 0.01 WHERE geography_level = 'london' AND wave = '2024-w1' "
            "AND indicator_id = 'ti_index_mean'"
        )
    assert compare(table_digests(baseline), table_digests(tampered), "table") == ["table indicators: differs"]
    # Row order does not matter.
    reordered = tmp_path / "reordered.duckdb"
    shutil.copy(baseline, reordered)
    with duckdb.connect(str(reordered)) as conn:
        conn.execute("CREATE OR REPLACE TABLE journey AS SELECT * FROM journey ORDER BY random()")
    assert compare(table_digests(baseline), table_digests(reordered), "table") == []
    # An input replaced after publishing is named by file, with both hashes.
    from tipipeline.settings import get_settings
    from tipipeline.verify import input_changes

    settings = get_settings(build.data, build.outputs)
    assert input_changes(settings) == []
    [export] = sorted((settings.surveys_dir / "2024-w1").iterdir())
    export.write_bytes(export.read_bytes() + b"\r\n")
    shutil.copytree(settings.surveys_dir / "2024-w1", settings.surveys_dir / "2026-w3")
    changes = input_changes(settings)
    assert changes[0].startswith(f"input surveys/2024-w1/{export.name}: changed since the baseline was published")
    assert changes[1].startswith(f"input surveys/2026-w3/{export.name}: added since")
    assert len(changes) == 2

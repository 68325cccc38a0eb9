"""Every warehouse connection has a memory limit, spills outside the warehouse folder and keeps
insertion order (issue 14: 1M respondents in 4 GB; row numbers from scan order)."""

from tipipeline.warehouse import MEMORY_LIMIT_ENV, connection


def _settings(conn) -> dict:
    names = ("memory_limit", "temp_directory", "preserve_insertion_order")
    return {n: conn.execute(f"SELECT current_setting('{n}')").fetchone()[0] for n in names}


def test_connections_are_limited_and_spill_outside_the_warehouse(tmp_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    warehouse = tmp_path / "warehouse" / "tipipeline.duckdb"
    with connection(warehouse) as conn:
        found = _settings(conn)
    assert found["preserve_insertion_order"] is True
    assert not found["temp_directory"].startswith(str(warehouse.parent))
    # DuckDB reports the limit in its own units (2.5GB -> "2.3 GiB"): compare bytes, roughly.
    assert found["memory_limit"].endswith(("GiB", "GB")) and 2.2 <= float(found["memory_limit"].split()[0]) <= 2.6


def test_the_memory_limit_can_be_set(tmp_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "512MB")
    with connection(tmp_path / "w.duckdb") as conn:
        assert _settings(conn)["memory_limit"] in ("488.2 MiB", "512.0 MB", "488.2MiB")

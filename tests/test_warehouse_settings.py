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


def test_spill_files_go_to_a_folder_only_this_user_can_read(tmp_path, monkeypatch):
    """DuckDB's spill files can hold an export's cells while it is read: the folder is 0700 and
    ours; a folder of that name made by someone else (here: a link to an open folder) is not used."""
    import os
    import stat
    import tempfile

    from tipipeline import warehouse

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(warehouse, "_SPILL", [])
    folder = warehouse._private_spill_folder()
    info = folder.lstat()
    assert folder.parent == tmp_path and stat.S_IMODE(info.st_mode) == 0o700 and info.st_uid == os.getuid()

    monkeypatch.setattr(warehouse, "_SPILL", [])
    folder.rmdir()
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    folder.symlink_to(shared)  # a breach: the expected name points somewhere else
    other = warehouse._private_spill_folder()
    assert other != folder and other.parent == tmp_path and stat.S_IMODE(other.stat().st_mode) == 0o700

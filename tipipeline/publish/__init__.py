"""Publishing the baseline: a read-only DuckDB snapshot swapped in atomically, and exports."""

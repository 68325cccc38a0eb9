"""The thin Dagster layer: one module per stage of the flow. Assets say what they produce and
call pure functions from the ingest / reference / stats packages to produce it."""

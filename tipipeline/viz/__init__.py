"""Drawing: palettes, maps and charts (matplotlib, Agg backend, deterministic PNG bytes)."""

"""Schemas of the reference tables (geography and the measurement framework)."""

from __future__ import annotations

from tipipeline.schemas.models import model

Boroughs = model("boroughs")
Icbs = model("icbs")
BoroughIcbLookup = model("borough_icb_lookup")
Bcus = model("bcus")
Organisations = model("organisations")
Aliases = model("organisation_aliases")
TileGrid = model("tile_grid")
Principles = model("framework_principles")
Domains = model("framework_domains")
JourneyStages = model("journey_stages")

"""Reference geography as package data: boroughs, ICBs, BCUs, organisations, aliases, tile grid.

The CSV files beside this module are the facts (see DESIGN.md); `load_reference()` reads them
into DataFrames and `AliasResolver` maps the spellings people type to codes.
"""

from tipipeline.reference.geography import (
    ENGLAND_CODE,
    LONDON_CODE,
    REFERENCE_DIR,
    AliasResolver,
    Reference,
    load_reference,
    normalise_name,
)

__all__ = [
    "ENGLAND_CODE",
    "LONDON_CODE",
    "REFERENCE_DIR",
    "AliasResolver",
    "Reference",
    "load_reference",
    "normalise_name",
]

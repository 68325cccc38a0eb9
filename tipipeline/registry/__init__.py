"""The table registry: every warehouse and published table described once.

`fields.yaml` defines each field once (type, description, whether it may identify a person);
`tables/*.yaml` define each warehouse table (its fields in order with their constraints, key,
layer, owning asset, description, custom checks) and `published.yaml` each published table (its
comment, the query that makes it from the warehouse, and its fields). Everything else is made from
these: the pandera schemas (`tipipeline.schemas.models`), the column orders of the readers and
builders, the Dagster asset descriptions and column schemas, the published table and column
comments, and the table lists in README.md and docs/DESIGN.md (`tipipeline.registry.docs`).
"""

from tipipeline.registry.load import (
    LAYERS,
    TYPES,
    Column,
    PublishedTable,
    Table,
    published_table,
    published_tables,
    table,
    tables,
)

__all__ = [
    "LAYERS",
    "TYPES",
    "Column",
    "PublishedTable",
    "Table",
    "published_table",
    "published_tables",
    "table",
    "tables",
]

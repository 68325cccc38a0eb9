"""pandera schemas guarding every table boundary, run as blocking asset checks: made from the
table registry (`models.model`), with the custom checks each module registers.

Importing the package registers every check, so `model(name)` can build any table's schema."""

from tipipeline.schemas import (  # noqa: F401  (each module registers its checks and vocabularies)
    boundaries,
    consensus,
    indicators,
    ingest,
    outcomes,
    policy,
    practice,
    reference,
)

"""Turn the pipeline's own errors into Dagster failures that read as one line, not a stack trace.

Inside an asset body::

    @asset
    def survey_responses(...) -> MaterializeResult:
        with readable_failures():
            frame = read_wave(path)  # may raise InputError
        ...

or as a decorator placed *below* ``@asset`` (plain functions only, not generators)::

    @asset
    @readable_failures()
    def codebook(...) -> MaterializeResult: ...

A ``TipipelineError`` raised inside becomes ``dagster.Failure`` whose description is the error's
one-line message ("wave_3.csv, row 12, column 'q4': ...") and whose metadata carries the known
``file``, ``row``, ``column`` (``field`` for configuration errors) and ``reason``. The UI shows
the description and a metadata table on the failed step. Retries are not attempted: the input
will not fix itself. Any other exception passes through unchanged.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dagster import Failure

from tipipeline.errors import TipipelineError

__all__ = ["as_failure", "failure_metadata", "one_line", "readable_failures"]

# Attributes of our errors that locate the problem, in the order the UI should list them.
LOCATION_KEYS = ("file", "field", "row", "column")


def one_line(text: str) -> str:
    """Collapse line breaks and runs of whitespace so the text fits on one line."""
    return " ".join(str(text).split())


def failure_metadata(error: TipipelineError) -> dict[str, object]:
    """The known location of the error (file, field, row, column) and the bare reason."""
    metadata: dict[str, object] = {}
    for key in LOCATION_KEYS:
        value = getattr(error, key, None)
        if value is not None and value != "":
            metadata[key] = value
    metadata["reason"] = one_line(getattr(error, "message", None) or str(error))
    return metadata


def as_failure(error: TipipelineError) -> Failure:
    """A ``dagster.Failure`` that says what the error says, on one line, with its location."""
    return Failure(
        description=one_line(str(error)) or type(error).__name__,
        metadata=failure_metadata(error),
        allow_retries=False,
    )


@contextlib.contextmanager
def readable_failures() -> Iterator[None]:
    """Re-raise a ``TipipelineError`` as a one-line ``dagster.Failure``; let anything else through."""
    try:
        yield
    except TipipelineError as error:
        raise as_failure(error) from None

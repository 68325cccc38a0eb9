"""The base of every table schema."""

import pandera.pandas as pa


class StrictModel(pa.DataFrameModel):
    """Strict: an unexpected column fails validation (it might be an identifier, or a mistake);
    no coercion: a column of the wrong type is a failure, not something to fix silently."""

    class Config:
        strict = True
        coerce = False

"""Errors a user can act on: each names the file and, where it can, the row and column."""

from __future__ import annotations

from pathlib import Path


class TipipelineError(Exception):
    """Base class for errors that reach users as a one-line reason."""


class ConfigError(TipipelineError):
    """A configuration or framework file is malformed."""

    def __init__(self, file: str | Path, field: str, message: str):
        self.file = str(file)
        self.field = field
        self.message = message
        super().__init__(f"{Path(file).name}: {field}: {message}" if field else f"{Path(file).name}: {message}")


class InputError(TipipelineError):
    """A raw input file cannot be used."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, column: str | None = None):
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        where = Path(file).name
        if row is not None:
            where += f", row {row}"
        if column is not None:
            where += f", column {column!r}"
        super().__init__(f"{where}: {message}")


def format_pydantic_error(file: str | Path, error) -> ConfigError:
    """Turn a pydantic ValidationError into a ConfigError naming the first bad field.

    Cross-field validators name the field themselves by starting their message with
    ``@relative.field.path: ``; it is appended to the location pydantic reports.
    """
    first = error.errors()[0]
    field = _dotted(first.get("loc", ()))
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if message.startswith("@"):
        relative, _, message = message[1:].partition(": ")
        field = f"{field}.{relative}" if field else relative
    others = len(error.errors()) - 1
    if others:
        message += f" (and {others} more problem{'s' if others > 1 else ''})"
    return ConfigError(file, field, message)


def _dotted(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out

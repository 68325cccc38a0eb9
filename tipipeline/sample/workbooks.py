"""Workbooks whose bytes depend only on what is written into them (fixed properties, entry
times and zip order): every sample file the generators write as XLSX goes through here."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

FIXED_TIMESTAMP = "2024-01-01T00:00:00Z"


def new_workbook():
    """An empty openpyxl workbook with fixed properties (creator, times), so its bytes depend only
    on what is written into it."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    fixed = pd.Timestamp(FIXED_TIMESTAMP).tz_localize(None).to_pydatetime()
    workbook.properties.creator = "tipipeline sample generator (synthetic data)"
    workbook.properties.created = fixed
    workbook.properties.modified = fixed
    return workbook


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    """Write an XLSX whose bytes depend only on the data (fixed timestamps, fixed zip order)."""
    from openpyxl.styles import Font

    header_font = Font(name="Calibri", size=11, bold=True)

    workbook = new_workbook()
    for name, frame in sheets.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(frame.columns))
        dates = [i for i, c in enumerate(frame.columns) if pd.api.types.is_datetime64_any_dtype(frame[c])]
        for row in frame.itertuples(index=False):
            values = [None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT else v for v in row]
            for i in dates:
                values[i] = None if values[i] is None else pd.Timestamp(values[i]).to_pydatetime()
            sheet.append(values)
        for cell in sheet[1]:
            cell.font = header_font
        for i in dates:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=i + 1, max_col=i + 1):
                cell.number_format = "yyyy-mm-dd hh:mm:ss"
    buffer = io.BytesIO()
    workbook.save(buffer)
    path.write_bytes(normalise_zip(buffer.getvalue()))


def normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry times and property timestamps, so bytes are reproducible."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(
                    rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)",
                    rb"\g<1>" + FIXED_TIMESTAMP.encode() + rb"\g<2>",
                    content,
                )
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, content)
    return out.getvalue()

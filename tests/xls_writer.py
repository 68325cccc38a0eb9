"""Write Excel 97-2003 (.xls, BIFF8) workbooks for reader tests, at test time with xlwt, and the
broken ones a reader must refuse: password-protected, and an Office file without a workbook.

No .xls is committed: each test writes the rows it means (synthetic, never real data).
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import xlwt
from xlwt.CompoundDoc import XlsDoc

FILEPASS = 0x002F  # BIFF8 record: the workbook is encrypted with a password
BOF = 0x0809  # BIFF8 record: beginning of the workbook globals (and of each sheet)


def xls_workbook(path: Path, sheets: dict[str, list[list]]) -> Path:
    """One sheet per item, rows from the top-left cell; None leaves a cell empty."""
    book = xlwt.Workbook()
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    book.save(str(path))
    return path


def password_protected_xls(path: Path) -> Path:
    """A workbook whose globals carry a FILEPASS record after their BOF, as Excel writes when a
    password is set (what follows is left unencrypted: readers stop at the FILEPASS record)."""
    book = xlwt.Workbook()
    book.add_sheet("MYE2 - Persons").write(0, 0, "Code")
    biff = book.get_biff_data()
    kind, length = struct.unpack("<HH", biff[:4])
    assert kind == BOF
    filepass = struct.pack("<HH", FILEPASS, 6) + bytes(6)
    stream = io.BytesIO()
    XlsDoc().save(stream, biff[: 4 + length] + filepass + biff[4 + length :])
    path.write_bytes(stream.getvalue())
    return path


def renamed_stream_xls(path: Path, source: Path, stream: str) -> Path:
    """`source` (an .xls) with its `Workbook` stream renamed `stream` in the compound document's
    directory: 'EncryptedPackage' is how a password-protected .xlsx is stored, 'WordDocument' a
    Word document."""
    data = bytearray(source.read_bytes())
    entry = data.find("Workbook".encode("utf-16-le") + b"\0\0")
    assert entry > 0 and entry % 128 == 0, "the directory entry of the Workbook stream"
    name = stream.encode("utf-16-le") + b"\0\0"
    data[entry : entry + 64] = name.ljust(64, b"\0")
    data[entry + 64 : entry + 66] = struct.pack("<H", len(name))
    path.write_bytes(bytes(data))
    return path

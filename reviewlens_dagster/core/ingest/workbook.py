"""Workbooks (.xlsx, .xlsm, .xlsb, .xls, .ods) into a :class:`.schema.Part`, through fastexcel.

fastexcel (calamine, Rust) gives each column as an Arrow array; every cell is read as the text it
shows (numbers as written, ``5`` not ``5.0``; date cells as ISO ``2024-01-02 13:05:00``), so the
same validation as a CSV's applies. The sheet is the source's ``sheet`` (a name or a 0-based
index), else the first. The header is the first row unless a row among the first
:data:`HEADER_SEARCH_ROWS` is the first to name every required column (owner-centre downloads put a
title and a period above the table). Blank rows are skipped, row numbers are the workbook's own
(1-based, as Excel shows them). A workbook that is encrypted, broken, empty or lacks the sheet
raises ValueError with the reason, and the file is quarantined with it.
"""

from __future__ import annotations

from ..sources import SourceSpec
from .schema import Part, derive_ids, map_columns, mapping_or_fail

#: rows searched for the header when the first row is not it
HEADER_SEARCH_ROWS = 10


def _reader(data: bytes):
    import fastexcel

    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00" in data[:65536]:
        # an .xlsx saved with a password is an OLE container holding "EncryptedPackage"
        raise ValueError("the workbook is encrypted (password-protected): save it without a password")
    try:
        return fastexcel.read_excel(data)
    except Exception as exc:  # fastexcel raises its own error types (CalamineError, ...) for broken files
        raise ValueError(f"unreadable workbook: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}") from None


def _sheet(reader, spec: SourceSpec | None):
    names = reader.sheet_names
    if not names:
        raise ValueError("the workbook has no sheet")
    wanted = spec.sheet if spec and spec.sheet is not None else 0
    if isinstance(wanted, int) and not 0 <= wanted < len(names):
        raise ValueError(f"sheet index {wanted} does not exist; sheets: {names}")
    if isinstance(wanted, str) and wanted not in names:
        raise ValueError(f"sheet {wanted!r} does not exist; sheets: {names}")
    return wanted


def _header_row(reader, sheet, spec: SourceSpec | None) -> int:
    """The first row that names every required column; 0 when none does (the error names row 1's)."""
    try:
        head = reader.load_sheet(sheet, header_row=None, n_rows=HEADER_SEARCH_ROWS, dtypes="string", eager=True)
    except Exception as exc:
        raise ValueError(f"unreadable sheet {sheet!r}: {type(exc).__name__}: {str(exc)[:200]}") from None
    columns = head.to_pydict()
    for k in range(head.num_rows):
        header = [str(v).strip() for v in (columns[c][k] for c in columns) if v is not None]
        try:
            _, missing = map_columns(header, spec)
        except ValueError:
            continue
        if header and not missing:
            return k
    return 0


def read_workbook(part: Part, data: bytes, spec: SourceSpec | None) -> None:
    """Fill ``part`` from the workbook's sheet (module docstring); raises ValueError when unusable."""
    reader = _reader(data)
    sheet = _sheet(reader, spec)
    header_row = _header_row(reader, sheet, spec)
    try:
        batch = reader.load_sheet(sheet, header_row=header_row, dtypes="string", eager=True)
    except Exception as exc:
        raise ValueError(f"unreadable sheet {sheet!r}: {type(exc).__name__}: {str(exc)[:200]}") from None
    header = [str(c).strip() for c in batch.schema.names]
    if not any(header) or batch.num_columns == 0:
        raise ValueError(f"sheet {sheet!r} is empty")
    values = {h: col.to_pylist() for h, col in zip(header, batch.columns)}
    keep = [i for i in range(batch.num_rows) if any(v[i] is not None and str(v[i]).strip() for v in values.values())]
    if not keep:
        raise ValueError(f"sheet {sheet!r} has a header but no data row")
    mapping = mapping_or_fail(header, spec)
    part.source_rows = [header_row + 2 + i for i in keep]  # Excel's row numbers: 1-based, after the header
    part.raws = [{h: values[h][i] for h in header if values[h][i] is not None} for i in keep]
    for col, canon in mapping.items():
        part.columns[canon] = [values[col][i] for i in keep]
    derive_ids(part, spec, lambda c: [values[c][i] for i in keep])

"""CSV readers: the delimiter sniffed, pyarrow's reader for well-formed files (one call for many small files with one header), the line-by-line reader whose line numbers are exact."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pyarrow as pa

from ..sources import SourceSpec
from .decode import decode_bytes, file_kind
from .schema import Part, Rejection, derive_ids, mapping_or_fail
from .text import raw_preview

DELIMITERS = (",", ";", "|", "\t")


#: CSVs at least this long go through pyarrow's reader first (well-formed ones; the others fall back to the
#: line-by-line reader, whose line numbers are exact)
FAST_CSV_MIN_CHARS = 0


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV: the candidate that splits the header into the most fields (a comma
    on ties). The header is what every export has, and it rarely holds quoted delimiters."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(counts.values())
    return "," if counts[","] == best else max(counts, key=counts.get)


def _arrow_csv(data: bytes, delimiter: str, raw_header: list[str], threads: bool):
    """pyarrow's CSV reader, every column as text as written ("007" stays "007", "" stays ""); None
    when a row is malformed or the header is not what ``raw_header`` says."""
    import pyarrow.csv as pacsv

    if not raw_header or len(set(raw_header)) != len(raw_header):
        return None
    invalid = []
    try:
        table = pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=threads, block_size=1 << 22),
            parse_options=pacsv.ParseOptions(
                delimiter=delimiter,
                newlines_in_values=True,
                invalid_row_handler=lambda row: invalid.append(row) or "skip",
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={h: pa.string() for h in raw_header},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeError):
        return None
    return None if invalid or table.column_names != raw_header else table


def arrow_header(raw_header: list[str]) -> list[str] | None:
    """The column names of a pyarrow-read CSV, or None when the exact reader must decide (no name at
    all, or a name twice: the exact reader keeps the first)."""
    header = [h.strip().lstrip("\ufeff") for h in raw_header]
    return header if any(header) and len(set(header)) == len(header) else None


def fill_from_arrow(part: Part, header: list[str], columns: list, delimiter: str, spec: SourceSpec | None) -> None:
    """A part's columns from pyarrow arrays of a CSV with one record per line (line 1 the header);
    raises ValueError when a required column is missing."""
    mapping = mapping_or_fail(header, spec)
    by_name = dict(zip(header, columns))
    part.source_rows = list(range(2, len(columns[0]) + 2))
    part.raw_of = lambda j: delimiter.join(str(c[j].as_py()) for c in columns)
    for col, canon in mapping.items():
        part.columns[canon] = by_name[col]
    derive_ids(part, spec, lambda c: by_name[c].to_pylist())


def _csv_fast(text: str, utf8: bytes | None, delimiter: str) -> tuple[list[str], list] | None:
    """pyarrow's CSV reader (C++, threaded) for the common case: a well-formed file with one record
    per line. Returns (header, columns), or None when the file needs the exact reader below (a
    malformed row, a blank line or a quoted line break: the line numbers of its rejections must be
    exact)."""
    raw_header = next(csv.reader([text.split("\n", 1)[0].rstrip("\r")], delimiter=delimiter), [])
    table = _arrow_csv(utf8 if utf8 is not None else text.encode("utf-8"), delimiter, raw_header, len(text) > 1 << 20)
    if table is None:
        return None
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    if lines != table.num_rows + 1 or "\r" in text.replace("\r\n", ""):
        return None
    header = arrow_header(table.column_names)
    return None if header is None else (header, [c.combine_chunks() for c in table.columns])


def _csv_part(part: Part, text: str, delimiter: str | None) -> tuple[list[str], list[list[str]]]:
    first = text.split("\n", 1)[0]
    delimiter = delimiter or sniff_delimiter(first)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("empty file: no header row") from None
    except csv.Error as exc:
        raise ValueError(f"unreadable CSV header: {exc}") from None
    header = [h.strip().lstrip("\ufeff") for h in header]
    if not any(header):
        raise ValueError("empty header row")
    width = len(header)
    rows: list[list[str]] = []
    append_row, append_no, append_raw = rows.append, part.source_rows.append, part.raws.append
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            part.rejections.append(Rejection(part.source_file, line, f"malformed CSV: {exc}", ""))
            continue
        if not fields or not "".join(fields).strip():
            continue  # blank line: nothing to keep
        if len(fields) != width:
            part.rejections.append(
                Rejection(
                    part.source_file,
                    line,
                    f"expected {width} fields, found {len(fields)}",
                    raw_preview(delimiter.join(fields)),
                )
            )
            continue
        append_row(fields)
        append_no(line)
        append_raw(fields)
    part.delimiter = delimiter  # the fields of a row are joined only when it is rejected
    return header, rows


def read_csv(part: Part, data: bytes, text: str, spec: SourceSpec | None) -> None:
    delimiter = (spec.delimiter if spec else None) or sniff_delimiter(text.split("\n", 1)[0])
    utf8 = data[3:] if part.encoding == "utf-8-sig" else data if part.encoding == "utf-8" else None
    fast = _csv_fast(text, utf8, delimiter) if len(text) >= FAST_CSV_MIN_CHARS else None
    if fast is not None:
        fill_from_arrow(part, *fast, delimiter, spec)
        return
    header, rows = _csv_part(part, text, delimiter)
    mapping = mapping_or_fail(header, spec)
    index = {h: i for i, h in enumerate(header)}
    for col, canon in mapping.items():
        i = index[col]
        part.columns[canon] = [r[i] for r in rows]
    derive_ids(part, spec, lambda c: [r[index[c]] for r in rows])


#: CSVs up to this size that share a header line are parsed in one pyarrow call (per-file overhead)
BATCH_CSV_BYTES = 1 << 20


def parse_batches(members: list, header_line: str, delimiter: str, raw_header: list[str]):
    """Yield (members, table or None): the members parsed in one call, halved until each half parses
    with one row per line (a file whose value holds a line break ends up alone, with None)."""
    if len(members) < 2:
        yield members, None
        return
    data = (header_line + "\n" + "".join(m[1] for m in members)).encode("utf-8")
    table = _arrow_csv(data, delimiter, raw_header, threads=True)
    if table is not None and table.num_rows == sum(m[2] for m in members):
        yield members, table
        return
    half = len(members) // 2
    yield from parse_batches(members[:half], header_line, delimiter, raw_header)
    yield from parse_batches(members[half:], header_line, delimiter, raw_header)


def batchable(path: Path, spec: SourceSpec | None):
    """((header line, delimiter, mapping), bytes, body, rows, encoding) of a CSV that may join a batch,
    else None."""
    kind, compression = file_kind(path.name)
    try:
        if kind != "csv" or compression or not 0 < path.stat().st_size <= BATCH_CSV_BYTES:
            return None
        data = path.read_bytes()
        text, encoding = decode_bytes(data)
    except (OSError, ValueError):
        return None
    head, sep, body = text.partition("\n")
    header_line = head.rstrip("\r")
    if not sep or not body.strip() or "\r" in text.replace("\r\n", "") or "\n\n" in text or "\n\r\n" in text:
        return None  # header only, blank lines or bare CRs: the exact reader says what they are
    if not body.endswith("\n"):
        body += "\n"
    delimiter = (spec.delimiter if spec else None) or sniff_delimiter(header_line)
    return (header_line, delimiter, spec.name if spec else None), data, body, body.count("\n"), encoding

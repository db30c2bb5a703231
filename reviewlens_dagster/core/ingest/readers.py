"""A file into :class:`.schema.Part` s (CSV, JSONL, Parquet, workbooks; one per archive member), with the columns mapped and ids derived; the folder listing."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pandas as pd

from ..config import DEFAULT_MAX_TEXT_CHARS
from ..sources import SourceSpec
from .csvread import arrow_header, batchable, fill_from_arrow, parse_batches, read_csv
from .decode import SUPPORTED_SUFFIXES, decode_bytes, file_kind, head_bytes, table_bytes
from .frames import normalize_reviews_frame
from .schema import (
    FileResult,
    Part,
    Rejection,
    derive_ids,
    mapping_or_fail,
    text_columns,
)
from .text import as_text, raw_preview
from .validate import validate_parts
from .workbook import read_workbook


def _jsonl_part(part: Part, text: str) -> tuple[list[str], list[dict]]:
    columns: dict[str, None] = {}
    rows: list[dict] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            part.rejections.append(
                Rejection(part.source_file, lineno, f"invalid JSON: {exc.msg} at column {exc.colno}", raw_preview(line))
            )
            continue
        if not isinstance(obj, dict):
            part.rejections.append(
                Rejection(
                    part.source_file,
                    lineno,
                    f"JSON line is a {type(obj).__name__}, expected an object",
                    raw_preview(line),
                )
            )
            continue
        columns.update(dict.fromkeys(map(str, obj)))
        rows.append(obj)
        part.source_rows.append(lineno)
        part.raws.append(line)
    if not rows:
        part.rejections.clear()  # the whole file is quarantined with one row instead
        raise ValueError("no JSON object in the file")
    return list(columns), rows


def _fill_part(part: Part, kind: str, data: bytes, spec: SourceSpec | None) -> None:
    """Read ``data`` (one table) into ``part``; raises ValueError when the whole table is unusable."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            df = pq.read_table(io.BytesIO(data)).to_pandas()
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise ValueError(f"unreadable Parquet file: {type(exc).__name__}: {exc}") from None
        header = [str(c) for c in df.columns]
        df.columns = header
        mapping = mapping_or_fail(header, spec)
        part.source_rows = list(range(1, len(df) + 1))
        part.raws = df.to_dict(orient="records")
        text_columns(part, mapping, lambda c: df[c].astype(object).tolist())
        derive_ids(part, spec, lambda c: [as_text(v)[0] for v in df[c].astype(object).tolist()])
        return
    if kind == "excel":
        read_workbook(part, data, spec)
        return
    text, part.encoding = decode_bytes(data)
    if not text.strip():
        raise ValueError("file has no content (only whitespace)")
    if kind == "csv":
        read_csv(part, data, text, spec)
        return
    header, objs = _jsonl_part(part, text)
    if not objs:
        return
    mapping = mapping_or_fail(header, spec)
    text_columns(part, mapping, lambda c: [o.get(c) for o in objs])
    derive_ids(part, spec, lambda c: [as_text(o.get(c))[0] for o in objs])


def _part_for(name: str, spec: SourceSpec | None, as_of: pd.Timestamp) -> Part:
    return Part(
        name,
        source=spec.name if spec else "auto",
        as_of=as_of,
        rating_scale=float(spec.rating_scale) if spec else 5.0,
        date_format=spec.date_format if spec else None,
        defaults=spec.defaults.model_dump(exclude_none=True) if spec else {},
        menu_format=(spec.menu_format.item_separator, spec.menu_format.quantity_separator) if spec else (",", "/"),
    )


def _as_of(path: Path, spec: SourceSpec | None) -> pd.Timestamp:
    """What relative dates count back from: the source's ``as_of``, else the file's modification time."""
    when = pd.Timestamp(spec.as_of) if spec and spec.as_of is not None else pd.Timestamp(path.stat().st_mtime, unit="s")
    return when.tz_localize("UTC") if when.tzinfo is None else when


def read_many(items: list[tuple[Path, str, SourceSpec | None]], progress=None) -> list[list[Part]]:
    """:func:`read_parts` of many files, with the same result (tested): small, well-formed UTF-8 CSVs
    with the same header line and mapping are parsed together in one pyarrow call and split per
    file (one call per file costs more than the parsing of a few hundred rows); every other file,
    and every group the batch parse does not account for row by row, is read alone."""
    out: list[list[Part] | None] = [None] * len(items)
    groups: dict[tuple, list] = {}
    read: dict[int, bytes] = {}  # what was read to try a batch, so that a file read alone is not read again

    def alone(i: int) -> list[Part]:
        path, name, spec = items[i]
        return read_parts(path, name, spec, tables=[("", "csv", read[i])] if i in read else None)

    for i, (path, _, spec) in enumerate(items):
        member = batchable(Path(path), spec)
        if member is None:
            out[i] = read_parts(*items[i])
            continue
        key, data, body, n, encoding = member
        read[i] = data
        groups.setdefault(key, []).append((i, body, n, encoding))
    for (header_line, delimiter, _), members in groups.items():
        raw_header = next(csv.reader([header_line], delimiter=delimiter), [])
        header = arrow_header(raw_header)
        for batch, table in parse_batches(members, header_line, delimiter, raw_header):
            if table is None or header is None:
                for i, *_ in batch:
                    out[i] = alone(i)
                continue
            offset = 0
            for i, _, n, encoding in batch:
                path, name, spec = items[i]
                part = _part_for(name, spec, _as_of(Path(path), spec))
                part.encoding = encoding
                try:
                    fill_from_arrow(
                        part, header, [c.slice(offset, n).combine_chunks() for c in table.columns], delimiter, spec
                    )
                    out[i] = [part]
                except ValueError:  # a required column missing: quarantined as read alone
                    out[i] = alone(i)
                offset += n
    if progress:
        progress(f"staging: read {len(items)}/{len(items)} file(s), {sum(len(p) for g in out for p in g):,} rows")
    return out


def read_parts(
    path: Path,
    source_name: str | None = None,
    spec: SourceSpec | None = None,
    as_of: pd.Timestamp | None = None,
    tables: list[tuple[str, str | None, bytes]] | None = None,
) -> list[Part]:
    """Read one file into parts (one per table: a .zip gives one per member). Never raises for bad
    content: a table that cannot be used is a part with ``fatal`` set and one whole-file rejection.
    ``as_of``: the time relative dates ("3일 전") count back from (default: the file's
    modification time, or the source's ``as_of``). ``tables``: the file's content when the caller has
    read it already."""
    path = Path(path)
    source = source_name or path.name
    kind, compression = file_kind(path.name)

    def failed(name: str, reason: str, raw: str = "") -> Part:
        reason = f"file quarantined: {reason}"
        return Part(
            name,
            rejections=[Rejection(name, 0, reason, raw_preview(raw))],
            fatal=reason,
            source=spec.name if spec else "auto",
        )

    if kind is None and compression != "zip":
        suffixes = sorted(SUPPORTED_SUFFIXES) + [s + ".gz" for s in sorted(SUPPORTED_SUFFIXES)] + [".zip"]
        return [
            failed(source, f"unsupported file type {''.join(path.suffixes) or '(none)'!r}; expected one of {suffixes}")
        ]
    try:
        tables = tables if tables is not None else table_bytes(path, compression)
    except (ValueError, OSError) as exc:
        return [failed(source, str(exc), head_bytes(path))]
    if as_of is None:
        as_of = _as_of(path, spec)
    elif as_of.tzinfo is None:
        as_of = as_of.tz_localize("UTC")
    parts = []
    for member, member_kind, data in tables:
        name = f"{source}:{member}" if member else source
        if member_kind is None:
            parts.append(failed(name, f"unsupported file type in the archive: {member!r}"))
            continue
        part = _part_for(name, spec, as_of)
        try:
            _fill_part(part, member_kind, data, spec)
        except ValueError as exc:
            parts.append(failed(name, str(exc), data[:200].decode("utf-8", errors="replace")))
            continue
        parts.append(part)
    return parts


def read_review_file(
    path: Path,
    source_name: str | None = None,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    spec: SourceSpec | None = None,
) -> FileResult:
    """Parse and validate one file (every table of it). Never raises for bad content."""
    parts = read_parts(path, source_name, spec)
    v = validate_parts(parts, max_text_chars)
    rejections = [
        Rejection(
            r["source_file"],
            int(r["source_row"]),
            r["reason"],
            r["raw"],
            r["review_id"],
            r["restaurant_id"],
            r["severity"],
        )
        for r in v.rejections.to_dict(orient="records")
    ]
    fatal = parts[0].fatal if parts and all(p.fatal for p in parts) else None
    return FileResult(
        source_name or Path(path).name,
        normalize_reviews_frame(v.reviews.to_pandas()),
        rejections,
        next((p.encoding for p in parts if p.encoding), None),
        fatal,
    )


def list_review_files(folder: Path) -> list[Path]:
    """Files under ``folder`` (recursive), sorted, skipping hidden files and links that leave it."""
    folder = Path(folder)
    if not folder.exists():
        return []
    root = folder.resolve()
    out = []
    for p in sorted(folder.rglob("*")):
        if not p.is_file() or any(part.startswith(".") for part in p.relative_to(folder).parts):
            continue
        try:
            p.resolve().relative_to(root)
        except ValueError:
            continue  # a symlink pointing outside the incoming folder
        out.append(p)
    return out

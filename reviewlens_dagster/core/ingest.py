"""Readers for dropped review files, vectorized validation and quarantine rows.

Contract (see README "Data contract"):
- formats: ``.csv`` / ``.tsv`` (delimiter sniffed: ``,`` ``;`` ``|`` tab), ``.jsonl`` / ``.ndjson``,
  ``.parquet``; any of them gzip-compressed (``.csv.gz``) or in a ``.zip`` (size-capped);
- encodings: UTF-8 (with or without BOM), CP949 / EUC-KR, UTF-16 (with or without BOM), others by
  detection;
- columns: ``review_id``, ``restaurant_id``, ``text`` required; ``rating``, ``created_at``,
  ``restaurant_name``, ``category``, ``area``, ``helpful_count`` optional; common aliases accepted,
  or a mapping from ``sources.yaml`` (:mod:`.sources`).

Reading and validating are split: :func:`read_parts` turns a file into :class:`Part` s (raw
column values, one Python pass over the records), :func:`validate_parts` checks the rows of any
number of parts at once with column operations. Nothing is dropped silently: a row that does not
become a review becomes a rejection with the file, the row/line number, the raw content
(truncated) and a reason; an optional field that cannot be read becomes NULL with a *warning*
row (``severity = 'warning'``), and the review is kept.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import html
import io
import json
import math
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .config import DEFAULT_MAX_TEXT_CHARS, REVIEW_ID_PATTERN, partition_key_for
from .sources import SourceSpec

SUPPORTED_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
RAW_PREVIEW_CHARS = 500
#: largest file, or largest decompressed content of a .gz / .zip (a zip bomb stops here)
MAX_FILE_BYTES = 512 * 1024 * 1024
MAX_ZIP_MEMBERS = 1000
DELIMITERS = (",", ";", "|", "\t")
#: CSVs at least this long go through pyarrow's reader first (well-formed ones; the others fall back to the
#: line-by-line reader, whose line numbers are exact)
FAST_CSV_MIN_CHARS = 0

REQUIRED_COLUMNS = ("review_id", "restaurant_id", "text")
OPTIONAL_COLUMNS = ("rating", "created_at", "restaurant_name", "category", "area", "helpful_count")
CANONICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
#: ``restaurant_id`` is the partition key derived from ``source_restaurant_id`` (config.partition_key_for)
REVIEW_COLUMNS = CANONICAL_COLUMNS + ("source_restaurant_id", "source_file", "source_row", "content_hash")
REJECT_COLUMNS = ("source_file", "source_row", "review_id", "restaurant_id", "severity", "reason", "raw")
REJECTED, WARNING = "rejected", "warning"

ALIASES: dict[str, tuple[str, ...]] = {
    "review_id": ("id", "reviewid", "review_no", "review_key", "리뷰id", "리뷰번호"),
    "restaurant_id": (
        "restaurantid",
        "store_id",
        "storeid",
        "shop_id",
        "place_id",
        "business_id",
        "restaurant",
        "가게id",
        "매장id",
        "식당id",
    ),
    "text": ("review", "review_text", "content", "comment", "body", "리뷰", "내용", "후기"),
    "rating": ("stars", "star", "score", "star_rating", "rate", "별점", "평점"),
    "created_at": ("date", "created", "timestamp", "time", "written_at", "작성일", "날짜"),
    "restaurant_name": ("name", "store_name", "shop_name", "place_name", "상호", "상호명", "가게명", "식당명"),
    "category": ("cuisine", "type", "카테고리", "업종", "분류"),
    "area": ("region", "location", "district", "neighborhood", "지역", "동네"),
    "helpful_count": ("helpful", "likes", "like_count", "useful", "upvotes", "도움", "좋아요"),
}
_ALIAS_TO_CANONICAL = {c: c for c in CANONICAL_COLUMNS}
for _canon, _names in ALIASES.items():
    for _n in _names:
        _ALIAS_TO_CANONICAL[_n] = _canon


@dataclass(frozen=True)
class Rejection:
    source_file: str
    source_row: int  # 1-based data row (CSV line of the record, JSONL line, Parquet row); 0 = whole file
    reason: str
    raw: str
    review_id: str | None = None
    restaurant_id: str | None = None
    severity: str = REJECTED  # or WARNING: the review was kept, the field named in the reason is NULL


@dataclass
class Part:
    """One table read from a file (the file itself, or one member of a .zip): raw values per
    canonical column, before validation."""

    source_file: str
    file: str = ""  # the file on disk it came from (relative name), when staged
    columns: dict[str, list] = field(default_factory=dict)
    source_rows: list[int] = field(default_factory=list)
    raws: list = field(default_factory=list)  # what a rejection shows of each row (or raw_of)
    raw_of: Callable[[int], str] | None = None
    delimiter: str = ","
    rejections: list[Rejection] = field(default_factory=list)
    encoding: str | None = None
    fatal: str | None = None
    source: str = "auto"  # the sources.yaml entry, or "auto" (aliases)
    as_of: pd.Timestamp | None = None
    rating_scale: float = 5.0
    date_format: str | None = None
    defaults: dict = field(default_factory=dict)  # restaurant_name / category / area when the file has none
    bad_types: dict[str, list[int]] = field(default_factory=dict)  # column -> rows holding a list/object

    def __len__(self) -> int:
        return len(self.source_rows)

    def raw(self, i: int) -> str:
        if self.raw_of is not None:
            return preview(self.raw_of(i))
        raw = self.raws[i]
        return preview(self.delimiter.join(raw) if isinstance(raw, list) else raw)


@dataclass
class FileResult:
    """What one file produced: accepted rows (canonical columns, a DataFrame) and rejections."""

    source_file: str
    rows: pd.DataFrame
    rejections: list[Rejection]
    encoding: str | None = None
    fatal: str | None = None

    @property
    def errors(self) -> list[Rejection]:
        return [r for r in self.rejections if r.severity == REJECTED]

    @property
    def warnings(self) -> list[Rejection]:
        return [r for r in self.rejections if r.severity == WARNING]


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):  # line breaks become spaces
        if tag in {"br", "p", "div", "li"}:
            self.parts.append(" ")


_TAG_HINT = re.compile(r"<\s*/?\s*[A-Za-z][^>]*>")
_SIMPLE_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^<>\"']*)?/?>")
_BREAKS = {"br", "p", "div", "li"}


def _tag_space(m: re.Match) -> str:
    """A line-breaking start tag becomes a space (as _TextExtractor does), any other tag nothing."""
    return " " if not m.group(1) and m.group(2).lower() in _BREAKS else ""


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Strip HTML tags and entities, drop control characters, NFC-normalize, fold whitespace.

    Emoji and every other printable character are kept.
    """
    text = value
    if "<" in text and text.count("<") == len(_SIMPLE_TAG.findall(text)):
        # every '<' opens a plain tag: what the parser below does, without it (5x faster)
        text = html.unescape(html.unescape(_SIMPLE_TAG.sub(_tag_space, text)))
    elif "&" in text and "<" not in text:  # entities only: likewise
        text = html.unescape(html.unescape(text))
    elif ("<" in text and _TAG_HINT.search(text)) or "&" in text:
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = html.unescape("".join(parser.parts))
    text = " ".join(_CONTROL.sub(" ", text).split())  # str.split() folds what re's \s matches
    return text if unicodedata.is_normalized("NFC", text) else unicodedata.normalize("NFC", text)


def preview(raw) -> str:
    if isinstance(raw, (dict, list)):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    text = str(raw)
    return (
        text
        if len(text) <= RAW_PREVIEW_CHARS
        else text[:RAW_PREVIEW_CHARS] + f"… (+{len(text) - RAW_PREVIEW_CHARS} chars)"
    )


def canonical_column(name: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lstrip("\ufeff").lower())
    return _ALIAS_TO_CANONICAL.get(key) or _ALIAS_TO_CANONICAL.get(key.replace("_", ""))


def map_columns(columns: Iterable[str], spec: SourceSpec | None = None) -> tuple[dict[str, str], list[str]]:
    """Map source column names to canonical ones: the ``sources.yaml`` entry's mapping first,
    then aliases for the rest. Returns (source -> canonical, missing required canonical names).
    Raises ValueError when the entry names a column the file does not have."""
    columns = [str(c) for c in columns]
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    if spec is not None:
        for canon, col in spec.columns.items():
            if col not in columns:
                raise ValueError(
                    f"sources.yaml entry {spec.name!r} maps {canon} to column {col!r}, which the "
                    f"file does not have; columns: {columns[:20]}"
                )
            mapping[col] = canon
            taken.add(canon)
        for col in (spec.review_id_from or []) + (spec.restaurant_id_from or []):
            if col not in columns:
                raise ValueError(
                    f"sources.yaml entry {spec.name!r} derives an id from column {col!r}, which the "
                    f"file does not have; columns: {columns[:20]}"
                )
        taken.update(
            c for c, cols in (("review_id", spec.review_id_from), ("restaurant_id", spec.restaurant_id_from)) if cols
        )
    for col in columns:
        if col in mapping:
            continue
        canon = canonical_column(col)
        if canon and canon not in taken:
            mapping[col] = canon
            taken.add(canon)
    missing = [c for c in REQUIRED_COLUMNS if c not in taken]
    return mapping, missing


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes: BOMs, UTF-16 without BOM (NUL-byte pattern), UTF-8, CP949 (a superset of
    EUC-KR), then detection. Raises ``ValueError`` for binary data or an undetectable encoding.

    A few stray NUL or control bytes in a text file are the rows' problem (they are cleaned out of
    text, and an id holding one is rejected), not the file's."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16"), "utf-16"
    head = data[:65536]
    if head.count(0) > len(head) // 8:  # UTF-16 text of a Latin or Hangul header has NULs at one parity
        even, odd = head[0::2].count(0), head[1::2].count(0)
        for encoding, ok in (("utf-16-le", odd > 4 * even), ("utf-16-be", even > 4 * odd)):
            if ok:
                try:
                    return data.decode(encoding), encoding
                except UnicodeDecodeError:
                    break
        raise ValueError("binary content (NUL bytes): not a text file")
    text, encoding = None, None
    for candidate in ("utf-8", "cp949"):  # the common cases first, then detection
        try:
            text, encoding = data.decode(candidate), candidate
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None or best.encoding is None:
            raise ValueError("cannot detect the text encoding (tried utf-8, cp949, utf-16 and detection)")
        text, encoding = str(best), best.encoding
    sample = text[:65536]
    if sample and len(_CONTROL.findall(sample)) > max(8, len(sample) // 20):
        raise ValueError("binary content (control bytes): not a text file")
    return text, encoding


def file_sha256(path: Path) -> str:
    """Content hash of a file (sha256, hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- readers


def file_kind(name: str) -> tuple[str | None, str | None]:
    """(format, compression) of a file name: ``reviews.csv.gz`` -> (csv, gz), ``a.zip`` -> (None, zip)."""
    lower = name.lower()
    if lower.endswith(".zip"):
        return None, "zip"
    compression = None
    if lower.endswith(".gz"):
        compression, lower = "gz", lower[:-3]
    return SUPPORTED_SUFFIXES.get(Path(lower).suffix), compression


def sniff_delimiter(header_line: str) -> str:
    """The delimiter of a CSV: the candidate that splits the header into the most fields (a comma
    on ties). The header is what every export has, and it rarely holds quoted delimiters."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    best = max(counts.values())
    return "," if counts[","] == best else max(counts, key=counts.get)


def _read_limited(fh, limit: int, what: str) -> bytes:
    data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{what} exceeds {limit} bytes once decompressed")
    return data


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


def _arrow_header(raw_header: list[str]) -> list[str] | None:
    """The column names of a pyarrow-read CSV, or None when the exact reader must decide (no name at
    all, or a name twice: the exact reader keeps the first)."""
    header = [h.strip().lstrip("\ufeff") for h in raw_header]
    return header if any(header) and len(set(header)) == len(header) else None


def _fill_from_arrow(part: Part, header: list[str], columns: list, delimiter: str, spec: SourceSpec | None) -> None:
    """A part's columns from pyarrow arrays of a CSV with one record per line (line 1 the header);
    raises ValueError when a required column is missing."""
    mapping = _mapping_or_fail(header, spec)
    by_name = dict(zip(header, columns))
    part.source_rows = list(range(2, len(columns[0]) + 2))
    part.raw_of = lambda j: delimiter.join(str(c[j].as_py()) for c in columns)
    for col, canon in mapping.items():
        part.columns[canon] = by_name[col]
    _derive_ids(part, spec, lambda c: by_name[c].to_pylist())


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
    header = _arrow_header(table.column_names)
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
                    preview(delimiter.join(fields)),
                )
            )
            continue
        append_row(fields)
        append_no(line)
        append_raw(fields)
    part.delimiter = delimiter  # the fields of a row are joined only when it is rejected
    return header, rows


def _read_csv(part: Part, data: bytes, text: str, spec: SourceSpec | None) -> None:
    delimiter = (spec.delimiter if spec else None) or sniff_delimiter(text.split("\n", 1)[0])
    utf8 = data[3:] if part.encoding == "utf-8-sig" else data if part.encoding == "utf-8" else None
    fast = _csv_fast(text, utf8, delimiter) if len(text) >= FAST_CSV_MIN_CHARS else None
    if fast is not None:
        _fill_from_arrow(part, *fast, delimiter, spec)
        return
    header, rows = _csv_part(part, text, delimiter)
    mapping = _mapping_or_fail(header, spec)
    index = {h: i for i, h in enumerate(header)}
    for col, canon in mapping.items():
        i = index[col]
        part.columns[canon] = [r[i] for r in rows]
    _derive_ids(part, spec, lambda c: [r[index[c]] for r in rows])


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
                Rejection(part.source_file, lineno, f"invalid JSON: {exc.msg} at column {exc.colno}", preview(line))
            )
            continue
        if not isinstance(obj, dict):
            part.rejections.append(
                Rejection(
                    part.source_file, lineno, f"JSON line is a {type(obj).__name__}, expected an object", preview(line)
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
        mapping = _mapping_or_fail(header, spec)
        part.source_rows = list(range(1, len(df) + 1))
        part.raws = df.to_dict(orient="records")
        _text_columns(part, mapping, lambda c: df[c].astype(object).tolist())
        _derive_ids(part, spec, lambda c: [as_text(v)[0] for v in df[c].astype(object).tolist()])
        return
    text, part.encoding = decode_bytes(data)
    if not text.strip():
        raise ValueError("file has no content (only whitespace)")
    if kind == "csv":
        _read_csv(part, data, text, spec)
        return
    header, objs = _jsonl_part(part, text)
    if not objs:
        return
    mapping = _mapping_or_fail(header, spec)
    _text_columns(part, mapping, lambda c: [o.get(c) for o in objs])
    _derive_ids(part, spec, lambda c: [as_text(o.get(c))[0] for o in objs])


def _text_columns(part: Part, mapping: dict[str, str], values) -> None:
    """Typed values (JSON, Parquet) -> text as a CSV holds it, remembering wrong types."""
    for col, canon in mapping.items():
        texts, bad = [], []
        for i, v in enumerate(values(col)):
            t, wrong = as_text(v)
            texts.append(t)
            if wrong:
                bad.append(i)
        part.columns[canon] = texts
        if bad:
            part.bad_types[canon] = bad


def _mapping_or_fail(header: list[str], spec: SourceSpec | None) -> dict[str, str]:
    mapping, missing = map_columns(header, spec)
    if missing:
        hint = "" if spec else " (map them in sources.yaml: see README 'Source mappings')"
        raise ValueError(f"missing required column(s) {missing}; found {header[:20]}{hint}")
    return mapping


def derived_review_id(values: Iterable) -> str:
    """A review id for exports that carry none: ``h`` + 16 hex of the sha256 of the named columns."""
    payload = "\x1f".join("" if v is None else str(v).strip() for v in values)
    return "h" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def _derive_ids(part: Part, spec: SourceSpec | None, column) -> None:
    if spec is None:
        return
    if spec.review_id_from:
        cols = [column(c) for c in spec.review_id_from]
        part.columns["review_id"] = [derived_review_id(vals) for vals in zip(*cols)] if cols[0] else []
    if spec.restaurant_id_from:
        cols = [column(c) for c in spec.restaurant_id_from]
        part.columns["restaurant_id"] = (
            [" ".join(s for s in ("" if v is None else str(v).strip() for v in vals) if s) for vals in zip(*cols)]
            if cols[0]
            else []
        )


def _table_bytes(path: Path, compression: str | None) -> list[tuple[str, str | None, bytes]]:
    """(member name or '', kind, bytes) of each table in a file; raises ValueError if unusable."""
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    if compression == "gz":
        try:
            with gzip.open(path, "rb") as fh:
                data = _read_limited(fh, MAX_FILE_BYTES, "the .gz content")
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"unreadable .gz file: {exc}") from None
        if not data:
            raise ValueError("empty file (inside the .gz)")
        return [("", file_kind(path.name)[0], data)]
    if compression == "zip":
        try:
            zf = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ValueError(f"unreadable .zip file: {exc}") from None
        with zf:
            members = [m for m in zf.infolist() if not m.is_dir() and not Path(m.filename).name.startswith((".", "__"))]
            if len(members) > MAX_ZIP_MEMBERS:
                raise ValueError(f"zip holds {len(members)} files (> {MAX_ZIP_MEMBERS})")
            declared = sum(m.file_size for m in members)
            if declared > MAX_FILE_BYTES:
                raise ValueError(f"zip content is {declared} bytes once decompressed (> {MAX_FILE_BYTES})")
            out, budget = [], MAX_FILE_BYTES
            for m in members:
                try:
                    with zf.open(m) as fh:
                        data = _read_limited(fh, budget, "the .zip content")
                except (zipfile.BadZipFile, OSError, NotImplementedError, RuntimeError) as exc:
                    raise ValueError(f"unreadable member {m.filename!r} of the .zip: {exc}") from None
                budget -= len(data)
                out.append((m.filename, file_kind(m.filename)[0], data))
            if not out:
                raise ValueError("the .zip holds no file")
            return out
    return [("", file_kind(path.name)[0], path.read_bytes())]


def _part_for(name: str, spec: SourceSpec | None, as_of: pd.Timestamp) -> Part:
    return Part(
        name,
        source=spec.name if spec else "auto",
        as_of=as_of,
        rating_scale=float(spec.rating_scale) if spec else 5.0,
        date_format=spec.date_format if spec else None,
        defaults=spec.defaults.model_dump(exclude_none=True) if spec else {},
    )


def _as_of(path: Path, spec: SourceSpec | None) -> pd.Timestamp:
    """What relative dates count back from: the source's ``as_of``, else the file's modification time."""
    when = pd.Timestamp(spec.as_of) if spec and spec.as_of is not None else pd.Timestamp(path.stat().st_mtime, unit="s")
    return when.tz_localize("UTC") if when.tzinfo is None else when


#: CSVs up to this size that share a header line are parsed in one pyarrow call (per-file overhead)
BATCH_CSV_BYTES = 1 << 20


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
        member = _batchable(Path(path), spec)
        if member is None:
            out[i] = read_parts(*items[i])
            continue
        key, data, body, n, encoding = member
        read[i] = data
        groups.setdefault(key, []).append((i, body, n, encoding))
    for (header_line, delimiter, _), members in groups.items():
        raw_header = next(csv.reader([header_line], delimiter=delimiter), [])
        header = _arrow_header(raw_header)
        for batch, table in _parse_batches(members, header_line, delimiter, raw_header):
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
                    _fill_from_arrow(
                        part, header, [c.slice(offset, n).combine_chunks() for c in table.columns], delimiter, spec
                    )
                    out[i] = [part]
                except ValueError:  # a required column missing: quarantined as read alone
                    out[i] = alone(i)
                offset += n
    if progress:
        progress(f"staging: read {len(items)}/{len(items)} file(s), {sum(len(p) for g in out for p in g):,} rows")
    return out


def _parse_batches(members: list, header_line: str, delimiter: str, raw_header: list[str]):
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
    yield from _parse_batches(members[:half], header_line, delimiter, raw_header)
    yield from _parse_batches(members[half:], header_line, delimiter, raw_header)


def _batchable(path: Path, spec: SourceSpec | None):
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
            rejections=[Rejection(name, 0, reason, preview(raw))],
            fatal=reason,
            source=spec.name if spec else "auto",
        )

    if kind is None and compression != "zip":
        suffixes = sorted(SUPPORTED_SUFFIXES) + [s + ".gz" for s in sorted(SUPPORTED_SUFFIXES)] + [".zip"]
        return [
            failed(source, f"unsupported file type {''.join(path.suffixes) or '(none)'!r}; expected one of {suffixes}")
        ]
    try:
        tables = tables if tables is not None else _table_bytes(path, compression)
    except (ValueError, OSError) as exc:
        return [failed(source, str(exc), _head_bytes(path))]
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


def _head_bytes(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(200).decode("utf-8", errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- validation


def _as_str(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def as_text(value) -> tuple[str | None, bool]:
    """A JSON / Parquet value as the text a CSV would hold: (text or None when missing, wrong type).
    Lists and objects are a wrong type; booleans are kept as text (``True``) and refused where a
    number is expected."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, False
    if isinstance(value, str):
        return value, False
    if isinstance(value, (list, dict, tuple, bytes)):
        return None, True
    try:
        if pd.isna(value):
            return None, False
    except (TypeError, ValueError):
        return None, True
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, (pd.Timestamp, np.datetime64)):
        return pd.Timestamp(value).isoformat(), False
    return _as_str(value), False


_STARS = re.compile(r"^\s*([★☆]+)\s*$")
_POINTS = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:점|stars?)?\s*(?:/\s*(5|10|100))?\s*$", re.IGNORECASE)
_KO_DATE = re.compile(r"^\s*(\d{2}|\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?(.*)$")
_DOT_DATE = re.compile(r"^\s*(\d{2}|\d{4})[./](\d{1,2})[./](\d{1,2})\.?(\s.*)?$")


def parse_rating(value, scale: float = 5.0) -> float:
    """A star rating as Korean exports write it: ``4``, ``4.5``, ``4,5``, ``4점``, ``★★★★☆`` (full stars
    counted), ``4/5``, ``8/10`` and ``80/100`` (scaled to 1-5). A bare number is on the source's
    ``scale`` (5 by default; 10 or 100 for sources that declare it). Raises ValueError otherwise."""
    if isinstance(value, bool) or str(value).strip() in ("True", "False"):
        raise ValueError("a boolean is not a rating")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and math.isnan(value):
            raise ValueError("NaN is not a rating")
        return float(value) * 5.0 / scale
    text = str(value)
    stars = _STARS.match(text)
    if stars:
        return float(stars.group(1).count("★"))
    m = _POINTS.match(text)
    if not m:
        raise ValueError(f"not a rating: {text[:40]!r}")
    number = float(m.group(1).replace(",", "."))
    return number * 5.0 / float(m.group(2) or scale)


_KO_COUNT = {"한": 1, "두": 2, "세": 3, "네": 4, "다섯": 5, "여섯": 6, "일곱": 7, "여덟": 8, "아홉": 9, "열": 10}
_EN_COUNT = {"a": 1, "an": 1, "one": 1}
_RELATIVE = re.compile(r"^\s*(\d+|" + "|".join(_KO_COUNT) + r")\s*(초|분|시간|일|주일|주|달|개월|년)\s*전\s*$")
_RELATIVE_EN = re.compile(r"^\s*(\d+|a|an|one)\s+(second|minute|hour|day|week|month|year)s?\s+ago\s*$", re.IGNORECASE)
#: whole days back; resolved to the start of that day (a word names a day, not an instant)
_RELATIVE_WORDS = {
    "방금": 0,
    "방금 전": 0,
    "오늘": 0,
    "어제": 1,
    "그제": 2,
    "그저께": 2,
    "엊그제": 2,
    "이틀 전": 2,
    "사흘 전": 3,
    "일주일 전": 7,
    "지난주": 7,
    "지난 주": 7,
    "한달 전": 30,
    "지난달": 30,
    "지난 달": 30,
    "작년": 365,
    "just now": 0,
    "today": 0,
    "yesterday": 1,
    "last week": 7,
    "last month": 30,
    "last year": 365,
}
#: a month is 30 days and a year 365 (README "Data contract")
_UNIT_DAYS = {
    "초": 1 / 86400,
    "분": 1 / 1440,
    "시간": 1 / 24,
    "일": 1,
    "주일": 7,
    "주": 7,
    "달": 30,
    "개월": 30,
    "년": 365,
}
_UNIT_DAYS_EN = {"second": 1 / 86400, "minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


def _relative_days(text: str) -> tuple[float, bool] | None:
    """(days back, names a whole day) of a relative date ("3일 전", "한 달 전", "2 weeks ago",
    "어제"), else None."""
    t = " ".join(text.split())
    if t.lower() in _RELATIVE_WORDS:
        return _RELATIVE_WORDS[t.lower()], True
    m = _RELATIVE.match(t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _KO_COUNT[m.group(1)]
        return n * _UNIT_DAYS[m.group(2)], False
    m = _RELATIVE_EN.match(t)
    if m:
        n = int(m.group(1)) if m.group(1).isdigit() else _EN_COUNT[m.group(1).lower()]
        return n * _UNIT_DAYS_EN[m.group(2).lower()], False
    return None


def normalize_date(text: str, as_of: pd.Timestamp | None = None) -> str:
    """Korean date notations to ISO before parsing: ``2021년 7월 3일`` and ``2021.07.03`` /
    ``21.07.03.`` (two-digit years are 20xx) -> ``2021-07-03`` (a time after them is kept).
    Relative dates as delivery apps show them ("방금", "어제", "3일 전", "2시간 전", "일주일 전",
    "2주 전", "한 달 전" / "1개월 전" = 30 days, "작년" / "1년 전" = 365 days, "3 days ago") are
    resolved against ``as_of`` (the file's modification time when read from a file); without
    ``as_of`` they stay as they are. Other text is returned as it is."""
    if as_of is not None:
        rel = _relative_days(text)
        if rel is not None:
            days, whole_day = rel
            when = as_of - pd.Timedelta(days=days)
            return (when.normalize() if whole_day and days else when).isoformat()
    for rx in (_KO_DATE, _DOT_DATE):
        m = rx.match(text)
        if m:
            year = int(m.group(1)) + (2000 if len(m.group(1)) == 2 else 0)
            rest = (m.group(4) or "").strip()
            return f"{year:04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" + (f" {rest}" if rest else "")
    return text


def is_relative_date(text: str) -> bool:
    return _relative_days(text) is not None


def parse_dates(items: list[tuple[str, pd.Timestamp | None, str | None]]) -> list[pd.Timestamp | None]:
    """Dates written in any notation of :func:`normalize_date` (or a source's ``date_format``):
    (text, as_of, format) -> naive UTC, or None when it is not a date. Each distinct text is
    normalized once (``as_of`` only matters to relative dates) and parsed in one batch per format."""
    keys = [(v, as_of if is_relative_date(v) else None, f) for v, as_of, f in items]
    distinct = list(dict.fromkeys(keys))
    parsed: dict = {}
    for f in {k[2] for k in distinct}:
        group = [k for k in distinct if k[2] == f]
        texts = [k[0].strip() if f else normalize_date(k[0], k[1]) for k in group]
        try:
            got = pd.to_datetime(pd.Series(texts, dtype=object), format=f or "mixed", utc=True, errors="coerce")
        except (ValueError, OverflowError):  # a batch the vectorized parser refuses: one by one
            got = pd.Series([_one_date(t, f) for t in texts], dtype="datetime64[ns, UTC]")
        for k, ts in zip(group, got):
            parsed[k] = None if pd.isna(ts) else ts.tz_convert(None)
    return [parsed[k] for k in keys]


def _one_date(text: str, date_format: str | None):
    try:
        return pd.to_datetime(text, format=date_format or "mixed", utc=True)
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return pd.NaT


# Python's str.isspace() set and the control characters clean_text replaces, for RE2 (pyarrow)
_WS = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f} \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]"
_CTRL = r"[\x{00}-\x{08}\x{0b}\x{0c}\x{0e}-\x{1f}\x{7f}]"


def strip_texts(arr: pa.Array) -> pa.Array:
    """``str.strip()`` over a string column (Unicode white space)."""
    return pc.utf8_trim_whitespace(arr)


# whitespace other than a single inner space: the rows whose whitespace needs folding
_WS_TO_FOLD = r"[\t\n\x{0b}\x{0c}\r\x{1c}-\x{1f}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]|  |^ | $"
# rows made only of characters that are NFC whatever follows or precedes them (checked against
# unicodedata: combining class 0, never the second half of a composition): ASCII, Latin-1,
# punctuation, CJK symbols (not the tone marks U+302A-302F), Hangul compatibility jamo and
# syllables, CJK ideographs, fullwidth forms, emoji. Korean reviews need no normalization pass.
_NFC_STABLE = (
    r"^[\x{20}-\x{7e}\x{a0}-\x{ff}\x{2010}-\x{2027}\x{3000}-\x{3029}\x{3030}-\x{303f}\x{3130}-\x{318f}"
    r"\x{ac00}-\x{d7a3}\x{4e00}-\x{9fff}\x{ff01}-\x{ff60}\x{1f300}-\x{1faff}]*$"
)


def _where(arr: pa.Array, mask: pa.Array, fn) -> pa.Array:
    """``fn`` applied to the rows of ``mask`` only (a column operation on a few rows is cheap)."""
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return arr
    return pc.replace_with_mask(arr, mask, fn(arr.filter(mask)))


def clean_texts(arr: pa.Array) -> pa.Array:
    """:func:`clean_text` over a string column: column operations on the rows that need each step,
    and Python only for the rows with markup (``<`` or ``&``)."""
    out = _where(arr, pc.match_substring_regex(arr, _CTRL), lambda a: pc.replace_substring_regex(a, _CTRL, " "))
    out = _where(
        out,
        pc.match_substring_regex(out, _WS_TO_FOLD),
        lambda a: pc.utf8_trim(pc.replace_substring_regex(a, f"{_WS}+", " "), " "),
    )
    out = _where(out, pc.invert(pc.match_substring_regex(out, _NFC_STABLE)), lambda a: pc.utf8_normalize(a, "NFC"))
    markup = pc.fill_null(pc.match_substring_regex(arr, "[<&]"), False)
    if pc.any(markup).as_py():
        fixed = [clean_text(v) for v in arr.filter(markup).to_pylist()]
        out = pc.replace_with_mask(out, markup, pa.array(fixed, pa.string()))
    return out


def _clean_labels(arr: pa.Array, limit: int = 200) -> pa.Array:
    """Cleaned (``clean_text``, at most ``limit`` characters, empty -> NULL) by distinct value:
    names, categories and areas repeat on every row of a restaurant."""
    enc = pc.dictionary_encode(arr)
    values = [None if v is None else (clean_text(v)[:limit] or None) for v in enc.dictionary.to_pylist()]
    return pc.take(pa.array(values, pa.string()), enc.indices)


@dataclass
class Validated:
    reviews: pa.Table  # REVIEW_COLUMNS + staged_file (content_hash included), one row per valid record
    rejections: pd.DataFrame  # REJECT_COLUMNS + staged_file: rejected rows and warnings


def _gather(parts: list[Part], name: str) -> pa.Array:
    """One string column over every part (parts hold Python lists or pyarrow arrays)."""
    chunks, values = [], []
    for p in parts:
        col = p.columns.get(name)
        if isinstance(col, pa.Array):
            if values:
                chunks.append(pa.array(values, pa.string()))
                values = []
            chunks.append(col)
        else:
            values.extend(col if col is not None else [None] * len(p))
    if values or not chunks:
        chunks.append(pa.array(values, pa.string()))
    return pa.concat_arrays(chunks) if len(chunks) > 1 else chunks[0]


def _bad_types(parts: list[Part], name: str) -> np.ndarray:
    out, offset = [], 0
    for p in parts:
        out.extend(offset + i for i in p.bad_types.get(name, ()))
        offset += len(p)
    return np.asarray(out, dtype=np.int64)


def _distinct(*columns) -> tuple[np.ndarray, list[int]]:
    """Group rows by the values of ``columns``: (group code per row, first row of each group)."""
    frame = pd.DataFrame(
        {f"c{i}": pd.Series(c, dtype=object if isinstance(c, list) else None) for i, c in enumerate(columns)}
    )
    codes = frame.groupby(list(frame.columns), sort=False, dropna=False).ngroup().to_numpy()
    first = pd.Series(np.arange(len(codes))).groupby(codes, sort=True).first().tolist()
    return codes, first


def _np(arr: pa.Array, fill=False) -> np.ndarray:
    return pc.fill_null(arr, fill).to_numpy(zero_copy_only=False)


def validate_parts(parts: list[Part], max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> Validated:
    """Validate the rows of every part with column operations (pyarrow compute); Python runs per
    *distinct* value for ids, names, and dates or ratings written in words, and per row only for
    text with markup and for the rows that are rejected or warned about."""
    n = sum(len(p) for p in parts)
    part_of = (
        np.repeat(np.arange(len(parts), dtype=np.int64), [len(p) for p in parts]) if parts else np.zeros(0, np.int64)
    )
    reason = np.full(n, None, dtype=object)
    warnings: list[tuple[int, str]] = []

    def reject(mask: np.ndarray, why) -> None:
        mask = mask & pd.isna(reason)
        if mask.any():
            reason[mask] = why if isinstance(why, str) else np.asarray(why, dtype=object)[mask]

    def column(name: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """(stripped values, missing mask, wrong-type mask) of a canonical column."""
        stripped = strip_texts(_gather(parts, name))
        missing = _np(pc.equal(stripped, ""), True)
        bad = np.zeros(n, bool)
        bad[_bad_types(parts, name)] = True
        return stripped, missing & ~bad, bad

    # review_id
    review_id, miss, bad = column("review_id")
    reject(miss, "missing review_id")
    ok_id = _np(pc.match_substring_regex(review_id, REVIEW_ID_PATTERN.pattern))
    bad_id = ~miss & ~ok_id
    if bad_id.any():
        values = review_id.to_pylist()
        reject(
            bad_id,
            [
                f"invalid review_id {(values[i] or '')[:80]!r}: expected 1-128 of letters, digits, '_', '-', '.', ':'"
                if bad_id[i]
                else None
                for i in range(n)
            ],
        )

    # restaurant_id: any Unicode id; the partition key is derived from it (config.partition_key_for)
    raw_rid, miss, bad = column("restaurant_id")
    reject(miss | bad, "missing restaurant_id")
    enc = pc.dictionary_encode(raw_rid)
    distinct = [None if v is None else clean_text(v)[:200] or None for v in enc.dictionary.to_pylist()]
    source_rid = pc.take(pa.array(distinct, pa.string()), enc.indices)
    restaurant_id = pc.take(
        pa.array([None if v is None else partition_key_for(v) for v in distinct], pa.string()), enc.indices
    )
    reject(~miss & _np(pc.is_null(source_rid)), "restaurant_id is empty after cleaning")

    # text
    raw_text, miss, bad = column("text")
    reject(miss | bad, "missing or non-text review text")
    text = clean_texts(_gather(parts, "text"))
    lengths = _np(pc.utf8_length(text), 0)
    reject(~miss & (lengths == 0), "empty review text after cleaning")
    too_long = lengths > max_text_chars
    if too_long.any():
        reject(too_long, [f"review text too long ({int(k)} chars > {max_text_chars})" for k in lengths])

    scale = np.array([p.rating_scale for p in parts], dtype=float)[part_of] if parts else np.zeros(0)

    # rating (optional): numbers on the source's scale, Korean notations by distinct value
    raw_rating, miss, bad = column("rating")
    numeric = pd.to_numeric(pd.Series(raw_rating.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
    plain = ~miss & ~bad & np.isfinite(numeric)
    rating = np.where(plain, numeric * 5.0 / np.where(scale > 0, scale, 5.0), np.nan)
    rest = np.flatnonzero(~miss & ~plain)
    if rest.size:
        values = raw_rating.take(pa.array(rest)).to_pylist()
        codes, first = _distinct(values, scale[rest], bad[rest])
        read = []
        for j in first:
            try:
                read.append(None if bad[rest[j]] else parse_rating(values[j], scale[rest[j]]))
            except (ValueError, TypeError):
                read.append(None)
        got = np.array([np.nan if v is None else v for v in read], dtype=float)[codes]
        rating[rest] = got
        for i, v, g in zip(rest, values, got):
            if np.isnan(g):
                warnings.append((i, f"rating {str(v)[:40]!r} is not a rating: kept the review, rating set to NULL"))
    out_of_range = ~np.isnan(rating) & ((rating < 1.0) | (rating > 5.0))
    if out_of_range.any():
        values = raw_rating.to_pylist()
        for i in np.flatnonzero(out_of_range):
            warnings.append(
                (
                    i,
                    f"rating {str(values[i])[:40]!r} is out of range 1-5 (scale {scale[i]:g}): "
                    "kept the review, rating set to NULL",
                )
            )
        rating[out_of_range] = np.nan

    # created_at (optional): ISO dates in one vectorized pass, the rest by distinct value
    raw_date, miss, bad = column("created_at")
    fmt = np.array([p.date_format or "" for p in parts], dtype=object)[part_of] if parts else np.zeros(0, object)
    series = pd.Series(raw_date.to_numpy(zero_copy_only=False), dtype=object)
    created = pd.Series(pd.NaT, index=series.index, dtype="datetime64[us]")
    for f in set(fmt.tolist()):
        sel = ~miss & ~bad & (fmt == f)
        if sel.any():
            got = pd.to_datetime(series[sel], format=f or "ISO8601", utc=True, errors="coerce")
            created[sel] = got.dt.tz_convert(None).astype("datetime64[us]")
    rest = np.flatnonzero(~miss & ~bad & created.isna().to_numpy())
    if rest.size:
        values = series.iloc[rest].tolist()
        vcodes, vuniq = pd.factorize(pd.Series(values, dtype=object))
        relative = np.array([is_relative_date(u) for u in vuniq], dtype=bool)
        # as_of (the part's) only matters to relative dates
        codes, first = _distinct(vcodes, np.where(relative[vcodes], part_of[rest], -1), fmt[rest])
        found = parse_dates([(values[j], parts[part_of[rest[j]]].as_of, fmt[rest[j]] or None) for j in first])
        stamps = np.array(
            [np.datetime64("NaT") if ts is None else ts.to_datetime64() for ts in found], dtype="datetime64[us]"
        )[codes]
        for i, v, ts in zip(rest, values, stamps):
            if np.isnat(ts):
                warnings.append(
                    (i, f"created_at {str(v)[:40]!r} is not a date: kept the review, created_at set to NULL")
                )
        filled = created.to_numpy().copy()
        filled[rest] = stamps
        created = pd.Series(filled, dtype="datetime64[us]")
    for i in np.flatnonzero(bad):
        warnings.append((i, "created_at is a list or an object, not a date: kept the review, created_at set to NULL"))

    # helpful_count (optional): a non-negative integer, else 0 with a warning
    raw_helpful, miss, bad = column("helpful_count")
    hv = pd.to_numeric(pd.Series(raw_helpful.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
    wrong = ~miss & (bad | ~np.isfinite(hv) | (np.nan_to_num(hv) < 0) | (np.nan_to_num(hv) % 1 != 0))
    if wrong.any():
        values = raw_helpful.to_pylist()
        for i in np.flatnonzero(wrong):
            warnings.append(
                (
                    i,
                    f"helpful_count {str(values[i])[:40]!r} is not a non-negative integer: kept the "
                    "review, helpful_count set to 0",
                )
            )
    helpful = np.where(miss | wrong, 0, np.nan_to_num(hv)).astype("int64")

    labels = {}
    for col in ("restaurant_name", "category", "area"):
        cleaned = _clean_labels(_gather(parts, col))
        defaults = [p.defaults.get(col) for p in parts]
        if any(defaults):
            fill = pa.array([defaults[i] for i in part_of], pa.string())
            cleaned = pc.coalesce(cleaned, fill)
        labels[col] = cleaned

    source_file = (
        pa.array([p.source_file for p in parts], pa.string()).take(pa.array(part_of))
        if parts
        else pa.array([], pa.string())
    )
    file_of = [p.file or p.source_file for p in parts]
    staged_file = pa.array(file_of, pa.string()).take(pa.array(part_of)) if parts else pa.array([], pa.string())
    source_rows = pa.array([k for p in parts for k in p.source_rows], pa.int64())
    table = pa.table(
        {
            "review_id": review_id,
            "restaurant_id": restaurant_id,
            "text": text,
            "rating": pa.array(rating, pa.float64(), mask=np.isnan(rating)),
            "created_at": pa.array(created.to_numpy(), pa.timestamp("us"), mask=created.isna().to_numpy()),
            "restaurant_name": labels["restaurant_name"],
            "category": labels["category"],
            "area": labels["area"],
            "helpful_count": pa.array(helpful, pa.int64()),
            "source_restaurant_id": source_rid,
            "source_file": source_file,
            "source_row": source_rows,
        }
    )
    valid = pd.isna(reason).astype(bool)
    reviews = table.filter(pa.array(valid))
    reviews = reviews.append_column("content_hash", content_hashes(reviews)).append_column(
        "staged_file", staged_file.filter(pa.array(valid))
    )

    # rejected rows and warnings, with what the row held
    rows = [{**asdict(r), "staged_file": file_of[pi]} for pi, p in enumerate(parts) for r in p.rejections]
    flagged = sorted(set(np.flatnonzero(~valid).tolist()) | {i for i, _ in warnings if valid[i]})
    if flagged:
        starts = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        review_ids, key = review_id.to_pylist(), restaurant_id.to_pylist()
        files, numbers = source_file.to_pylist(), source_rows.to_pylist()

        def entry(i: int, severity: str, why: str) -> dict:
            pi = part_of[i]
            return {
                "source_file": files[i],
                "source_row": numbers[i],
                "reason": why,
                "raw": parts[pi].raw(int(i - starts[pi])),
                "review_id": (review_ids[i] or None) and review_ids[i][:128],
                "restaurant_id": key[i],
                "severity": severity,
                "staged_file": file_of[part_of[i]],
            }

        rows += [entry(i, REJECTED, reason[i]) for i in np.flatnonzero(~valid)]
        rows += [entry(i, WARNING, why) for i, why in warnings if valid[i]]
    return Validated(reviews, rejections_frame(rows, extra=("staged_file",)))


_HASH_SQL = """
select left(sha256(concat_ws(chr(31), review_id, restaurant_id, text, coalesce(rating::varchar, ''),
    coalesce(strftime(created_at, '%Y-%m-%dT%H:%M:%S.%f'), ''), coalesce(restaurant_name, ''),
    coalesce(category, ''), coalesce(area, ''), helpful_count::varchar)), 16) as content_hash
from reviews_in
"""


def content_hashes(reviews: pa.Table) -> pa.Array:
    """A short hash of each review's content columns: what the embedding stage compares to skip
    unchanged reviews (the same value for the same content, across files and re-runs)."""
    import duckdb

    con = duckdb.connect()
    try:
        con.register("reviews_in", reviews)
        # row order is kept: one scan of one registered table, no join or sort
        return con.sql(_HASH_SQL).to_arrow_table().column("content_hash").combine_chunks()
    finally:
        con.close()


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


# --------------------------------------------------------------------------- folder listing


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


def normalize_reviews_frame(df: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Fixed column order and dtypes, sorted by (restaurant_id, review_id): stable across re-runs."""
    df = df.reindex(columns=list(REVIEW_COLUMNS) + list(extra)).copy()
    for col in (
        "review_id",
        "restaurant_id",
        "text",
        "restaurant_name",
        "category",
        "area",
        "source_restaurant_id",
        "source_file",
        "content_hash",
    ):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce").astype("float64")
    df["created_at"] = pd.to_datetime(df["created_at"]).astype("datetime64[us]")
    df["helpful_count"] = pd.to_numeric(df["helpful_count"], errors="coerce").fillna(0).astype("int64")
    df["source_row"] = pd.to_numeric(df["source_row"], errors="coerce").fillna(0).astype("int64")
    return df.sort_values(["restaurant_id", "review_id"], kind="stable").reset_index(drop=True)


#: what `reviews` promises downstream (blocking checks): check name -> (description, failing rows)
REVIEW_CHECKS = {
    "reviews_text_not_empty": "Every review has non-empty text.",
    "reviews_unique_review_id": "review_id is unique within each restaurant.",
    "reviews_rating_in_range": "rating, where present, is within 1-5.",
}


def review_check_failures(reviews: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of ``reviews`` that break each of REVIEW_CHECKS (empty frames when all hold)."""
    text, rating = reviews["text"], reviews["rating"]
    ids = ["restaurant_id", "review_id"]
    return {
        "reviews_text_not_empty": reviews.loc[text.isna() | (text.astype(str).str.strip() == ""), ids],
        "reviews_unique_review_id": reviews.loc[reviews.duplicated(ids, keep=False), ids],
        "reviews_rating_in_range": reviews.loc[rating.notna() & ((rating < 1) | (rating > 5)), [*ids, "rating"]],
    }


def rejections_frame(rows: list[dict] | list[Rejection], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = [asdict(r) if isinstance(r, Rejection) else r for r in rows]
    columns = list(REJECT_COLUMNS) + list(extra)
    df = pd.DataFrame(rows, columns=columns).reindex(columns=columns)
    df["source_row"] = pd.to_numeric(df["source_row"]).astype("int64")
    df["severity"] = df["severity"].fillna(REJECTED)
    for col in ("source_file", "review_id", "restaurant_id", "severity", "reason", "raw"):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    return df.sort_values(["source_file", "source_row", "severity", "reason"], kind="stable").reset_index(drop=True)

"""Readers for dropped review files, validation and quarantine rows.

Contract (see README "Data contract"):
- formats: ``.csv``, ``.jsonl`` / ``.ndjson``, ``.parquet``;
- encodings: UTF-8 (with or without BOM), CP949 / EUC-KR (detected), others via charset detection;
- columns: ``review_id``, ``restaurant_id``, ``text`` required; ``rating`` (1-5), ``created_at``,
  ``restaurant_name``, ``category``, ``area``, ``helpful_count`` optional; common aliases accepted.

Nothing is dropped silently: every row that does not become a review becomes a
:class:`Rejection` with the file, the row/line number, the raw content (truncated) and a reason.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import math
import re
import unicodedata
from dataclasses import asdict, dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterable, Iterator

import pandas as pd

from .config import RESTAURANT_ID_PATTERN, REVIEW_ID_PATTERN

SUPPORTED_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet"}
RAW_PREVIEW_CHARS = 500
MAX_FILE_BYTES = 512 * 1024 * 1024

REQUIRED_COLUMNS = ("review_id", "restaurant_id", "text")
OPTIONAL_COLUMNS = ("rating", "created_at", "restaurant_name", "category", "area", "helpful_count")
REVIEW_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS + ("source_file", "source_row", "content_hash")
REJECT_COLUMNS = ("source_file", "row_number", "review_id", "restaurant_id", "reason", "raw")

ALIASES: dict[str, tuple[str, ...]] = {
    "review_id": ("id", "reviewid", "review_no", "review_key", "리뷰id", "리뷰번호"),
    "restaurant_id": (
        "restaurantid", "store_id", "storeid", "shop_id", "place_id", "business_id",
        "restaurant", "가게id", "매장id", "식당id",
    ),
    "text": ("review", "review_text", "content", "comment", "body", "리뷰", "내용", "후기"),
    "rating": ("stars", "star", "score", "star_rating", "rate", "별점", "평점"),
    "created_at": ("date", "created", "timestamp", "time", "written_at", "작성일", "날짜"),
    "restaurant_name": ("name", "store_name", "shop_name", "place_name", "상호", "상호명", "가게명", "식당명"),
    "category": ("cuisine", "type", "카테고리", "업종", "분류"),
    "area": ("region", "location", "district", "neighborhood", "지역", "동네"),
    "helpful_count": ("helpful", "likes", "like_count", "useful", "upvotes", "도움", "좋아요"),
}
_ALIAS_TO_CANONICAL = {c: c for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS}
for _canon, _names in ALIASES.items():
    for _n in _names:
        _ALIAS_TO_CANONICAL[_n] = _canon


@dataclass(frozen=True)
class Rejection:
    source_file: str
    row_number: int  # 1-based data row (CSV line of the record, JSONL line, Parquet row); 0 = whole file
    reason: str
    raw: str
    review_id: str | None = None
    restaurant_id: str | None = None


@dataclass
class FileResult:
    """What one file produced: accepted rows (canonical columns) and rejections."""

    source_file: str
    rows: list[dict]
    rejections: list[Rejection]
    encoding: str | None = None
    fatal: str | None = None  # set when the whole file was quarantined


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
_WS = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_text(value: str) -> str:
    """Strip HTML tags and entities, drop control characters, NFC-normalize, fold whitespace.

    Emoji and every other printable character are kept.
    """
    text = value
    if _TAG_HINT.search(text) or "&" in text:
        parser = _TextExtractor()
        parser.feed(text)
        parser.close()
        text = "".join(parser.parts)
        text = html.unescape(text)
    text = _CONTROL.sub(" ", text)
    text = unicodedata.normalize("NFC", text)
    return _WS.sub(" ", text).strip()


def _preview(raw) -> str:
    if isinstance(raw, (dict, list)):
        raw = json.dumps(raw, ensure_ascii=False, default=str)
    text = str(raw)
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + f"… (+{len(text) - RAW_PREVIEW_CHARS} chars)"


def canonical_column(name: str) -> str | None:
    key = re.sub(r"[\s\-]+", "_", str(name).strip().lstrip("\ufeff").lower())
    return _ALIAS_TO_CANONICAL.get(key) or _ALIAS_TO_CANONICAL.get(key.replace("_", ""))


def map_columns(columns: Iterable[str]) -> tuple[dict[str, str], list[str]]:
    """Map source column names to canonical ones. Returns (mapping, missing_required)."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for col in columns:
        canon = canonical_column(col)
        if canon and canon not in taken:
            mapping[col] = canon
            taken.add(canon)
    missing = [c for c in REQUIRED_COLUMNS if c not in taken]
    return mapping, missing


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (BOM or not), then CP949 (a superset of EUC-KR), then detection.

    Raises ``ValueError`` for binary data or an undetectable encoding.
    """
    if b"\x00" in data[:65536]:
        # UTF-16 text has NULs too; accept it only with a BOM.
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"
        raise ValueError("binary content (NUL bytes): not a text file")
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for encoding in ("utf-8", "cp949"):  # the common cases first, then detection
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise ValueError("cannot detect the text encoding (tried utf-8, cp949 and detection)")
    return str(best), best.encoding


def file_fingerprint(path: Path) -> str:
    """Content hash of a file (sha256, hex)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# --------------------------------------------------------------------------- readers


def _iter_csv(text: str, source: str, delimiter: str) -> Iterator[tuple[int, dict | None, str | None, str]]:
    """Yield (row_number, record or None, error or None, raw) for each data row of a CSV text."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise ValueError("empty file: no header row") from None
    except csv.Error as exc:
        raise ValueError(f"unreadable CSV header: {exc}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise ValueError("empty header row")
    yield 0, {"__header__": header}, None, ""
    while True:
        line = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, None, f"malformed CSV: {exc}", ""
            continue
        if not fields or all(f.strip() == "" for f in fields):
            continue  # blank line: nothing to keep
        raw = delimiter.join(fields)
        if len(fields) != len(header):
            yield line, None, f"expected {len(header)} fields, found {len(fields)}", raw
            continue
        yield line, dict(zip(header, fields)), None, raw


def _read_records(path: Path, kind: str) -> tuple[list[tuple[int, dict | None, str | None, str]], list[str], str | None]:
    """Return (records, columns, encoding) of a file; raise ValueError if the file is unusable."""
    size = path.stat().st_size
    if size == 0:
        raise ValueError("empty file")
    if size > MAX_FILE_BYTES:
        raise ValueError(f"file too large ({size} bytes > {MAX_FILE_BYTES})")
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise ValueError(f"unreadable Parquet file: {type(exc).__name__}: {exc}") from None
        df = table.to_pandas()
        columns = [str(c) for c in df.columns]
        records = [(i + 1, rec, None, "") for i, rec in enumerate(df.to_dict(orient="records"))]
        return records, columns, None
    text, encoding = decode_bytes(path.read_bytes())
    if not text.strip():
        raise ValueError("file has no content (only whitespace)")
    if kind == "csv":
        delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
        it = _iter_csv(text, path.name, delimiter)
        _, head, _, _ = next(it)
        columns = head["__header__"]
        return list(it), columns, encoding
    # JSONL
    records = []
    columns: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            records.append((lineno, None, f"invalid JSON: {exc.msg} at column {exc.colno}", line))
            continue
        if not isinstance(obj, dict):
            records.append((lineno, None, f"JSON line is a {type(obj).__name__}, expected an object", line))
            continue
        for k in obj:
            if k not in seen:
                seen.add(k)
                columns.append(str(k))
        records.append((lineno, obj, None, line))
    if not any(rec is not None for _, rec, _, _ in records):
        raise ValueError("no JSON object in the file")
    return records, columns, encoding


# --------------------------------------------------------------------------- validation


def _is_missing(value) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if value is pd.NaT or (not isinstance(value, (str, bytes, list, dict)) and pd.isna(value)):
            return True
    except (TypeError, ValueError):
        return False
    return isinstance(value, str) and value.strip() == ""


def _as_str(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


_STARS = re.compile(r"^\s*([★☆]+)\s*$")
_POINTS = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:점|stars?)?\s*(?:/\s*(5|10|100))?\s*$", re.IGNORECASE)
_KO_DATE = re.compile(r"^\s*(\d{2}|\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?(.*)$")
_DOT_DATE = re.compile(r"^\s*(\d{2}|\d{4})[./](\d{1,2})[./](\d{1,2})\.?(\s.*)?$")


def parse_rating(value) -> float:
    """A star rating as Korean exports write it: ``4``, ``4.5``, ``4,5``, ``4점``, ``★★★★☆`` (full stars
    counted), ``4/5``, ``8/10`` and ``80/100`` (scaled to 1-5). Raises ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a rating")
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    stars = _STARS.match(text)
    if stars:
        return float(stars.group(1).count("★"))
    m = _POINTS.match(text)
    if not m:
        raise ValueError(f"not a rating: {text[:40]!r}")
    number = float(m.group(1).replace(",", "."))
    return number * 5.0 / float(m.group(2)) if m.group(2) else number


_RELATIVE = re.compile(r"^\s*(\d+)\s*(초|분|시간|일|주|달|개월|년)\s*전\s*$")
_RELATIVE_WORDS = {"방금": 0, "방금 전": 0, "오늘": 0, "어제": 1, "그제": 2, "그저께": 2, "엊그제": 2}
_UNIT_DAYS = {"초": 1 / 86400, "분": 1 / 1440, "시간": 1 / 24, "일": 1, "주": 7, "달": 30, "개월": 30, "년": 365}


def normalize_date(text: str, as_of: pd.Timestamp | None = None) -> str:
    """Korean date notations to ISO before parsing: ``2021년 7월 3일`` and ``2021.07.03`` /
    ``21.07.03.`` (two-digit years are 20xx) -> ``2021-07-03`` (a time after them is kept).
    Relative dates as delivery apps show them ("방금", "어제", "3일 전", "2시간 전", "1개월 전" =
    30 days, "1년 전" = 365 days) are resolved against ``as_of`` (the file's modification time when
    read from a file); without ``as_of`` they stay as they are. Other text is returned as it is."""
    if as_of is not None:
        t = text.strip()
        days = _RELATIVE_WORDS.get(t)
        m = _RELATIVE.match(t)
        if m:
            days = int(m.group(1)) * _UNIT_DAYS[m.group(2)]
        if days is not None:
            when = as_of - pd.Timedelta(days=days)
            return (when.normalize() if t in _RELATIVE_WORDS and days else when).isoformat()
    for rx in (_KO_DATE, _DOT_DATE):
        m = rx.match(text)
        if m:
            year = int(m.group(1)) + (2000 if len(m.group(1)) == 2 else 0)
            rest = (m.group(4) or "").strip()
            return f"{year:04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}" + (f" {rest}" if rest else "")
    return text


def validate_record(rec: dict, max_text_chars: int,
                    as_of: pd.Timestamp | None = None) -> tuple[dict | None, str | None]:
    """Validate one record with canonical keys. Returns (clean row, None) or (None, reason).
    ``as_of``: the time relative dates ("3일 전") count back from."""
    out: dict = {}
    rid = rec.get("review_id")
    if _is_missing(rid):
        return None, "missing review_id"
    rid = _as_str(rid)
    if not REVIEW_ID_PATTERN.fullmatch(rid):
        return None, f"invalid review_id {rid[:80]!r}: expected 1-128 of letters, digits, '_', '-', '.', ':'"
    out["review_id"] = rid

    rest = rec.get("restaurant_id")
    if _is_missing(rest):
        return None, "missing restaurant_id"
    rest = _as_str(rest)
    if not RESTAURANT_ID_PATTERN.fullmatch(rest):
        return None, (
            f"invalid restaurant_id {rest[:80]!r}: expected 1-64 of letters, digits, '_', '-', '.' "
            "starting with a letter or digit"
        )
    out["restaurant_id"] = rest

    text = rec.get("text")
    if _is_missing(text) or not isinstance(text, (str, int, float)):
        return None, "missing or non-text review text"
    text = clean_text(str(text))
    if not text:
        return None, "empty review text after cleaning"
    if len(text) > max_text_chars:
        return None, f"review text too long ({len(text)} chars > {max_text_chars})"
    out["text"] = text

    rating = rec.get("rating")
    if _is_missing(rating):
        out["rating"] = None
    else:
        try:
            value = parse_rating(rating)
        except ValueError:
            return None, f"rating {str(rating)[:40]!r} is not a number"
        if math.isnan(value) or not 1.0 <= value <= 5.0:
            return None, f"rating {value:g} out of range 1-5"
        out["rating"] = value

    created = rec.get("created_at")
    if _is_missing(created):
        out["created_at"] = None
    else:
        try:
            ts = (pd.to_datetime(normalize_date(created, as_of), utc=True, format="mixed") if isinstance(created, str)
                  else pd.to_datetime(created, utc=True))
        except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
            return None, f"created_at {str(created)[:40]!r} is not a date"
        if pd.isna(ts):
            return None, f"created_at {str(created)[:40]!r} is not a date"
        out["created_at"] = ts.tz_convert(None)

    helpful = rec.get("helpful_count")
    if _is_missing(helpful):
        out["helpful_count"] = 0
    else:
        try:
            hv = float(str(helpful).strip())
        except ValueError:
            return None, f"helpful_count {str(helpful)[:40]!r} is not a number"
        if math.isnan(hv) or hv < 0 or not hv.is_integer():
            return None, f"helpful_count {hv:g} is not a non-negative integer"
        out["helpful_count"] = int(hv)

    for col in ("restaurant_name", "category", "area"):
        v = rec.get(col)
        out[col] = None if _is_missing(v) else clean_text(str(v))[:200] or None
    return out, None


def read_review_file(path: Path, source_name: str | None = None, max_text_chars: int = 5000) -> FileResult:
    """Parse and validate one file. Never raises for bad content: the file or rows are quarantined."""
    path = Path(path)
    source = source_name or path.name
    kind = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if kind is None:
        reason = f"unsupported file type {path.suffix or '(none)'!r}; expected one of {sorted(SUPPORTED_SUFFIXES)}"
        return FileResult(source, [], [Rejection(source, 0, reason, "")], fatal=reason)
    try:
        records, columns, encoding = _read_records(path, kind)
    except (ValueError, OSError) as exc:
        reason = f"file quarantined: {exc}"
        return FileResult(source, [], [Rejection(source, 0, reason, _preview(_head_bytes(path)))], fatal=reason)
    mapping, missing = map_columns(columns)
    if missing:
        reason = f"file quarantined: missing required column(s) {missing}; found {columns[:20]}"
        return FileResult(source, [], [Rejection(source, 0, reason, _preview(",".join(columns)))], encoding, fatal=reason)

    rows: list[dict] = []
    rejections: list[Rejection] = []
    # relative dates ("3일 전") count back from the file's modification time (UTC)
    as_of = pd.Timestamp(path.stat().st_mtime, unit="s", tz="UTC")
    for number, rec, error, raw in records:
        if error is not None:
            rejections.append(Rejection(source, number, error, _preview(raw)))
            continue
        canon = {mapping[k]: v for k, v in rec.items() if k in mapping}
        row, reason = validate_record(canon, max_text_chars, as_of)
        if reason is not None:
            rid = canon.get("review_id")
            rest = canon.get("restaurant_id")
            rejections.append(
                Rejection(
                    source, number, reason, _preview(raw or rec),
                    review_id=None if _is_missing(rid) else _as_str(rid)[:128],
                    restaurant_id=None if _is_missing(rest) else _as_str(rest)[:64],
                )
            )
            continue
        row["source_file"] = source
        row["source_row"] = number
        rows.append(row)
    return FileResult(source, rows, rejections, encoding)


def _head_bytes(path: Path) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read(200).decode("utf-8", errors="replace")
    except OSError:
        return ""


# --------------------------------------------------------------------------- folder scan


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


@dataclass
class ScanResult:
    reviews: pd.DataFrame
    rejected: pd.DataFrame
    files: list[FileResult]
    files_from_cache: int = 0

    @property
    def restaurant_ids(self) -> list[str]:
        return sorted(self.reviews["restaurant_id"].unique().tolist())


def _content_hash(row: dict) -> str:
    payload = json.dumps(
        [row.get(c) if not isinstance(row.get(c), pd.Timestamp) else row[c].isoformat() for c in REQUIRED_COLUMNS + OPTIONAL_COLUMNS],
        ensure_ascii=False, default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def scan_folder(folder: Path, max_text_chars: int = 5000, files: list[Path] | None = None,
                cache=None) -> ScanResult:
    """Parse every file in ``folder``; deduplicate by review_id (newest wins).

    ``cache`` (a parse_cache.ParsedFileCache) serves files parsed before, by content; after a
    full scan its entries of files no longer in the folder are pruned.

    "Newest" is the latest ``created_at``; ties (or missing dates) go to the later file
    (sorted by name) and the later row. Superseded duplicates are quarantined with a reason
    that names the winner, so nothing disappears silently.
    """
    folder = Path(folder)
    paths = files if files is not None else list_review_files(folder)
    read = cache.load if cache is not None else read_review_file
    hits_before = cache.hits if cache is not None else 0
    results = [read(p, _relative_name(p, folder), max_text_chars) for p in paths]
    from_cache = cache.hits - hits_before if cache is not None else 0
    if cache is not None and files is None:
        cache.prune(cache.seen)
    rows: list[dict] = []
    rejections: list[Rejection] = []
    for order, fr in enumerate(results):
        rejections.extend(fr.rejections)
        for r in fr.rows:
            r["_order"] = order
            rows.append(r)
    reviews = pd.DataFrame(rows, columns=list(REVIEW_COLUMNS) + ["_order"])
    if not reviews.empty:
        reviews["content_hash"] = [_content_hash(r) for r in rows]
        reviews["_ts"] = pd.to_datetime(reviews["created_at"]).fillna(pd.Timestamp.min)
        reviews = reviews.sort_values(["review_id", "_ts", "_order", "source_row"], kind="stable")
        dup_mask = reviews.duplicated("review_id", keep="last")
        if dup_mask.any():
            winners = reviews[~dup_mask].set_index("review_id")
            for _, loser in reviews[dup_mask].iterrows():
                w = winners.loc[loser["review_id"]]
                rejections.append(
                    Rejection(
                        loser["source_file"], int(loser["source_row"]),
                        f"duplicate review_id superseded by {w['source_file']} row {int(w['source_row'])} (newest wins)",
                        _preview(loser["text"]), loser["review_id"], loser["restaurant_id"],
                    )
                )
        reviews = reviews[~dup_mask].drop(columns=["_ts"])
    reviews = normalize_reviews_frame(reviews.drop(columns=["_order"]))
    rejected = rejections_frame(rejections)
    return ScanResult(reviews, rejected, results, from_cache)


def _relative_name(path: Path, folder: Path) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return Path(path).name


def normalize_reviews_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Fixed column order and dtypes, sorted by (restaurant_id, review_id): stable across re-runs."""
    df = df.reindex(columns=list(REVIEW_COLUMNS)).copy()
    for col in ("review_id", "restaurant_id", "text", "restaurant_name", "category", "area", "source_file", "content_hash"):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce").astype("float64")
    df["created_at"] = pd.to_datetime(df["created_at"]).astype("datetime64[us]")
    df["helpful_count"] = pd.to_numeric(df["helpful_count"], errors="coerce").fillna(0).astype("int64")
    df["source_row"] = pd.to_numeric(df["source_row"], errors="coerce").fillna(0).astype("int64")
    return df.sort_values(["restaurant_id", "review_id"], kind="stable").reset_index(drop=True)


def rejections_frame(rejections: list[Rejection]) -> pd.DataFrame:
    df = pd.DataFrame([asdict(r) for r in rejections], columns=list(Rejection.__dataclass_fields__))
    df = df.reindex(columns=list(REJECT_COLUMNS))
    df["row_number"] = pd.to_numeric(df["row_number"]).astype("int64")
    for col in ("source_file", "review_id", "restaurant_id", "reason", "raw"):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    return df.sort_values(["source_file", "row_number", "reason"], kind="stable").reset_index(drop=True)

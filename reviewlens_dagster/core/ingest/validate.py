"""Vectorized validation of the rows of many parts at once: one function per column, an optional field that cannot be read becomes NULL with a warning row, a required one a rejection."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import DEFAULT_MAX_TEXT_CHARS, REVIEW_ID_PATTERN, partition_key_for
from .frames import rejections_frame
from .menu import menu_items
from .schema import ASPECT_RATING, MENU, REJECTED, WARNING, Part
from .text import clean_labels, clean_text, clean_texts, strip_texts
from .values import is_relative_date, parse_dates, parse_rating


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


class _Rows:
    """The rows of every part being validated: their columns, the reason each is rejected (first
    reason wins) and the warnings about optional fields that were set to NULL."""

    def __init__(self, parts: list[Part]) -> None:
        self.parts = parts
        self.n = sum(len(p) for p in parts)
        self.part_of = (
            np.repeat(np.arange(len(parts), dtype=np.int64), [len(p) for p in parts])
            if parts
            else np.zeros(0, np.int64)
        )
        self.reason = np.full(self.n, None, dtype=object)
        self.warnings: list[tuple[int, str]] = []

    def per_part(self, values: list, dtype) -> np.ndarray:
        """A value of each part, spread over its rows."""
        return np.array(values, dtype=dtype)[self.part_of] if self.parts else np.zeros(0, dtype)

    def reject(self, mask: np.ndarray, why) -> None:
        mask = mask & pd.isna(self.reason)
        if mask.any():
            self.reason[mask] = why if isinstance(why, str) else np.asarray(why, dtype=object)[mask]

    def null_with_warning(self, rows, column: str, values, what: str, set_to: str = "NULL") -> None:
        """An optional field that cannot be read: the review is kept, the field is set to
        ``set_to`` and a warning row says so (``values``: the raw value of each row in ``rows``)."""
        for i, v in zip(rows, values):
            self.warnings.append((i, f"{column} {str(v)[:40]!r} is {what}: kept the review, {column} set to {set_to}"))

    def column(self, name: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """(stripped values, missing mask, wrong-type mask) of a canonical column."""
        stripped = strip_texts(_gather(self.parts, name))
        missing = _np(pc.equal(stripped, ""), True)
        bad = np.zeros(self.n, bool)
        bad[_bad_types(self.parts, name)] = True
        return stripped, missing & ~bad, bad


def validate_parts(parts: list[Part], max_text_chars: int = DEFAULT_MAX_TEXT_CHARS) -> Validated:
    """Validate the rows of every part with column operations (pyarrow compute); Python runs per
    *distinct* value for ids, names, and dates or ratings written in words, and per row only for
    text with markup and for the rows that are rejected or warned about."""
    rows = _Rows(parts)
    review_id = _review_ids(rows)
    source_rid, restaurant_id = _restaurant_ids(rows)
    text = _texts(rows, max_text_chars)
    rating = _ratings(rows)
    created = _dates(rows)
    export = _export_columns(rows)
    helpful = _helpful_counts(rows)
    source_file = rows.per_part([p.source_file for p in parts], object)
    file_of = [p.file or p.source_file for p in parts]
    source_rows = pa.array([k for p in parts for k in p.source_rows], pa.int64())
    table = pa.table(
        {
            "review_id": review_id,
            "restaurant_id": restaurant_id,
            "text": text,
            "rating": pa.array(rating, pa.float64(), mask=np.isnan(rating)),
            "created_at": pa.array(created.to_numpy(), pa.timestamp("us"), mask=created.isna().to_numpy()),
            **_labels(rows),
            "helpful_count": pa.array(helpful, pa.int64()),
            **export,
            "source_restaurant_id": source_rid,
            "source_file": pa.array(source_file, pa.string()),
            "source_row": source_rows,
        }
    )
    valid = pd.isna(rows.reason).astype(bool)
    reviews = table.filter(pa.array(valid))
    staged_file = pa.array(rows.per_part(file_of, object), pa.string())
    reviews = reviews.append_column("content_hash", content_hashes(reviews)).append_column(
        "staged_file", staged_file.filter(pa.array(valid))
    )
    return Validated(reviews, _rejection_rows(rows, table, valid, file_of))


def _review_ids(rows: _Rows) -> pa.Array:
    review_id, miss, _ = rows.column("review_id")
    rows.reject(miss, "missing review_id")
    bad_id = ~miss & ~_np(pc.match_substring_regex(review_id, REVIEW_ID_PATTERN.pattern))
    if bad_id.any():
        values = review_id.to_pylist()
        rows.reject(
            bad_id,
            [
                f"invalid review_id {(values[i] or '')[:80]!r}: expected 1-128 of letters, digits, '_', '-', '.', ':'"
                if bad_id[i]
                else None
                for i in range(rows.n)
            ],
        )
    return review_id


def _restaurant_ids(rows: _Rows) -> tuple[pa.Array, pa.Array]:
    """(source restaurant id, partition key): any Unicode id, cleaned; the partition key derived
    from it (config.partition_key_for), both by distinct value."""
    raw_rid, miss, bad = rows.column("restaurant_id")
    rows.reject(miss | bad, "missing restaurant_id")
    enc = pc.dictionary_encode(raw_rid)
    distinct = [None if v is None else clean_text(v)[:200] or None for v in enc.dictionary.to_pylist()]
    source_rid = pc.take(pa.array(distinct, pa.string()), enc.indices)
    restaurant_id = pc.take(
        pa.array([None if v is None else partition_key_for(v) for v in distinct], pa.string()), enc.indices
    )
    rows.reject(~miss & _np(pc.is_null(source_rid)), "restaurant_id is empty after cleaning")
    return source_rid, restaurant_id


def _texts(rows: _Rows, max_text_chars: int) -> pa.Array:
    _, miss, bad = rows.column("text")
    rows.reject(miss | bad, "missing or non-text review text")
    text = clean_texts(_gather(rows.parts, "text"))
    lengths = _np(pc.utf8_length(text), 0)
    rows.reject(~miss & (lengths == 0), "empty review text after cleaning")
    too_long = lengths > max_text_chars
    if too_long.any():
        rows.reject(too_long, [f"review text too long ({int(k)} chars > {max_text_chars})" for k in lengths])
    return text


def _ratings(rows: _Rows, name: str = "rating", label: str = "rating") -> np.ndarray:
    """Optional: numbers on the source's scale, vectorized; notations (★★★★☆, 4점, 8/10, "5 star
    rating") by distinct value; out of 1-5 after scaling, or unreadable: NULL with a warning.
    ``name``: the raw column (a sub-rating's too), ``label``: what the warning calls it."""
    scale = rows.per_part([p.rating_scale for p in rows.parts], float)
    raw_rating, miss, bad = rows.column(name)
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
        unread = np.isnan(got)
        rows.null_with_warning(rest[unread], label, np.asarray(values, dtype=object)[unread], "not a rating")
    out_of_range = np.flatnonzero(~np.isnan(rating) & ((rating < 1.0) | (rating > 5.0)))
    if out_of_range.size:
        values = raw_rating.take(pa.array(out_of_range)).to_pylist()
        for i, v in zip(out_of_range, values):
            rows.null_with_warning([i], label, [v], f"out of range 1-5 (scale {scale[i]:g})")
        rating[out_of_range] = np.nan
    return rating


def _dates(rows: _Rows) -> pd.Series:
    """Optional: ISO dates (or the source's format) in one vectorized pass, the rest (Korean
    dates, relative dates counted back from the part's ``as_of``) by distinct value."""
    parts = rows.parts
    raw_date, miss, bad = rows.column("created_at")
    fmt = rows.per_part([p.date_format or "" for p in parts], object)
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
        part_of = rows.part_of
        codes, first = _distinct(vcodes, np.where(relative[vcodes], part_of[rest], -1), fmt[rest])
        found = parse_dates([(values[j], parts[part_of[rest[j]]].as_of, fmt[rest[j]] or None) for j in first])
        stamps = np.array(
            [np.datetime64("NaT") if ts is None else ts.to_datetime64() for ts in found], dtype="datetime64[us]"
        )[codes]
        unread = np.isnat(stamps)
        rows.null_with_warning(rest[unread], "created_at", np.asarray(values, dtype=object)[unread], "not a date")
        filled = created.to_numpy().copy()
        filled[rest] = stamps
        created = pd.Series(filled, dtype="datetime64[us]")
    for i in np.flatnonzero(bad):
        rows.warnings.append(
            (i, "created_at is a list or an object, not a date: kept the review, created_at set to NULL")
        )
    return created


def _helpful_counts(rows: _Rows) -> np.ndarray:
    """Optional: a non-negative integer, else 0 with a warning."""
    raw_helpful, miss, bad = rows.column("helpful_count")
    hv = pd.to_numeric(pd.Series(raw_helpful.to_numpy(zero_copy_only=False)), errors="coerce").to_numpy(float)
    wrong = ~miss & (bad | ~np.isfinite(hv) | (np.nan_to_num(hv) < 0) | (np.nan_to_num(hv) % 1 != 0))
    if wrong.any():
        at = np.flatnonzero(wrong)
        values = raw_helpful.take(pa.array(at)).to_pylist()
        rows.null_with_warning(at, "helpful_count", values, "not a non-negative integer", set_to="0")
    return np.where(miss | wrong, 0, np.nan_to_num(hv)).astype("int64")


def _export_columns(rows: _Rows) -> dict[str, pa.Array]:
    """``menu_items`` (the ordered dishes, a JSON list, by distinct cell) and ``aspect_ratings`` (the
    reviewers' sub-ratings on 1-5, a JSON object; each read as the rating is, with its warnings);
    NULL where a file has none. A menu cell with no dish in it is NULL with a warning."""
    menus = [None] * rows.n
    raw_menu, miss, _ = rows.column(MENU)
    present = np.flatnonzero(~miss)
    if present.size:
        cells = raw_menu.take(pa.array(present)).to_pylist()
        formats = [rows.parts[rows.part_of[i]].menu_format for i in present]
        parsed = {key: menu_items(key[0], *key[1]) for key in dict.fromkeys(zip(cells, formats))}
        empty = []
        for i, cell, fmt in zip(present, cells, formats):
            items = parsed[(cell, fmt)]
            if items:
                menus[i] = json.dumps(items, ensure_ascii=False)
            else:
                empty.append((i, cell))
        rows.null_with_warning([i for i, _ in empty], "menu", [c for _, c in empty], "a menu with no dish")
    aspects = sorted({c[len(ASPECT_RATING) :] for p in rows.parts for c in p.columns if c.startswith(ASPECT_RATING)})
    ratings = {a: _ratings(rows, ASPECT_RATING + a, f"{a} rating") for a in aspects}
    sub = [None] * rows.n
    for i in range(rows.n) if aspects else ():
        got = {a: float(r[i]) for a, r in ratings.items() if not np.isnan(r[i])}
        sub[i] = json.dumps(got, ensure_ascii=False) if got else None
    return {"menu_items": pa.array(menus, pa.string()), "aspect_ratings": pa.array(sub, pa.string())}


def _labels(rows: _Rows) -> dict[str, pa.Array]:
    """restaurant_name / category / area: cleaned, else the source's default for the file."""
    labels = {}
    for col in ("restaurant_name", "category", "area"):
        cleaned = clean_labels(_gather(rows.parts, col))
        defaults = [p.defaults.get(col) for p in rows.parts]
        if any(defaults):
            cleaned = pc.coalesce(cleaned, pa.array([defaults[i] for i in rows.part_of], pa.string()))
        labels[col] = cleaned
    return labels


def _rejection_rows(rows: _Rows, table: pa.Table, valid: np.ndarray, file_of: list[str]) -> pd.DataFrame:
    """Rejected rows and warnings, with what the row held (the parts' own rejections first)."""
    parts, part_of = rows.parts, rows.part_of
    out = [{**asdict(r), "staged_file": file_of[pi]} for pi, p in enumerate(parts) for r in p.rejections]
    flagged = sorted(set(np.flatnonzero(~valid).tolist()) | {i for i, _ in rows.warnings if valid[i]})
    if flagged:
        starts = np.concatenate([[0], np.cumsum([len(p) for p in parts])])
        review_ids, key = table.column("review_id").to_pylist(), table.column("restaurant_id").to_pylist()
        files, numbers = table.column("source_file").to_pylist(), table.column("source_row").to_pylist()

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
                "staged_file": file_of[pi],
            }

        out += [entry(i, REJECTED, rows.reason[i]) for i in np.flatnonzero(~valid)]
        out += [entry(i, WARNING, why) for i, why in rows.warnings if valid[i]]
    return rejections_frame(out, extra=("staged_file",))


_HASH_SQL = """
select left(sha256(concat_ws(chr(31), review_id, restaurant_id, text, coalesce(rating::varchar, ''),
    coalesce(strftime(created_at, '%Y-%m-%dT%H:%M:%S.%f'), ''), coalesce(restaurant_name, ''),
    coalesce(category, ''), coalesce(area, ''), helpful_count::varchar)
    -- the export's columns only where a file has them: the hash of a review without them is unchanged
    || coalesce(chr(30) || menu_items, '') || coalesce(chr(29) || aspect_ratings, '')), 16) as content_hash
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

"""Vectorized validation of the rows of many parts at once: one function per column, an optional field that cannot be read becomes NULL with a warning row, a required one a rejection."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..config import DEFAULT_MAX_TEXT_CHARS, REVIEW_ID_PATTERN, partition_key_for
from .frames import rejections_frame
from .schema import REJECTED, WARNING, Part
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
        cleaned = clean_labels(_gather(parts, col))
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

"""Readers for dropped review files, vectorized validation and quarantine rows.

Contract (see docs/data.md "Data contract"):
- formats: ``.csv`` / ``.tsv`` (delimiter sniffed: ``,`` ``;`` ``|`` tab), ``.jsonl`` / ``.ndjson``,
  ``.parquet``; any of them gzip-compressed (``.csv.gz``) or in a ``.zip`` (size-capped);
- encodings: UTF-8 (with or without BOM), CP949 / EUC-KR, UTF-16 (with or without BOM), others by
  detection;
- columns: ``review_id``, ``restaurant_id``, ``text`` required; ``rating``, ``created_at``,
  ``restaurant_name``, ``category``, ``area``, ``helpful_count`` optional; common aliases accepted,
  or a mapping from ``sources.yaml`` (:mod:`.sources`).

Reading and validating are split: :func:`.readers.read_parts` turns a file into :class:`Part` s (raw
column values, one Python pass over the records), :func:`.validate.validate_parts` checks the rows of any
number of parts at once with column operations. Nothing is dropped silently: a row that does not
become a review becomes a rejection with the file, the row/line number, the raw content
(truncated) and a reason; an optional field that cannot be read becomes NULL with a *warning*
row (``severity = 'warning'``), and the review is kept.

Modules, one concept each: :mod:`.schema` (columns, parts, rejections), :mod:`.decode` (bytes,
archives, encodings), :mod:`.csvread` (CSV fast and exact readers), :mod:`.readers` (a file into
parts; the folder listing), :mod:`.text` (text cleaning), :mod:`.values` (ratings and dates),
:mod:`.validate` (vectorized validation), :mod:`.frames` (the reviews frame and its checks).
"""

from .decode import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, decode_bytes, file_sha256
from .frames import REVIEW_CHECKS, normalize_reviews_frame, rejections_frame, review_check_failures
from .readers import list_review_files, read_many, read_parts, read_review_file
from .schema import (
    CANONICAL_COLUMNS,
    OPTIONAL_COLUMNS,
    REJECT_COLUMNS,
    REJECTED,
    REQUIRED_COLUMNS,
    REVIEW_COLUMNS,
    WARNING,
    FileResult,
    Part,
    Rejection,
)
from .text import clean_text, clean_texts, raw_preview
from .validate import Validated, content_hashes, validate_parts
from .values import is_relative_date, normalize_date, parse_dates, parse_rating

__all__ = [
    "CANONICAL_COLUMNS",
    "FileResult",
    "MAX_FILE_BYTES",
    "OPTIONAL_COLUMNS",
    "Part",
    "REJECTED",
    "REJECT_COLUMNS",
    "REQUIRED_COLUMNS",
    "REVIEW_CHECKS",
    "REVIEW_COLUMNS",
    "Rejection",
    "SUPPORTED_SUFFIXES",
    "Validated",
    "WARNING",
    "clean_text",
    "clean_texts",
    "content_hashes",
    "decode_bytes",
    "file_sha256",
    "is_relative_date",
    "list_review_files",
    "normalize_date",
    "normalize_reviews_frame",
    "parse_dates",
    "parse_rating",
    "raw_preview",
    "read_many",
    "read_parts",
    "read_review_file",
    "rejections_frame",
    "review_check_failures",
    "validate_parts",
]

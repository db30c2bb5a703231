"""The review table's columns (required, optional, aliases), the rows a file yields (:class:`Part`, :class:`FileResult`) and quarantine rows (:class:`Rejection`)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from ..sources import SourceSpec
from .text import as_text, raw_preview

REQUIRED_COLUMNS = ("review_id", "restaurant_id", "text")


OPTIONAL_COLUMNS = ("rating", "created_at", "restaurant_name", "category", "area", "helpful_count")


#: what a delivery-app export adds (docs/data.md "Source mappings"): the ordered items, normalized to a JSON
#: list of item names (``menu_items``), and the reviewers' own per-aspect ratings on 1-5, a JSON object
#: aspect -> rating (``aspect_ratings``); NULL when the file has none
EXPORT_COLUMNS = ("menu_items", "aspect_ratings")


#: the raw columns they are read from: ``menu``, and one ``rating:<aspect>`` per sub-rating
MENU, ASPECT_RATING = "menu", "rating:"


CANONICAL_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS


#: ``restaurant_id`` is the partition key derived from ``source_restaurant_id`` (config.partition_key_for)
REVIEW_COLUMNS = (
    CANONICAL_COLUMNS + EXPORT_COLUMNS + ("source_restaurant_id", "source_file", "source_row", "content_hash")
)


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
    MENU: ("menus", "items", "ordered_items", "order_items", "메뉴", "주문메뉴", "주문_메뉴", "주문내역", "주문_내역"),
    ASPECT_RATING + "맛": ("taste_rating", "taste_stars", "맛별점", "맛_별점", "맛평점", "맛_평점"),
    ASPECT_RATING + "양": ("quantity_rating", "portion_rating", "quantity_stars", "양별점", "양_별점", "양평점"),
    ASPECT_RATING + "배달": ("delivery_rating", "delivery_stars", "배달별점", "배달_별점", "배달평점"),
}


_ALIAS_TO_CANONICAL = {c: c for c in CANONICAL_COLUMNS + (MENU,)}


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
    menu_format: tuple[str, str] = (",", "/")  # (item separator, quantity separator)
    defaults: dict = field(default_factory=dict)  # restaurant_name / category / area when the file has none
    bad_types: dict[str, list[int]] = field(default_factory=dict)  # column -> rows holding a list/object

    def __len__(self) -> int:
        return len(self.source_rows)

    def raw(self, i: int) -> str:
        if self.raw_of is not None:
            return raw_preview(self.raw_of(i))
        raw = self.raws[i]
        return raw_preview(self.delimiter.join(raw) if isinstance(raw, list) else raw)


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
        named = {MENU: spec.menu} if spec.menu else {}
        named.update({ASPECT_RATING + a: col for a, col in spec.aspect_ratings.items()})
        for canon, col in named.items():
            if col not in columns:
                raise ValueError(
                    f"sources.yaml entry {spec.name!r} maps {canon} to column {col!r}, which the "
                    f"file does not have; columns: {columns[:20]}"
                )
            if col in mapping:
                raise ValueError(f"sources.yaml entry {spec.name!r} maps column {col!r} twice")
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


def derived_review_id(values: Iterable) -> str:
    """A review id for exports that carry none: ``h`` + 16 hex of the sha256 of the named columns."""
    payload = "\x1f".join("" if v is None else str(v).strip() for v in values)
    return "h" + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def text_columns(part: Part, mapping: dict[str, str], values) -> None:
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


def mapping_or_fail(header: list[str], spec: SourceSpec | None) -> dict[str, str]:
    mapping, missing = map_columns(header, spec)
    if missing:
        hint = "" if spec else " (map them in sources.yaml: see docs/data.md 'Source mappings')"
        raise ValueError(f"missing required column(s) {missing}; found {header[:20]}{hint}")
    return mapping


def derive_ids(part: Part, spec: SourceSpec | None, column) -> None:
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

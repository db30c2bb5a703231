"""Source mappings: how the files of one export map onto the review columns (``sources.yaml``).

Each entry matches incoming files by a glob (relative to the incoming folder) and says which
column holds what, how ids are made when the export has none, the rating scale, the date format
and the time relative dates count back from, and defaults for the restaurant's name, category
and area. The first entry whose glob matches a file is used; files no entry matches are read
with the built-in column aliases. The file is validated (pydantic): a typo in a key or a
canonical column name is an error that names it, before any file is read.

Example (docs/data.md "Source mappings")::

    sources:
      - name: delivery-export
        files: "exports/*.csv"
        columns: {restaurant_id: Restaurant, text: Review, rating: Total, created_at: Date,
                  category: Category, area: Location}
        review_id_from: [Restaurant, UserID, Menu, Review]
        menu: Menu                       # ordered items, `item/qty,item/qty` by default
        aspect_ratings: {맛: Taste, 양: Quantity, 배달: Delivery}   # the reviewers' own sub-ratings
        sheet: 리뷰                      # a workbook's sheet (the first by default)
"""

from __future__ import annotations

import fnmatch
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .aspects import ASPECTS

Canonical = Literal[
    "review_id", "restaurant_id", "text", "rating", "created_at", "restaurant_name", "category", "area", "helpful_count"
]


class SourceDefaults(BaseModel):
    model_config = ConfigDict(extra="forbid")

    restaurant_name: str | None = None
    category: str | None = None
    area: str | None = None


class MenuFormat(BaseModel):
    """How a menu cell lists the ordered items: ``양념치킨/1,콜라 1.25L/1`` is items separated by
    ``item_separator`` (outside brackets), each ending with ``quantity_separator`` + a count."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    item_separator: str = Field(default=",", min_length=1, max_length=3)
    quantity_separator: str = Field(default="/", min_length=1, max_length=3)


class SourceSpec(BaseModel):
    """One export's mapping. Unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
    files: str = Field(min_length=1, description="glob relative to the incoming folder, e.g. 'exports/*.csv'")
    columns: dict[Canonical, str] = Field(default_factory=dict, description="review column -> the file's column")
    review_id_from: list[str] | None = Field(
        default=None, min_length=1, description="columns hashed into a review id when the export has none"
    )
    restaurant_id_from: list[str] | None = Field(
        default=None, min_length=1, description="columns joined (with a space) into the restaurant id"
    )
    rating_scale: Literal[5, 10, 100] = 5
    date_format: str | None = Field(default=None, description="strptime format of created_at, e.g. '%Y.%m.%d'")
    as_of: datetime | None = Field(
        default=None, description="relative dates ('3일 전') count back from this time (default: file mtime)"
    )
    delimiter: Literal[",", ";", "|", "\t"] | None = None
    defaults: SourceDefaults = Field(default_factory=SourceDefaults)
    menu: str | None = Field(default=None, min_length=1, description="the column of the ordered items")
    menu_format: MenuFormat = Field(default_factory=MenuFormat)
    aspect_ratings: dict[str, str] = Field(
        default_factory=dict, description="aspect -> the column of the reviewers' own rating of it (rating_scale)"
    )
    sheet: str | int | None = Field(default=None, description="a workbook's sheet, by name or 0-based index")

    @field_validator("aspect_ratings")
    @classmethod
    def _known_aspects(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(ASPECTS))
        if unknown:
            raise ValueError(f"unknown aspect(s) {unknown}; the vocabulary is {list(ASPECTS)}")
        return v

    @field_validator("files")
    @classmethod
    def _relative_glob(cls, v: str) -> str:
        if v.startswith("/") or ".." in Path(v).parts:
            raise ValueError("must be a glob relative to the incoming folder")
        return v

    @model_validator(mode="after")
    def _one_way_per_id(self):
        for col, derived in (("review_id", self.review_id_from), ("restaurant_id", self.restaurant_id_from)):
            if derived and col in self.columns:
                raise ValueError(f"{col} is both mapped to a column and derived from columns: keep one")
        return self

    def matches(self, relative_name: str) -> bool:
        return fnmatch.fnmatchcase(relative_name, self.files)

    def digest(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:12]


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sources: list[SourceSpec] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_names(self):
        names = [s.name for s in self.sources]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {dupes}")
        return self

    def spec_for(self, relative_name: str) -> SourceSpec | None:
        return next((s for s in self.sources if s.matches(relative_name)), None)

    def describe(self) -> list[dict]:
        """The mappings as plain data (shown in the staging asset's metadata)."""
        return [s.model_dump(mode="json", exclude_defaults=True) for s in self.sources]


class SourcesFileError(ValueError):
    """sources.yaml cannot be read or does not validate; the message names the file and the problem."""


def load_sources(path: Path | None) -> SourcesFile:
    """The mappings in ``path``; an absent file means none (every file read by aliases)."""
    if path is None or not Path(path).exists():
        return SourcesFile()
    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SourcesFileError(f"{path}: not readable YAML: {exc}") from None
    try:
        return SourcesFile.model_validate(doc)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SourcesFileError(f"{path}: {problems}") from None

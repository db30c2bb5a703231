"""Korean and English ratings (별점 ★★★★☆, 4점, 8/10) and dates (2024년 1월 2일, 24.01.02, 3일 전, 작년, 3 days ago)."""

from __future__ import annotations

import math
import re

import pandas as pd

_STARS = re.compile(r"^\s*([★☆]+)\s*$")


_POINTS = re.compile(
    r"^\s*(\d+(?:[.,]\d+)?)\s*(?:점|stars?)?\s*(?:(?:/|out\s+of|of)\s*(5|10|100)(?:[.,]0)?)?\s*(?:점|stars?)?\s*$",
    re.IGNORECASE,
)


#: the words around a rating as exports and scrapers write it ("5 star rating", "Rated 4 of 5",
#: "Rating: 4.5/5", "별점 4점", "평점: 4.5"): removed before the number is read
_RATING_WORDS = re.compile(
    r"^\s*(?:rated|rating|score|별점|평점|점수)\s*:?\s*|\s*[-\s]?(?:stars?\s+rating|rating)\s*$|\s*[-\s]?stars?\s*$",
    re.IGNORECASE,
)


_KO_DATE = re.compile(r"^\s*(\d{2}|\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일?(.*)$")


_DOT_DATE = re.compile(r"^\s*(\d{2}|\d{4})[./](\d{1,2})[./](\d{1,2})\.?(\s.*)?$")


def parse_rating(value, scale: float = 5.0) -> float:
    """A star rating as exports write it: ``4``, ``4.5``, ``4,5``, ``4점``, ``별점 4점``, ``★★★★☆`` (full stars
    counted), ``4/5``, ``8/10``, ``80/100``, ``4.5 out of 5``, ``Rated 4 of 5``, ``5 star rating``,
    ``4 stars`` (a denominator of 5, 10 or 100 scales to 1-5). A bare number is on the source's ``scale`` (5 by
    default; 10 or 100 for sources that declare it). Raises ValueError otherwise."""
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
    stars = _STARS.match(_RATING_WORDS.sub("", text))
    if stars:
        return float(stars.group(1).count("★"))
    m = _POINTS.match(_RATING_WORDS.sub("", text))
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


#: a month is 30 days and a year 365 (docs/data.md "Data contract")
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

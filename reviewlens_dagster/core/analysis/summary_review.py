"""A summary read back against the counts it was written from: every figure attributed to the
aspect named before it must be that aspect's count or share (``number_problems``), no aspect
described against its counted polarity (``contradictions``), no review copied. The blocking checks
``summaries_numbers_match_counts`` / ``summaries_agree_with_counts`` and the summary writer's
read-back of the model's sentences (``summarize.assembled_problems``) use them."""

from __future__ import annotations

import re

import pandas as pd

from ..aspects import ASPECTS, ENGLISH_NAMES
from .lexicon import detect, polarity_of_text

MIN_COPY_CHARS = 20  # a summary containing a review this long, verbatim, copies it
MIN_QUOTE_COPY_CHARS = 12  # ... or one of the quotes it was given


# a figure: 1,852 / 2.6 / 93 with an optional percent sign; star notations ("1-2점", "4.5 stars")
# are ratings, not counts, and are left out before reading figures
_FIGURE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(%|퍼센트|percent)?")
_STARS = re.compile(r"\d+(?:\.\d+)?(?:\s*[-~]\s*\d+(?:\.\d+)?)?\s*(?:점|stars?|★)", re.IGNORECASE)
_POSITIVE_WORDS = re.compile(r"긍정|좋|만족|칭찬|positive|praise|like", re.IGNORECASE)
_NEGATIVE_WORDS = re.compile(r"부정|불만|나쁘|아쉽|negative|complain|dislike", re.IGNORECASE)
PERCENT_TOLERANCE = 1.0  # percentage points: the model may round 92.6 % to 92 or 93


def _figures_of(row) -> tuple[set[int], dict[str, list[float]]]:
    """(counts, percentages by polarity) of one aspect_prevalence row."""
    counts = {int(getattr(row, c)) for c in ("mentions", "decided", "positive", "negative", "neutral")}
    pct = {p: [100 * getattr(row, p) / row.decided] if row.decided else [] for p in ("positive", "negative", "neutral")}
    if row.n_reviews:  # a complaint's share of all reviews
        pct["negative"].append(100 * row.negative / row.n_reviews)
    pct["any"] = [100 * row.mention_share]
    return counts, pct


# clause boundaries for reading figures: punctuation, but not the comma or point inside "1,852" / "2.6"
_FIGURE_CLAUSE = re.compile(r"[;:!?\n…~()]+|[.,](?!\d)|(?<!\d)[.,]")


def _aspects_named(clause: str, mentions=None) -> list[str]:
    """Aspects a clause names: the lexicon's (``mentions``: its reading when the caller has it), plus an
    aspect's own name, Korean or English ("양: ..." in a template)."""
    named = [m.aspect for m in (detect(clause, learned=False) if mentions is None else mentions)]
    return named + [
        a
        for a in ASPECTS
        if a not in named
        and (
            re.search(rf"(?<![가-힣]){a}(?![가-힣])|^{a}", clause)
            or re.search(rf"\b{ENGLISH_NAMES[a]}\b", clause, re.IGNORECASE)
        )
    ]


def number_problems(
    text: str, prevalence: pd.DataFrame, n_reviews: int, extra_counts: set[int] = frozenset()
) -> list[str]:
    """Figures in ``text`` that are not figures of the counts attached to the aspect they are
    written next to: each number belongs to the aspects named in its clause, else to those of the
    nearest earlier clause of its sentence, else to the restaurant as a whole (its review count).
    A percentage must be within 1 point of one of that aspect's shares (of the polarity named
    beside it, when one is: "긍정", "불만"); a count must be one of its counts."""
    by_aspect = {r.aspect: _figures_of(r) for r in prevalence.itertuples()}
    whole = {int(n_reviews)} | set(extra_counts)
    problems = []
    for sentence in _sentences(text):
        current: list[str] = []
        for clause in _FIGURE_CLAUSE.split(sentence):
            plain = _STARS.sub(" ", clause)
            figures = list(_FIGURE.finditer(plain))
            if not figures:
                current = _aspects_named(clause) or current
                continue
            last = 0
            for i, m in enumerate(figures):
                # the aspect a figure belongs to is named before it ("맛은 93%가 ..., 배달은 84%가 ...")
                before = plain[last : m.start()]
                after = plain[m.end() : figures[i + 1].start() if i + 1 < len(figures) else len(plain)]
                current = _aspects_named(before) or current
                last = m.end()
                value = float(m.group(1).replace(",", "") + (m.group(2) or ""))
                targets = [a for a in current if a in by_aspect]
                where = "/".join(current) or "the restaurant"
                if m.group(3):  # a percentage
                    named_pols = [
                        p
                        for p, rx in (("positive", _POSITIVE_WORDS), ("negative", _NEGATIVE_WORDS))
                        if rx.search(before + after)
                    ]
                    pols = (named_pols or ["positive", "negative", "neutral"]) + ["any"]
                    allowed = [v for a in targets for p in pols for v in by_aspect[a][1][p]]
                    if not any(abs(value - v) <= PERCENT_TOLERANCE for v in allowed):
                        problems.append(f"{m.group(0).strip()} is not a share of {where} in the counts")
                else:
                    allowed_counts = whole | {c for a in targets for c in by_aspect[a][0]}
                    if value not in allowed_counts:
                        problems.append(f"{m.group(0).strip()} is not a count of {where}")
            current = _aspects_named(plain[last:]) or current
    return problems


def contradictions(text: str, prevalence: pd.DataFrame, complaints: set[str] = frozenset()) -> list[str]:
    """Aspects the text describes against the counts (praise of a weakness, complaint about a
    strength that is not a counted complaint) or that no review of the restaurant mentions.
    ``complaints``: the restaurant's complaint aspects (a minority's criticism of a strength is a
    fact of the counts)."""
    status = dict(zip(prevalence["aspect"], prevalence["status"]))
    problems = []
    for aspect, pol in polarity_of_text(text).items():
        if aspect not in status:
            problems.append(f"{aspect} is not mentioned in the reviews")
        elif pol == "positive" and status[aspect] == "weakness":
            problems.append(f"{aspect} is praised but counted as a weakness")
        elif pol == "negative" and status[aspect] == "strength" and aspect not in complaints:
            problems.append(f"{aspect} is criticised but counted as a strength")
    return problems


def copied_from(text: str, sources: list[str], min_chars: int = MIN_COPY_CHARS) -> list[str]:
    """The sources (reviews, quotes) of at least ``min_chars`` characters that ``text`` contains verbatim."""
    return [src for src in sources if len(src) >= min_chars and src in text]


def copies_review(text: str, reviews: list[str]) -> bool:
    return bool(copied_from(text, reviews))


def _sentences(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"(?<=[.!?。])\s+", text) if p.strip()]

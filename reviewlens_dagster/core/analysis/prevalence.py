"""Aspect prevalence per restaurant, and strengths / weaknesses derived from it by counting.

Prevalence is counted over every review of the restaurant (the lexicon reads them all), so a
strength or weakness states how common it is and is right by construction, not by the LLM's
impression of 20 reviews. The rule (:class:`HighlightRule`, documented in README):

- an aspect is a **strength** when at least ``min_mentions`` reviews speak well of it, it is
  mentioned by at least ``min_mention_share`` of the restaurant's reviews, and at least
  ``strength_share`` of the reviews with a decided polarity on it are positive;
- a **weakness** likewise with negative mentions and ``weakness_share``;
- otherwise ``mixed`` (enough mentions, no clear side) or ``too_few`` mentions.
"No weakness found" is a valid answer: nothing is forced.

Each strength / weakness carries its prevalence ("맛: 17 of 20 reviews that mention it are
positive"), evidence review ids and a representative quote: the quote of a supporting review
that ranks highest in the restaurant's TOP-K context (the most representative reviews), else
the supporting quote of typical length.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from ..aspects import ASPECTS

PREVALENCE_COLUMNS = [
    "restaurant_id",
    "aspect",
    "n_reviews",
    "mentions",
    "mention_share",
    "positive",
    "negative",
    "neutral",
    "undecided",
    "decided",
    "positive_share",
    "negative_share",
    "neutral_share",
    "status",
    "evidence_review_ids",
]
HIGHLIGHT_COLUMNS = [
    "restaurant_id",
    "polarity",
    "aspect",
    "text",
    "prevalence",
    "supporting",
    "decided",
    "mentions",
    "n_reviews",
    "share",
    "mention_share",
    "review_ids",
    "quote",
]
MAX_EVIDENCE = 5


@dataclass(frozen=True)
class HighlightRule:
    """Defaults set on the sample data (the development set): `make eval`, "every restaurant"."""

    min_mentions: int = 3
    min_mention_share: float = 0.08
    strength_share: float = 0.7
    weakness_share: float = 0.6


def status_of(row: dict, rule: HighlightRule) -> str:
    common = row["mention_share"] >= rule.min_mention_share
    if common and row["positive"] >= rule.min_mentions and row["positive_share"] >= rule.strength_share:
        return "strength"
    if common and row["negative"] >= rule.min_mentions and row["negative_share"] >= rule.weakness_share:
        return "weakness"
    return "mixed" if row["decided"] >= rule.min_mentions else "too_few"


def aspect_prevalence(
    mentions: pd.DataFrame, review_counts: dict[str, int], rule: HighlightRule = HighlightRule()
) -> pd.DataFrame:
    """One row per (restaurant, aspect mentioned at least once)."""
    rows = []
    for (restaurant_id, aspect), g in mentions.groupby(["restaurant_id", "aspect"], sort=True):
        n = int(review_counts.get(restaurant_id, 0)) or g["review_id"].nunique()
        counts = {p: int((g["polarity"] == p).sum()) for p in ("positive", "negative", "neutral")}
        decided = sum(counts.values())
        row = {
            "restaurant_id": restaurant_id,
            "aspect": aspect,
            "n_reviews": n,
            "mentions": len(g),
            "mention_share": len(g) / n,
            **counts,
            "undecided": int(g["polarity"].isna().sum()),
            "decided": decided,
            **{f"{p}_share": (counts[p] / decided if decided else None) for p in ("positive", "negative", "neutral")},
        }
        row["status"] = status_of({**row, **{k: v or 0.0 for k, v in row.items() if k.endswith("_share")}}, rule)
        # evidence: reviews holding the aspect's prevailing opinion (of its decided mentions)
        side = "negative" if row["status"] == "weakness" else max(counts, key=lambda p: (counts[p], p == "positive"))
        row["evidence_review_ids"] = g.loc[g["polarity"] == side, "review_id"].head(MAX_EVIDENCE).tolist()
        rows.append(row)
    out = pd.DataFrame(rows, columns=PREVALENCE_COLUMNS)
    out["_order"] = out["aspect"].map(lambda a: ASPECTS.index(a) if a in ASPECTS else len(ASPECTS))
    out = out.sort_values(["restaurant_id", "_order"]).drop(columns="_order").reset_index(drop=True)
    return out.astype({c: "float64" for c in PREVALENCE_COLUMNS if c.endswith("_share")})


def prevalence_text(aspect: str, supporting: int, decided: int, polarity: str, lang: str = "ko") -> str:
    share = round(100 * supporting / decided) if decided else 0
    if lang == "ko":
        word = "긍정" if polarity == "strength" else "부정"
        return f"{aspect}: 언급한 리뷰 {decided}개 중 {supporting}개 {word} ({share}%)"
    word = "positive" if polarity == "strength" else "negative"
    return f"{aspect}: {supporting} of {decided} reviews that mention it are {word} ({share}%)"


def representative(quotes: pd.DataFrame, top_k_rank: dict[str, int]) -> pd.DataFrame:
    """Supporting mentions ordered from the most to the least representative."""
    q = quotes.copy()
    q["_rank"] = q["review_id"].map(lambda r: top_k_rank.get(r, 10**9))
    q["_len"] = (q["quote"].str.len() - 30).abs()
    return q.sort_values(["_rank", "_len", "review_id"])


def highlights(
    prevalence: pd.DataFrame,
    mentions: pd.DataFrame,
    top_k_rank: dict[str, int] | None = None,
    lang_by_restaurant: dict[str, str] | None = None,
) -> pd.DataFrame:
    """Strength and weakness rows for the aspects whose status says so, strongest first."""
    rows = []
    for r in prevalence[prevalence["status"].isin(["strength", "weakness"])].itertuples():
        pol = "positive" if r.status == "strength" else "negative"
        sup = mentions[
            (mentions["restaurant_id"] == r.restaurant_id)
            & (mentions["aspect"] == r.aspect)
            & (mentions["polarity"] == pol)
        ]
        ordered = representative(sup, top_k_rank or {})
        supporting = int(r.positive if pol == "positive" else r.negative)
        quote = ordered["quote"].iloc[0] if len(ordered) else ""
        rows.append(
            {
                "restaurant_id": r.restaurant_id,
                "polarity": r.status,
                "aspect": r.aspect,
                "text": quote,
                "prevalence": prevalence_text(
                    r.aspect,
                    supporting,
                    int(r.decided),
                    r.status,
                    (lang_by_restaurant or {}).get(r.restaurant_id, "ko"),
                ),
                "supporting": supporting,
                "decided": int(r.decided),
                "mentions": int(r.mentions),
                "n_reviews": int(r.n_reviews),
                "share": supporting / r.decided if r.decided else 0.0,
                "mention_share": float(r.mention_share),
                "review_ids": ordered["review_id"].head(MAX_EVIDENCE).tolist(),
                "quote": quote,
            }
        )
    out = pd.DataFrame(rows, columns=HIGHLIGHT_COLUMNS)
    if out.empty:
        return out.astype(
            {
                "supporting": "int64",
                "decided": "int64",
                "mentions": "int64",
                "n_reviews": "int64",
                "share": "float64",
                "mention_share": "float64",
            }
        )
    return out.sort_values(["restaurant_id", "polarity", "supporting"], ascending=[True, True, False]).reset_index(
        drop=True
    )


def highlights_markdown(strengths: pd.DataFrame, restaurant_id: str) -> str:
    """A short preview of one restaurant's strengths and weaknesses with counts and quotes."""
    g = strengths[strengths["restaurant_id"] == restaurant_id]
    lines = [f"**{restaurant_id}**"]
    for pol, title in (("strength", "Strengths"), ("weakness", "Weaknesses")):
        items = g[g["polarity"] == pol]
        lines.append(f"- {title}: " + ("none found" if items.empty else ""))
        for it in items.itertuples():
            lines.append(f"  - {it.prevalence} — “{it.quote}”")
    return "\n".join(lines)

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

A **complaint** is the minority opinion a majority rule hides: an aspect that is not a weakness
(often a strength) on which at least ``min_complaints`` reviews, and at least
``complaint_share`` of all the restaurant's reviews, speak badly. The ``max_complaints`` most
frequent are reported per restaurant, each as a count and a share of *all* reviews ("배달: 리뷰
1,852개 중 49개에서 불만 (2.6%)"), with how many of the restaurant's 1-2 star reviews carry it
where ratings exist: what unhappy customers complain about, and how many of them.

Every row says how its polarities were decided: ``lexicon`` alone, or ``lexicon + LLM over n
reviews`` (the reviews of the restaurant the LLM read), and how many mentions stayed undecided.

Each strength / weakness carries its prevalence ("맛: 17 of 20 reviews that mention it are
positive"), evidence review ids and a representative quote: the quote of a supporting review
that ranks highest in the restaurant's TOP-K context (the most representative reviews), else
the supporting quote of typical length.
"""

from __future__ import annotations

import pandas as pd

from ..aspects import ASPECTS, aspect_name
from ..config import HighlightRule
from .prompts import restaurant_language
from .subratings import subrating_columns

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
    "undecided_share",
    "llm_reviews",
    "llm_decided",
    "decided_by",
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
    "review_share",
    "low_rated_reviews",
    "low_rated_with_aspect",
    "decided_by",
    "review_ids",
    "quote",
]
HIGHLIGHT_KINDS = {"strength": "positive", "weakness": "negative", "complaint": "negative"}
#: a review rated at most this is a "low-rated" review (complaints say how many of them carry it)
DEFAULT_RULE = HighlightRule()
LOW_RATING = 2
MAX_EVIDENCE = 5


def status_of(row: dict, rule: HighlightRule) -> str:
    common = row["mention_share"] >= rule.min_mention_share
    if common and row["positive"] >= rule.min_mentions and row["positive_share"] >= rule.strength_share:
        return "strength"
    if common and row["negative"] >= rule.min_mentions and row["negative_share"] >= rule.weakness_share:
        return "weakness"
    return "mixed" if row["decided"] >= rule.min_mentions else "too_few"


def decided_by(llm_reviews: int) -> str:
    return "lexicon" if not llm_reviews else f"lexicon + LLM over {llm_reviews} reviews"


def aspect_prevalence(
    mentions: pd.DataFrame,
    review_counts: dict[str, int],
    rule: HighlightRule = DEFAULT_RULE,
    llm_reviews: dict[str, int] | None = None,
) -> pd.DataFrame:
    """One row per (restaurant, aspect mentioned at least once). ``mentions``: resolved mentions
    (extract.resolve_polarities); ``llm_reviews``: restaurant -> reviews the LLM read."""
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
            "undecided_share": float(g["polarity"].isna().mean()),
            "llm_reviews": int((llm_reviews or {}).get(restaurant_id, 0)),
            "llm_decided": int((g["polarity_source"] == "llm").sum()) if "polarity_source" in g else 0,
        }
        row["decided_by"] = decided_by(row["llm_reviews"])
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
    return f"{aspect_name(aspect, lang)}: {supporting} of {decided} reviews that mention it are {word} ({share}%)"


def representative(quotes: pd.DataFrame, top_k_rank: dict[str, int]) -> pd.DataFrame:
    """Supporting mentions ordered from the most to the least representative."""
    q = quotes.copy()
    q["_rank"] = q["review_id"].map(lambda r: top_k_rank.get(r, 10**9))
    q["_len"] = (q["quote"].str.len() - 30).abs()
    return q.sort_values(["_rank", "_len", "review_id"])


def complaint_text(aspect: str, negative: int, n_reviews: int, low: tuple[int, int] | None, lang: str) -> str:
    """ "배달: 리뷰 1,852개 중 49개에서 불만 (2.6%), 별점 1-2점 리뷰 40개 중 12개" (the share of all reviews)."""
    pct = f"{100 * negative / n_reviews:.1f}%" if n_reviews else "0%"
    if lang == "ko":
        text = f"{aspect}: 리뷰 {n_reviews:,}개 중 {negative:,}개에서 불만 ({pct})"
        return text + (f", 별점 1-2점 리뷰 {low[0]:,}개 중 {low[1]:,}개" if low and low[0] else "")
    text = f"{aspect_name(aspect, lang)}: complaints in {negative:,} of {n_reviews:,} reviews ({pct})"
    return text + (f"; {low[1]:,} of {low[0]:,} reviews rated 1-2 stars" if low and low[0] else "")


def low_rated_reviews(reviews: pd.DataFrame) -> dict[str, set[str]]:
    """restaurant -> ids of its reviews rated 1-2 stars, for restaurants with any rating."""
    rated = reviews.dropna(subset=["rating"])
    return {
        restaurant_id: set(g.loc[g["rating"] <= LOW_RATING, "review_id"])
        for restaurant_id, g in rated.groupby("restaurant_id")
    }


def _complaints(prevalence: pd.DataFrame, rule: HighlightRule) -> pd.DataFrame:
    """The prevalence rows that are complaints: not weaknesses, enough negative mentions in
    absolute number and as a share of all reviews; the ``max_complaints`` largest per restaurant."""
    p = prevalence[
        (prevalence["status"] != "weakness")
        & (prevalence["negative"] >= rule.min_complaints)
        & (prevalence["negative"] >= rule.complaint_share * prevalence["n_reviews"])
    ]
    p = p.sort_values(["restaurant_id", "negative"], ascending=[True, False], kind="stable")
    return p.groupby("restaurant_id", sort=False).head(rule.max_complaints).assign(status="complaint")


def highlights(
    prevalence: pd.DataFrame,
    mentions: pd.DataFrame,
    top_k_rank: dict[str, int] | None = None,
    lang_by_restaurant: dict[str, str] | None = None,
    rule: HighlightRule = DEFAULT_RULE,
    low_rated: dict[str, set[str]] | None = None,
) -> pd.DataFrame:
    """Strength, weakness and complaint rows (see the module's rule), strongest first.

    ``low_rated``: restaurant -> ids of its 1-2 star reviews (:func:`low_rated_reviews`; a
    restaurant without ratings is absent), for the complaints' share of unhappy reviews."""
    rows = []
    chosen = pd.concat([prevalence[prevalence["status"].isin(["strength", "weakness"])], _complaints(prevalence, rule)])
    for r in chosen.itertuples():
        pol = HIGHLIGHT_KINDS[r.status]
        sup = mentions[
            (mentions["restaurant_id"] == r.restaurant_id)
            & (mentions["aspect"] == r.aspect)
            & (mentions["polarity"] == pol)
        ]
        ordered = representative(sup, top_k_rank or {})
        supporting = int(r.positive if pol == "positive" else r.negative)
        quote = ordered["quote"].iloc[0] if len(ordered) else ""
        lang = (lang_by_restaurant or {}).get(r.restaurant_id, "ko")
        low_ids = (low_rated or {}).get(r.restaurant_id)
        low = None if low_ids is None else (len(low_ids), int(sup["review_id"].isin(low_ids).sum()))
        if r.status == "complaint":
            text = complaint_text(r.aspect, supporting, int(r.n_reviews), low, lang)
        else:
            text = prevalence_text(r.aspect, supporting, int(r.decided), r.status, lang)
        rows.append(
            {
                "restaurant_id": r.restaurant_id,
                "polarity": r.status,
                "aspect": r.aspect,
                "text": quote,
                "prevalence": text,
                "supporting": supporting,
                "decided": int(r.decided),
                "mentions": int(r.mentions),
                "n_reviews": int(r.n_reviews),
                "share": supporting / r.decided if r.decided else 0.0,
                "mention_share": float(r.mention_share),
                "review_share": supporting / r.n_reviews if r.n_reviews else 0.0,
                "low_rated_reviews": None if low is None else low[0],
                "low_rated_with_aspect": None if low is None else low[1],
                "decided_by": r.decided_by,
                "review_ids": ordered["review_id"].head(MAX_EVIDENCE).tolist(),
                "quote": quote,
            }
        )
    out = pd.DataFrame(rows, columns=HIGHLIGHT_COLUMNS)
    types = {
        "supporting": "int64",
        "decided": "int64",
        "mentions": "int64",
        "n_reviews": "int64",
        "share": "float64",
        "mention_share": "float64",
        "review_share": "float64",
        "low_rated_reviews": "Int64",
        "low_rated_with_aspect": "Int64",
    }
    if out.empty:
        return out.astype(types)
    order = {"strength": 0, "weakness": 1, "complaint": 2}
    out = out.astype(types).assign(_o=out["polarity"].map(order))
    return (
        out.sort_values(["restaurant_id", "_o", "supporting"], ascending=[True, True, False])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def complaint_aspects(strengths: pd.DataFrame) -> dict[str, set[str]]:
    """restaurant -> its complaint aspects (a minority's criticism the counts report)."""
    c = strengths[strengths["polarity"] == "complaint"]
    return c.groupby("restaurant_id")["aspect"].apply(set).to_dict()


def highlight_problems(hl: pd.DataFrame, mentions: pd.DataFrame, prevalence: pd.DataFrame) -> list[str]:
    """Why `strengths` would not follow the counts: evidence reviews whose mention of the aspect
    has another polarity, or a prevalence that differs from `aspect_prevalence` (the check
    `highlights_follow_counts`)."""
    problems = []
    pol_of = {(r.review_id, r.aspect): r.polarity for r in mentions.itertuples()}
    prev_by = prevalence.set_index(["restaurant_id", "aspect"])
    for r in hl.itertuples():
        want = HIGHLIGHT_KINDS[r.polarity]
        if not len(r.review_ids) or any(pol_of.get((i, r.aspect)) != want for i in r.review_ids):
            problems.append(f"{r.restaurant_id}/{r.aspect}: evidence")
        p = prev_by.loc[(r.restaurant_id, r.aspect)]
        status_ok = p["status"] == r.polarity if r.polarity != "complaint" else p["status"] != "weakness"
        if not status_ok or int(p[want]) != r.supporting or int(p["decided"]) != r.decided:
            problems.append(f"{r.restaurant_id}/{r.aspect}: counts")
    return problems


def highlights_markdown(strengths: pd.DataFrame, restaurant_id: str) -> str:
    """A short preview of one restaurant's strengths, weaknesses and complaints with counts and quotes."""
    g = strengths[strengths["restaurant_id"] == restaurant_id]
    lines = [f"**{restaurant_id}**"]
    for pol, title in (("strength", "Strengths"), ("weakness", "Weaknesses"), ("complaint", "Complaints")):
        items = g[g["polarity"] == pol]
        lines.append(f"- {title}: " + ("none found" if items.empty else ""))
        for it in items.itertuples():
            lines.append(f"  - {it.prevalence} — “{it.quote}”")
    return "\n".join(lines)


#: the columns of aspect_prevalence shown in its preview
PREVALENCE_PREVIEW = [
    "restaurant_id",
    "aspect",
    "mentions",
    "positive",
    "negative",
    "neutral",
    "undecided",
    "status",
    "decided_by",
]


def prevalence_and_highlights(
    mentions: pd.DataFrame,
    reviews: pd.DataFrame,
    top_k: pd.DataFrame,
    llm_read: dict[str, int],
    rule: HighlightRule,
) -> tuple[pd.DataFrame, pd.DataFrame, dict, dict]:
    """(aspect_prevalence, strengths, and what each records about itself) for the restaurants of
    ``reviews``: ``mentions`` resolved (lexicon, then the LLM), ``top_k`` ranks the quotes,
    ``llm_read``: the reviews the LLM read per restaurant."""
    counts = reviews.groupby("restaurant_id").size().to_dict()
    # the reviewers' own sub-ratings beside the reading's shares, where the export has them
    prev = subrating_columns(aspect_prevalence(mentions, counts, rule, llm_read), reviews)
    langs = {r: restaurant_language(g["text"]) for r, g in reviews.groupby("restaurant_id")}
    hl = highlights(
        prev, mentions, dict(zip(top_k["review_id"], top_k["rank"])), langs, rule, low_rated_reviews(reviews)
    )
    n = len(mentions)
    prev_figures = {
        "rule": str(rule),
        "restaurants": len(counts),
        "restaurants_read_by_llm": len(llm_read),
        "undecided_share": float(mentions["polarity"].isna().mean()) if n else 0.0,
        "neutral_share": float((mentions["polarity"] == "neutral").mean()) if n else 0.0,
    }
    kinds = hl["polarity"].value_counts()
    hl_figures = {
        "highlights_markdown": "\n\n".join(highlights_markdown(hl, r) for r in sorted(counts)[:20]),
        "strengths": int(kinds.get("strength", 0)),
        "weaknesses": int(kinds.get("weakness", 0)),
        "complaints": int(kinds.get("complaint", 0)),
        "restaurants_without_weakness": len(set(counts) - set(hl.loc[hl["polarity"] == "weakness", "restaurant_id"])),
        "rule": str(rule),
    }
    return prev, hl, prev_figures, hl_figures

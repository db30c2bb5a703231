"""What changed: aspect counts per calendar month, and changes between a recent and a previous window.

`aspect_trends` (:func:`monthly_trends`): per restaurant, aspect and calendar month (UTC, of the
review's `created_at`): the restaurant's reviews that month, the aspect's mentions and positive /
negative / neutral / undecided counts, and each share of the decided mentions with a 95 % **Wilson
score interval** (it stays inside [0, 1] and is honest for the small monthly counts a restaurant
has, where the normal approximation is not). Reviews without a date are counted as undated and
left out of the months, never placed in one.

`aspect_changes` (:func:`detect_changes`): the **recent window** is the last ``recent_months``
(3) calendar months that have reviews, the **previous window** the ``previous_months`` (6) months
with reviews before it. Per aspect, the share of the window's *reviews* that complain about it
(negative mentions / reviews: how common the complaint is, the figure an owner reads) is compared
with **Fisher's exact test** (exact for small counts, where a z-test is not), and the p-values of a
restaurant's aspects are corrected for multiple comparisons with **Benjamini-Hochberg**
(`scipy.stats.false_discovery_control`). A change is reported when q < ``alpha`` (0.05) and the
share moved by at least ``min_change`` (5 points); it carries both windows' n, and for a rise
the evidence review ids and a quote from the recent window. A restaurant with fewer than
``min_recent_reviews`` (15) reviews in the recent window gets "not enough recent reviews (n)",
never a false alarm; one with a single month of dated reviews says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from .prevalence import MAX_EVIDENCE

TREND_COLUMNS = [
    "restaurant_id",
    "aspect",
    "month",
    "reviews",
    "mentions",
    "positive",
    "negative",
    "neutral",
    "undecided",
    "decided",
    *[f"{p}_{k}" for p in ("positive", "negative", "neutral") for k in ("share", "lo", "hi")],
]
CHANGE_COLUMNS = [
    "restaurant_id",
    "aspect",
    "status",
    "recent_months",
    "previous_months",
    "recent_reviews",
    "previous_reviews",
    "recent_negative",
    "previous_negative",
    "recent_share",
    "previous_share",
    "change",
    "p_value",
    "q_value",
    "evidence_review_ids",
    "quote",
    "note",
]
ROSE, FELL, STEADY, TOO_FEW = "rose", "fell", "no change", "not enough recent reviews"


@dataclass(frozen=True)
class ChangeRule:
    recent_months: int = 3
    previous_months: int = 6
    min_recent_reviews: int = 15
    alpha: float = 0.05
    min_change: float = 0.05


def wilson(k: int, n: int, z: float = 1.959964) -> tuple[float | None, float | None, float | None]:
    """(share, low, high) of k successes in n trials, 95 % Wilson score interval; None when n = 0."""
    if n <= 0:
        return None, None, None
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def _months(reviews: pd.DataFrame) -> pd.Series:
    """review_id -> 'YYYY-MM' (UTC) for dated reviews."""
    dated = reviews.dropna(subset=["created_at"])
    when = pd.to_datetime(dated["created_at"], utc=True, errors="coerce")
    return pd.Series(when.dt.strftime("%Y-%m").values, index=dated["review_id"].values).dropna()


def monthly_trends(reviews: pd.DataFrame, mentions: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """(trend rows, restaurant -> undated reviews). ``mentions``: resolved mentions
    (extract.resolve_polarities). Every month a restaurant has reviews gets a row per aspect it
    mentions at all (0 mentions included: a share is never read without its n)."""
    month_of = _months(reviews)
    undated = reviews[~reviews["review_id"].isin(month_of.index)].groupby("restaurant_id").size().astype(int).to_dict()
    rev = reviews[reviews["review_id"].isin(month_of.index)].assign(month=lambda d: d["review_id"].map(month_of))
    volume = rev.groupby(["restaurant_id", "month"]).size()
    men = mentions[mentions["review_id"].isin(month_of.index)].assign(month=lambda d: d["review_id"].map(month_of))
    rows = []
    for restaurant_id, g in men.groupby("restaurant_id"):
        months = volume.loc[restaurant_id].index if restaurant_id in volume.index.get_level_values(0) else []
        for aspect, ga in g.groupby("aspect"):
            by_month = {m: gm for m, gm in ga.groupby("month")}
            for month in months:
                gm = by_month.get(month, ga.iloc[0:0])
                counts = {p: int((gm["polarity"] == p).sum()) for p in ("positive", "negative", "neutral")}
                decided = sum(counts.values())
                row = {
                    "restaurant_id": restaurant_id,
                    "aspect": aspect,
                    "month": month,
                    "reviews": int(volume.loc[(restaurant_id, month)]),
                    "mentions": len(gm),
                    **counts,
                    "undecided": int(gm["polarity"].isna().sum()),
                    "decided": decided,
                }
                for p in ("positive", "negative", "neutral"):
                    row[f"{p}_share"], row[f"{p}_lo"], row[f"{p}_hi"] = wilson(counts[p], decided)
                rows.append(row)
    out = pd.DataFrame(rows, columns=TREND_COLUMNS)
    floats = {c: "float64" for c in TREND_COLUMNS if c.endswith(("_share", "_lo", "_hi"))}
    return out.astype(floats).sort_values(["restaurant_id", "aspect", "month"]).reset_index(drop=True), undated


def fisher_p(k_a: int, n_a: int, k_b: int, n_b: int) -> float:
    """Fisher's exact test (two-sided) of k_a of n_a against k_b of n_b."""
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k_a, n_a - k_a], [k_b, n_b - k_b]])[1])


def with_q_values(tested: list[dict]) -> list[dict]:
    """Each row's ``q_value``: its ``p_value`` corrected with Benjamini-Hochberg over ``tested``."""
    from scipy.stats import false_discovery_control

    if tested:
        for r, q in zip(tested, false_discovery_control([r["p_value"] for r in tested], method="bh")):
            r["q_value"] = float(q)
    return tested


def detect_changes(reviews: pd.DataFrame, mentions: pd.DataFrame, rule: ChangeRule = ChangeRule()) -> pd.DataFrame:
    """One row per (restaurant, aspect it mentions): the complaint share in the recent and the
    previous window, the test's p and BH q value, and the status (see the module)."""

    month_of = _months(reviews)
    rows = []
    for restaurant_id, rev in reviews.groupby("restaurant_id"):
        months = sorted(set(month_of.reindex(rev["review_id"]).dropna()))
        men = mentions[mentions["restaurant_id"] == restaurant_id]
        aspects = sorted(set(men["aspect"]))
        recent, previous = (
            months[-rule.recent_months :],
            months[-rule.recent_months - rule.previous_months : -rule.recent_months],
        )
        in_recent = set(rev.loc[rev["review_id"].map(month_of).isin(recent), "review_id"])
        in_previous = set(rev.loc[rev["review_id"].map(month_of).isin(previous), "review_id"])
        base = {
            "restaurant_id": restaurant_id,
            "recent_months": f"{recent[0]}..{recent[-1]}" if recent else None,
            "previous_months": f"{previous[0]}..{previous[-1]}" if previous else None,
            "recent_reviews": len(in_recent),
            "previous_reviews": len(in_previous),
        }
        note = None
        if len(months) <= 1:
            note = f"one month of dated reviews ({months[0]})" if months else "no dated reviews"
        elif len(in_recent) < rule.min_recent_reviews or not in_previous:
            note = f"{TOO_FEW} ({len(in_recent)})"
        tested = []
        for aspect in aspects:
            neg = men[(men["aspect"] == aspect) & (men["polarity"] == "negative")]
            k_r, k_p = int(neg["review_id"].isin(in_recent).sum()), int(neg["review_id"].isin(in_previous).sum())
            row = {
                **base,
                "aspect": aspect,
                "recent_negative": k_r,
                "previous_negative": k_p,
                "recent_share": k_r / len(in_recent) if in_recent else None,
                "previous_share": k_p / len(in_previous) if in_previous else None,
                "change": None,
                "p_value": None,
                "q_value": None,
                "evidence_review_ids": [],
                "quote": None,
                "status": TOO_FEW if note else STEADY,
                "note": note,
            }
            if not note:
                row["change"] = row["recent_share"] - row["previous_share"]
                row["p_value"] = fisher_p(k_r, len(in_recent), k_p, len(in_previous))
                recent_neg = neg[neg["review_id"].isin(in_recent)]
                row["evidence_review_ids"] = recent_neg["review_id"].head(MAX_EVIDENCE).tolist()
                row["quote"] = recent_neg["quote"].iloc[0] if len(recent_neg) else None
                tested.append(row)
            rows.append(row)
        for r in with_q_values(tested):
            if r["q_value"] < rule.alpha and abs(r["change"]) >= rule.min_change:
                r["status"] = ROSE if r["change"] > 0 else FELL
            if r["status"] != ROSE:
                r["evidence_review_ids"], r["quote"] = [], None
    out = pd.DataFrame(rows, columns=CHANGE_COLUMNS)
    floats = {c: "float64" for c in ("recent_share", "previous_share", "change", "p_value", "q_value")}
    ints = {c: "int64" for c in ("recent_reviews", "previous_reviews", "recent_negative", "previous_negative")}
    return out.astype({**floats, **ints}).reset_index(drop=True)


def emerging_complaints(changes: pd.DataFrame) -> pd.DataFrame:
    """The rows whose complaint share rose significantly (the WARN check `emerging_complaint`)."""
    return changes[changes["status"] == ROSE].reset_index(drop=True)

"""The reviewers' own per-aspect ratings (delivery-app exports: taste, quantity, delivery stars
beside the total), beside what the reading finds in the text.

``aspect_ratings`` (a JSON object aspect -> 1-5 per review, see ``ingest/validate.py``) gives, per
restaurant and aspect, how many reviews rated it (``subrating_n``), their mean and the share rated
:data:`LOW` or lower (``subrating_low_share``): columns of `aspect_prevalence` next to the reading's
shares. :func:`subrating_agreement` compares the two per review, on reviews with both a decided
positive or negative mention and a sub-rating of the same aspect: a negative mention agrees with a
sub-rating of at most :data:`LOW`, a positive one with at least :data:`HIGH` (a 3 agrees with
neither). The WARN check `lexicon_agrees_with_subratings` reports it with n, under ``threshold``.
"""

from __future__ import annotations

import json

import pandas as pd

from ..checks import CheckOutcome

LOW, HIGH = 2.0, 4.0
SUBRATING_COLUMNS = ["subrating_n", "subrating_mean", "subrating_low_share"]
#: agreement below this warns
AGREEMENT_THRESHOLD = 0.8


def subratings_long(reviews: pd.DataFrame) -> pd.DataFrame:
    """(restaurant_id, review_id, aspect, subrating): one row per review and rated aspect."""
    cols = ["restaurant_id", "review_id", "aspect", "subrating"]
    if "aspect_ratings" not in reviews.columns:
        return pd.DataFrame(columns=cols)
    rows = []
    for rid, review_id, value in zip(reviews["restaurant_id"], reviews["review_id"], reviews["aspect_ratings"]):
        if not isinstance(value, str) or not value:
            continue
        try:
            got = json.loads(value)
        except ValueError:
            continue
        rows += [(rid, review_id, a, float(v)) for a, v in got.items() if v is not None]
    return pd.DataFrame(rows, columns=cols)


def subrating_columns(prevalence: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    """``prevalence`` with :data:`SUBRATING_COLUMNS` (NULL where no review rated the aspect)."""
    long = subratings_long(reviews)
    if long.empty:
        return prevalence.assign(subrating_n=0, subrating_mean=float("nan"), subrating_low_share=float("nan"))
    agg = (
        long.groupby(["restaurant_id", "aspect"])["subrating"]
        .agg(subrating_n="size", subrating_mean="mean", subrating_low_share=lambda s: float((s <= LOW).mean()))
        .reset_index()
    )
    out = prevalence.drop(columns=[c for c in SUBRATING_COLUMNS if c in prevalence.columns]).merge(
        agg, on=["restaurant_id", "aspect"], how="left"
    )
    return out.astype({"subrating_n": "float64"}).fillna({"subrating_n": 0}).astype({"subrating_n": "int64"})


def subrating_agreement(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """Per aspect: reviews with a decided positive or negative mention and a sub-rating of it (n),
    and the share where they agree (module docstring)."""
    long = subratings_long(reviews)
    m = mentions[mentions["polarity"].isin(["positive", "negative"])][["review_id", "aspect", "polarity"]]
    both = long.merge(m, on=["review_id", "aspect"])
    if both.empty:
        return pd.DataFrame(columns=["aspect", "n", "agreement", "negative_n", "negative_agreement"])
    both["agrees"] = ((both["polarity"] == "negative") & (both["subrating"] <= LOW)) | (
        (both["polarity"] == "positive") & (both["subrating"] >= HIGH)
    )
    rows = []
    for aspect, g in both.groupby("aspect", sort=True):
        negatives = g[g["polarity"] == "negative"]
        rows.append(
            {
                "aspect": aspect,
                "n": len(g),
                "agreement": float(g["agrees"].mean()),
                "negative_n": len(negatives),
                "negative_agreement": float(negatives["agrees"].mean()) if len(negatives) else None,
            }
        )
    total = pd.DataFrame(rows)
    overall = {
        "aspect": "all",
        "n": len(both),
        "agreement": float(both["agrees"].mean()),
        "negative_n": int((both["polarity"] == "negative").sum()),
        "negative_agreement": float(both.loc[both["polarity"] == "negative", "agrees"].mean())
        if (both["polarity"] == "negative").any()
        else None,
    }
    return pd.concat([total, pd.DataFrame([overall])], ignore_index=True)


def subrating_check(
    reviews: pd.DataFrame, mentions: pd.DataFrame, threshold: float = AGREEMENT_THRESHOLD
) -> CheckOutcome:
    """`lexicon_agrees_with_subratings`: passes without sub-ratings (nothing to compare, n = 0)."""
    table = subrating_agreement(reviews, mentions)
    if table.empty:
        return CheckOutcome(True, {"n": 0, "note": "no review has both a sub-rating and a decided mention of it"})
    overall = table[table["aspect"] == "all"].iloc[0]
    return CheckOutcome(
        bool(overall["agreement"] >= threshold),
        {
            "n": int(overall["n"]),
            "agreement": round(float(overall["agreement"]), 3),
            "threshold": threshold,
            "per_aspect": table.round(3).astype(object).where(table.notna(), None).to_dict(orient="records"),
        },
    )

"""Which reviews the LLM reads: all of a restaurant's, or a sample drawn to represent them all.

The TOP-K context (reviews nearest the representative vector) is the majority opinion by
construction: a restaurant with 12 % one-star reviews gets 20 five-star ones as its context. It
is right for summary prose and wrong for prevalence. Prevalence figures (sentiment shares) are
therefore estimated over a **stratified sample**: strata are star ratings rounded to 1..5 (one
stratum ``unrated`` for reviews without a rating), the sample size is split across strata in
proportion to their size (largest remainders), every non-empty stratum gets at least one review
when the size allows, and each sampled review carries the weight ``stratum size / stratum
sample size`` so that weighted shares estimate the whole restaurant. Within a stratum, reviews
are taken in the order of a hash of their id: deterministic, and stable when new reviews arrive
(most earlier picks stay, so the LLM cache keeps serving them).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

SAMPLE_COLUMNS = ["restaurant_id", "review_id", "stratum", "weight"]


def _stratum(rating) -> str:
    if rating is None or pd.isna(rating):
        return "unrated"
    return f"{int(min(5, max(1, round(float(rating)))))}-star"


def _order(review_id: str) -> str:
    return hashlib.sha1(str(review_id).encode("utf-8")).hexdigest()


def allocate(sizes: dict[str, int], n: int) -> dict[str, int]:
    """Proportional allocation of ``n`` over strata of ``sizes`` (largest remainders), at least
    one per non-empty stratum when ``n`` allows, never more than a stratum holds."""
    total = sum(sizes.values())
    if n >= total:
        return dict(sizes)
    keys = [k for k, v in sizes.items() if v > 0]
    alloc = {k: 0 for k in sizes}
    if n >= len(keys):
        for k in keys:
            alloc[k] = 1
    exact = {k: (n - sum(alloc.values())) * sizes[k] / total for k in keys}
    for k in keys:
        alloc[k] += min(int(np.floor(exact[k])), sizes[k] - alloc[k])
    rest = n - sum(alloc.values())
    for k in sorted(keys, key=lambda k: (-(exact[k] - np.floor(exact[k])), k)):
        if rest <= 0:
            break
        if alloc[k] < sizes[k]:
            alloc[k] += 1
            rest -= 1
    return alloc


def stratified_sample(reviews: pd.DataFrame, size: int | None) -> pd.DataFrame:
    """Per restaurant, ``size`` reviews (all when ``size`` is None / <= 0 or the restaurant has
    fewer) with their stratum and weight. ``reviews``: restaurant_id, review_id, rating."""
    rows = []
    for restaurant_id, g in reviews.groupby("restaurant_id", sort=True):
        strata = g["rating"].map(_stratum) if "rating" in g else pd.Series("unrated", index=g.index)
        groups = {s: sorted(g.loc[strata == s, "review_id"].tolist(), key=_order) for s in sorted(set(strata))}
        want = len(g) if not size or size <= 0 else min(size, len(g))
        alloc = allocate({s: len(ids) for s, ids in groups.items()}, want)
        for s, ids in groups.items():
            k = alloc[s]
            for review_id in ids[:k]:
                rows.append(
                    {"restaurant_id": restaurant_id, "review_id": review_id, "stratum": s, "weight": len(ids) / k}
                )
    return pd.DataFrame(rows, columns=SAMPLE_COLUMNS).astype({"weight": "float64"})

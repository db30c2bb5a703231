"""Blocking asset checks on `reviews`: a failure stops downstream steps in the run."""

import dagster as dg
import pandas as pd

from .ingest import reviews


def _result(bad: pd.DataFrame, what: str) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=bad.empty,
        metadata={
            "failing_rows": len(bad),
            "examples": dg.MetadataValue.md(bad.head(5).to_markdown(index=False) if len(bad) else f"no {what}"),
        },
    )


@dg.asset_check(asset=reviews, blocking=True, description="Every review has non-empty text.")
def reviews_text_not_empty(reviews: pd.DataFrame) -> dg.AssetCheckResult:
    bad = reviews[reviews["text"].isna() | (reviews["text"].astype(str).str.strip() == "")]
    return _result(bad[["restaurant_id", "review_id"]], "empty text")


@dg.asset_check(asset=reviews, blocking=True, description="review_id is unique within each restaurant.")
def reviews_unique_review_id(reviews: pd.DataFrame) -> dg.AssetCheckResult:
    bad = reviews[reviews.duplicated(["restaurant_id", "review_id"], keep=False)]
    return _result(bad[["restaurant_id", "review_id"]], "duplicates")


@dg.asset_check(asset=reviews, blocking=True, description="rating, where present, is within 1-5.")
def reviews_rating_in_range(reviews: pd.DataFrame) -> dg.AssetCheckResult:
    r = reviews["rating"]
    bad = reviews[r.notna() & ((r < 1) | (r > 5))]
    return _result(bad[["restaurant_id", "review_id", "rating"]], "out-of-range ratings")


review_checks = [reviews_text_not_empty, reviews_unique_review_id, reviews_rating_in_range]

"""The reviews table as a DataFrame (canonical columns and types), its checks, and rejection rows as a frame."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd

from ..checks import CheckOutcome
from .schema import REJECT_COLUMNS, REJECTED, REVIEW_COLUMNS, Rejection


def normalize_reviews_frame(df: pd.DataFrame, extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Fixed column order and dtypes, sorted by (restaurant_id, review_id): stable across re-runs."""
    df = df.reindex(columns=list(REVIEW_COLUMNS) + list(extra)).copy()
    for col in (
        "review_id",
        "restaurant_id",
        "text",
        "restaurant_name",
        "category",
        "area",
        "source_restaurant_id",
        "source_file",
        "content_hash",
        "menu_items",
        "aspect_ratings",
    ):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    df["rating"] = pd.to_numeric(df["rating"], errors="coerce").astype("float64")
    df["created_at"] = pd.to_datetime(df["created_at"]).astype("datetime64[us]")
    df["helpful_count"] = pd.to_numeric(df["helpful_count"], errors="coerce").fillna(0).astype("int64")
    df["source_row"] = pd.to_numeric(df["source_row"], errors="coerce").fillna(0).astype("int64")
    return df.sort_values(["restaurant_id", "review_id"], kind="stable").reset_index(drop=True)


#: what `reviews` promises downstream (blocking checks): check name -> (description, failing rows)
REVIEW_CHECKS = {
    "reviews_text_not_empty": "Every review has non-empty text.",
    "reviews_unique_review_id": "review_id is unique within each restaurant.",
    "reviews_rating_in_range": "rating, where present, is within 1-5.",
}


def review_check_failures(reviews: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The rows of ``reviews`` that break each of REVIEW_CHECKS (empty frames when all hold)."""
    text, rating = reviews["text"], reviews["rating"]
    ids = ["restaurant_id", "review_id"]
    return {
        "reviews_text_not_empty": reviews.loc[text.isna() | (text.astype(str).str.strip() == ""), ids],
        "reviews_unique_review_id": reviews.loc[reviews.duplicated(ids, keep=False), ids],
        "reviews_rating_in_range": reviews.loc[rating.notna() & ((rating < 1) | (rating > 5)), [*ids, "rating"]],
    }


#: the check on the share of a restaurant's rows that were quarantined (WARN, not blocking)
REJECTED_SHARE_CHECK = "rejected_share_below_threshold"


def review_check_outcomes(reviews: pd.DataFrame, rejected_rows: int, threshold: float) -> dict[str, CheckOutcome]:
    """REVIEW_CHECKS on ``reviews`` (failing rows and examples), and the quarantined share of the
    restaurants' rows against ``threshold``."""
    out = {
        name: CheckOutcome(
            bad.empty,
            {"failing_rows": len(bad), "examples": bad.head(5).to_markdown(index=False) if len(bad) else "none"},
            markdown=("examples",),
        )
        for name, bad in review_check_failures(reviews).items()
    }
    share = rejected_share(rejected_rows, len(reviews))
    out[REJECTED_SHARE_CHECK] = CheckOutcome(
        bool(share <= threshold),
        {
            "rejected_share": share,
            "threshold": threshold,
            "rejected_rows": rejected_rows,
            "accepted_rows": len(reviews),
        },
    )
    return out


def rejected_share(rejected_rows: int, accepted_rows: int) -> float:
    return float(round(rejected_rows / max(1, rejected_rows + accepted_rows), 4))


def rejection_reasons(rejected: pd.DataFrame, top: int = 20) -> pd.DataFrame:
    """The most frequent reasons, with quoted values and numbers folded (``'…'``) so that one
    kind of problem is one line."""
    reasons = rejected["reason"].str.replace(r"'.*?'|\d+", "…", regex=True).value_counts().head(top)
    return reasons.rename("rows").to_frame()


def rejections_frame(rows: list[dict] | list[Rejection], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    rows = [asdict(r) if isinstance(r, Rejection) else r for r in rows]
    columns = list(REJECT_COLUMNS) + list(extra)
    df = pd.DataFrame(rows, columns=columns).reindex(columns=columns)
    df["source_row"] = pd.to_numeric(df["source_row"]).astype("int64")
    df["severity"] = df["severity"].fillna(REJECTED)
    for col in ("source_file", "review_id", "restaurant_id", "severity", "reason", "raw"):
        df[col] = df[col].astype("object").where(df[col].notna(), None)
    return df.sort_values(["source_file", "source_row", "severity", "reason"], kind="stable").reset_index(drop=True)

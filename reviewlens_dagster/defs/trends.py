"""Stage 3b: `aspect_trends` + `aspect_changes` — what changed, per restaurant (no LLM).

Counts per aspect and calendar month with Wilson intervals, and the complaints whose share of
reviews rose or fell between the recent and the previous window (core/analysis/trends.py).
"""

import dagster as dg
import pandas as pd

from ..core.analysis.checks import trend_checks
from ..core.analysis.extract import LEXICON_COLUMNS, LLM_POLARITY_COLUMNS, resolve_polarities
from ..core.analysis.trends import ROSE, ChangeRule, detect_changes, monthly_trends
from ..core.config import validate_restaurant_ids
from .analysis import _out
from .common import check_results, check_spec, of_run
from .metadata import frame_metadata, preview
from .partitions import (
    EAGER_PAST_LLM,
    PARTITION_EXPR,
    per_restaurant,
    stage_multi_asset,
)

TREND_CHECKS = [
    check_spec(
        "emerging_complaint",
        "aspect_changes",
        False,
        "No complaint's share of reviews rose significantly between the previous and the recent window "
        "(Fisher's exact test, Benjamini-Hochberg q < 0.05, at least 5 points).",
    ),
]


@stage_multi_asset(
    **per_restaurant(),
    outs={
        "aspect_trends": _out(
            "Per restaurant, aspect and calendar month: the restaurant's reviews, the aspect's mentions and "
            "positive / negative / neutral counts, each share with a 95 % Wilson interval. Undated reviews are "
            "left out (counted in the metadata).",
            {"python", "duckdb"},
            PARTITION_EXPR,
            EAGER_PAST_LLM,
        ),
        "aspect_changes": _out(
            "Per restaurant and aspect: the share of reviews complaining about it in the recent window (last 3 "
            "months with reviews) against the previous one (6 months), Fisher's exact test with BH correction, "
            "the status (rose / fell / no change / not enough recent reviews) and, for a rise, evidence.",
            {"python", "duckdb"},
            {**PARTITION_EXPR, "list_columns": ["evidence_review_ids"]},
            EAGER_PAST_LLM,
        ),
    },
    check_specs=TREND_CHECKS,
    can_subset=False,
)
def aspect_trends(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    aspect_mentions: pd.DataFrame,
    llm_aspect_polarities: pd.DataFrame,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev = of_run(reviews, keys)
    men = resolve_polarities(
        of_run(aspect_mentions, keys, LEXICON_COLUMNS), of_run(llm_aspect_polarities, keys, LLM_POLARITY_COLUMNS)
    )
    trends, undated = monthly_trends(rev, men)
    rule = ChangeRule()
    changes = detect_changes(rev, men, rule)
    moved = changes[changes["status"].isin([ROSE, "fell"])]
    context.log.info(
        f"trends of {len(keys)} restaurant(s): {trends['month'].nunique()} month(s), {len(moved)} change(s); "
        f"{sum(undated.values())} undated review(s) left out"
    )
    yield dg.Output(
        trends,
        output_name="aspect_trends",
        metadata=frame_metadata(
            trends[["restaurant_id", "aspect", "month", "reviews", "mentions", "negative", "negative_share"]],
            undated_reviews=int(sum(undated.values())),
            months=int(trends["month"].nunique()),
            interval="95 % Wilson score interval over the month's decided mentions",
        ),
    )
    yield dg.Output(
        changes,
        output_name="aspect_changes",
        metadata=frame_metadata(
            changes[["restaurant_id", "aspect", "status", "recent_share", "previous_share", "q_value"]],
            changes=preview(moved[["restaurant_id", "aspect", "status", "change", "recent_reviews", "quote"]], 20),
            rule=str(rule),
            rose=int((changes["status"] == ROSE).sum()),
            restaurants_with_too_few_recent_reviews=int(
                changes.loc[changes["note"].notna(), "restaurant_id"].nunique()
            ),
        ),
    )
    yield from check_results(trend_checks(changes), TREND_CHECKS)

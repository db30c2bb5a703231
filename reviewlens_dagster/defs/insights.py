"""Why and which dish: `aspect_reasons` (the reasons behind each aspect's counts) and
`dish_insights` (per ordered item: complaints, reasons, trailing or leading the restaurant's other
items). Both count over every review (no LLM), refined where the LLM decided a polarity; the logic
is in core (``core/analysis/reasons.py``, ``core/analysis/dishes.py``)."""

import dagster as dg
import pandas as pd

from ..core.analysis.dishes import DishRule, dish_figures
from ..core.analysis.dishes import dish_insights as compute_dish_insights
from ..core.analysis.extract import LEXICON_COLUMNS, LLM_POLARITY_COLUMNS, resolve_polarities
from ..core.analysis.prompts import restaurant_language
from ..core.analysis.reasons import aspect_reasons as compute_aspect_reasons
from ..core.analysis.reasons import reasons_markdown
from ..core.config import validate_restaurant_ids
from .common import of_run
from .metadata import frame_metadata, preview
from .partitions import EAGER_PAST_LLM, PARTITION_EXPR, restaurant_table, stage_asset

WITH_LISTS = {**PARTITION_EXPR, "list_columns": ["review_ids", "variants", "top_reasons"]}


def _mentions(aspect_mentions: pd.DataFrame, llm_aspect_polarities: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return resolve_polarities(
        of_run(aspect_mentions, keys, LEXICON_COLUMNS), of_run(llm_aspect_polarities, keys, LLM_POLARITY_COLUMNS)
    )


@stage_asset(**restaurant_table("analysis", {"python", "duckdb"}, EAGER_PAST_LLM, WITH_LISTS))
def aspect_reasons(
    context: dg.AssetExecutionContext,
    aspect_mentions: pd.DataFrame,
    llm_aspect_polarities: pd.DataFrame,
    reviews: pd.DataFrame,
):
    """Per restaurant, aspect and polarity: each reason reviewers give (늦다, 식다, 50분 이상, 불친절하다),
    synonyms merged, with its count, its share of that aspect-and-polarity's mentions, the review ids
    and a whole sentence as evidence with the clause marked in it."""
    keys = validate_restaurant_ids(context.partition_keys)
    run_reviews = of_run(reviews, keys)
    out = compute_aspect_reasons(run_reviews, _mentions(aspect_mentions, llm_aspect_polarities, keys))
    shown = sorted(keys)[:10]
    lang_by = {rid: restaurant_language(run_reviews.loc[run_reviews["restaurant_id"] == rid, "text"]) for rid in shown}
    context.log.info(f"aspect_reasons: {len(out):,} reasons over {len(keys)} restaurant(s)")
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[["restaurant_id", "aspect", "polarity", "reason", "count", "share"]],
            restaurants=len(keys),
            specific_reasons=int((~out["generic"].astype(bool)).sum()) if len(out) else 0,
            reasons=dg.MetadataValue.md(reasons_markdown(out, shown, lang_by=lang_by) or "_none_"),
        ),
    )


@stage_asset(**restaurant_table("analysis", {"python", "duckdb"}, EAGER_PAST_LLM, WITH_LISTS))
def dish_insights(
    context: dg.AssetExecutionContext,
    aspect_mentions: pd.DataFrame,
    llm_aspect_polarities: pd.DataFrame,
    reviews: pd.DataFrame,
):
    """Per restaurant and ordered item (the export's menu column, else the restaurant's item names found
    in the text) with at least 5 reviews: mean rating, taste and quantity complaint shares, top reasons,
    and whether it trails or leads the restaurant's other items (Fisher's exact test + Benjamini-Hochberg,
    both n shown)."""
    keys = validate_restaurant_ids(context.partition_keys)
    rule = DishRule()
    out = compute_dish_insights(of_run(reviews, keys), _mentions(aspect_mentions, llm_aspect_polarities, keys), rule)
    figures = dish_figures(out)
    context.log.info(f"dish_insights: {figures}")
    shown = out[
        ["restaurant_id", "item", "reviews", "complaint_share", "others_complaint_share", "q_value", "position"]
    ]
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[["restaurant_id", "item", "reviews", "position"]],
            rule=str(rule),
            per_item=preview(shown.round(3), rows=30),
            **figures,
        ),
    )

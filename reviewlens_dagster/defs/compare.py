"""Stage 4: `comparisons` — each restaurant's aspects against its comparison group."""

import dagster as dg
import pandas as pd

from ..core.analysis.prevalence import PREVALENCE_COLUMNS
from ..core.compare import (
    COMPARISON_PREVIEW,
    GroupConfig,
    aspect_comparisons,
    chart_series,
    comparison_figures,
    index_strengths,
)
from ..core.config import validate_restaurant_ids
from .metadata import frame_metadata, group_strip_chart
from .partitions import (
    VECTORS,
    restaurant_table,
    stage_asset,
)
from .resources import CompareResource, EmbedderResource, VectorStoreResource

#: restaurants of a run drawn in the metadata (one small chart each; a nightly run of thousands would
#: bloat the event log)
CHART_RESTAURANTS = 40


@stage_asset(**restaurant_table("analysis", {"python", "qdrant", "duckdb"}, pool=VECTORS, deps=["aspect_prevalence"]))
def comparisons(
    context: dg.AssetExecutionContext,
    highlights: pd.DataFrame,
    restaurant_vectors: pd.DataFrame,
    vector_store: VectorStoreResource,
    embedder: EmbedderResource,
    compare_settings: CompareResource,
):
    """Per aspect: the restaurant's positive share against its comparison group's (same category
    and area, else category, else all; a group below `min_group_size` is reported as
    `too_small` with no figure), and for strengths the embedding view: similarity to the group's
    strengths (Qdrant collection `strengths`) and distinctiveness. See core/compare.py."""
    keys = validate_restaurant_ids(context.partition_keys)
    # every restaurant's counts, not only this run's: the group spans partitions. Read from the
    # warehouse table, not as an input with an all-partitions mapping: that would make every
    # restaurant's comparison wait for, and re-run after, any other restaurant's analysis.
    prevalence = compare_settings.warehouse.warehouse().read("aspect_prevalence", PREVALENCE_COLUMNS)
    own = highlights[(highlights["polarity"] == "strength") & highlights["restaurant_id"].isin(keys)]
    with vector_store.open() as store:
        strength_vectors, group_meta, in_store = index_strengths(store, embedder.get(), own, restaurant_vectors, keys)
    cfg = GroupConfig(
        min_group_size=compare_settings.min_group_size,
        threshold=compare_settings.strength_sim_threshold,
        min_mentions=compare_settings.min_mentions,
    )
    out, spread = aspect_comparisons(keys, prevalence, group_meta, cfg, strength_vectors)
    charts = [group_strip_chart(*series) for series in chart_series(out, spread, keys, CHART_RESTAURANTS)]
    figures = comparison_figures(out, keys, cfg, in_store)
    context.log.info(
        f"compared {figures['restaurants_compared']}/{len(keys)} restaurants; "
        f"{figures['groups_too_small']} aspect comparison(s) without a big enough group"
    )
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[COMPARISON_PREVIEW],
            aspect_chart=dg.MetadataValue.md("\n\n".join(charts) or "_no aspects_"),
            charts_drawn=len(charts),
            **figures,
        ),
    )

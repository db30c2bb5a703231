"""Stage 5: `restaurant_report` — one HTML page per restaurant an owner reads, and an index.

Reads the restaurant's tables, renders in core (core/owner_report.py) and writes the pages under
the reports folder; the table holds each restaurant's page path and headline figures, and the
metadata the same content as markdown.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from ..core.analysis.dishes import DISH_COLUMNS
from ..core.analysis.extract import SENTIMENT_COLUMNS
from ..core.analysis.reasons import REASON_COLUMNS
from ..core.config import validate_restaurant_ids
from ..core.owner_report import render_reports, write_pages
from .common import of_run
from .metadata import frame_metadata
from .partitions import (
    EAGER_PAST_LLM,
    restaurant_table,
    stage_asset,
)
from .resources import LLMEngineResource, ReportSettings

#: restaurants of a run whose report is shown as markdown in the metadata
MARKDOWN_RESTAURANTS = 5


@stage_asset(**restaurant_table("reports", {"html", "duckdb"}, EAGER_PAST_LLM))
def restaurant_report(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    aspect_prevalence: pd.DataFrame,
    highlights: pd.DataFrame,
    comparisons: pd.DataFrame,
    aspect_trends: pd.DataFrame,
    aspect_changes: pd.DataFrame,
    summaries: pd.DataFrame,
    sentiments: pd.DataFrame,
    aspect_reasons: pd.DataFrame,
    dish_insights: pd.DataFrame,
    report_settings: ReportSettings,
    llm: LLMEngineResource,
):
    """Self-contained HTML per restaurant (`<reports folder>/<partition key>.html`) plus `index.html`
    (every restaurant with its headline figures, sortable): figures, strengths / weaknesses /
    complaints with quotes and evidence links, what to fix first (the top complaint reasons, trailing
    dishes, aspects in the group's bottom quarter), reasons per aspect as a chart, a table per dish,
    comparison group, trend charts with detected changes, the summary and who wrote what."""
    keys = validate_restaurant_ids(context.partition_keys)
    sent = of_run(sentiments, keys, SENTIMENT_COLUMNS)
    tables = {
        "prevalence": aspect_prevalence,
        "strengths": highlights,
        "comparisons": comparisons,
        "trends": aspect_trends,
        "changes": aspect_changes,
        "summaries": summaries,
    }
    folder = Path(report_settings.reports_dir)
    pages, out, md = render_reports(
        keys,
        of_run(reviews, keys),
        {
            **{n: of_run(df, keys) for n, df in tables.items()},
            "reasons": of_run(aspect_reasons, keys, REASON_COLUMNS),
            "dishes": of_run(dish_insights, keys, DISH_COLUMNS),
        },
        sent.groupby("restaurant_id").size().to_dict(),
        llm.model_name,
        folder,
        MARKDOWN_RESTAURANTS,
        context.log.info,
    )
    write_pages(folder, pages)
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[["restaurant_id", "name", "reviews", "strengths", "weaknesses", "complaints", "changes"]],
            report=dg.MetadataValue.md("\n\n---\n\n".join(md) or "_no reviews_"),
            index=dg.MetadataValue.path(str(folder / "index.html")),
            pages_written=len(pages),
        ),
    )

"""Stage 5: `restaurant_report` — one HTML page per restaurant an owner reads, and an index.

Reads the restaurant's tables, renders in core (core/owner_report.py) and writes the pages under
the reports folder; the table holds each restaurant's page path and headline figures, and the
metadata the same content as markdown.
"""

from pathlib import Path

import dagster as dg
import pandas as pd

from ..core.analysis.extract import SENTIMENT_COLUMNS
from ..core.analysis.prompts import language_of
from ..core.config import validate_restaurant_ids
from ..core.owner_report import ReportInputs, render_page, write_pages
from .analysis import _of_run
from .metadata import frame_metadata
from .partitions import EAGER_PAST_LLM, OWNERS, PARTITION_EXPR, WAREHOUSE_POOL, restaurants_partitions, single_run
from .resources import LLMEngineResource, ReportSettings

#: restaurants of a run whose report is shown as markdown in the metadata
MARKDOWN_RESTAURANTS = 5


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    io_manager_key="warehouse_io_manager",
    metadata=PARTITION_EXPR,
    group_name="reports",
    kinds={"html", "duckdb"},
    owners=OWNERS,
    automation_condition=EAGER_PAST_LLM,
)
def restaurant_report(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    aspect_prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    comparisons: pd.DataFrame,
    aspect_trends: pd.DataFrame,
    aspect_changes: pd.DataFrame,
    summaries: pd.DataFrame,
    sentiments: pd.DataFrame,
    report_settings: ReportSettings,
    llm: LLMEngineResource,
):
    """Self-contained HTML per restaurant (`<reports folder>/<partition key>.html`) plus `index.html`
    (every restaurant with its headline figures, sortable): figures, strengths / weaknesses /
    complaints with quotes and evidence links, comparison group, trend charts with detected changes,
    the summary and who wrote what."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev = _of_run(reviews, keys)
    sent = _of_run(sentiments, keys, SENTIMENT_COLUMNS)
    tables = {
        n: _of_run(df, keys)
        for n, df in {
            "prevalence": aspect_prevalence,
            "strengths": strengths,
            "comparisons": comparisons,
            "trends": aspect_trends,
            "changes": aspect_changes,
            "summaries": summaries,
        }.items()
    }
    pages, rows, md = {}, [], []
    for i, key in enumerate(keys, start=1):
        own = rev[rev["restaurant_id"] == key]
        if own.empty:
            continue
        names = own["restaurant_name"].dropna()
        inp = ReportInputs(
            restaurant_id=key,
            name=str(names.iloc[0]) if len(names) else str(own["source_restaurant_id"].iloc[0] or key),
            lang=language_of(own["text"].fillna("").head(50).tolist()),
            reviews=own,
            **{n: t[t["restaurant_id"] == key] for n, t in tables.items()},
            llm_reviews=int((sent["restaurant_id"] == key).sum()),
            model=llm.model_name if (sent["restaurant_id"] == key).any() else None,
        )
        html, headline, text = render_page(inp)
        pages[key] = (html, headline)
        rows.append({**headline, "path": str(Path(report_settings.reports_dir) / f"{key}.html")})
        if len(md) < MARKDOWN_RESTAURANTS:
            md.append(text)
        if i % 50 == 0 or i == len(keys):
            context.log.info(f"reports {i}/{len(keys)}")
    write_pages(Path(report_settings.reports_dir), pages)
    out = pd.DataFrame(
        rows,
        columns=[
            "restaurant_id",
            "name",
            "reviews",
            "rating",
            "strengths",
            "weaknesses",
            "complaints",
            "changes",
            "lang",
            "path",
        ],
    ).astype(
        {"reviews": "int64", "strengths": "int64", "weaknesses": "int64", "complaints": "int64", "changes": "int64"}
    )
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[["restaurant_id", "name", "reviews", "strengths", "weaknesses", "complaints", "changes"]],
            report=dg.MetadataValue.md("\n\n---\n\n".join(md) or "_no reviews_"),
            index=dg.MetadataValue.path(str(Path(report_settings.reports_dir) / "index.html")),
            pages_written=len(pages),
        ),
    )

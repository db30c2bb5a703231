"""The one place that assembles the code location's Definitions."""

import dagster as dg

from .core.config import Settings
from .defs import analysis, automation, compare, ingest, insights, reporting, reports, trends, vectors
from .defs.resources import build_resources


def build_defs(settings: Settings | None = None, resources: dict | None = None) -> dg.Definitions:
    """Definitions for the given settings (default: from REVIEWLENS_* environment variables);
    ``resources`` replaces resources by key (tests, other deployments)."""
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=[
            ingest.staging,
            ingest.reviews,
            vectors.review_embeddings,
            vectors.restaurant_vectors,
            vectors.top_k_contexts,
            analysis.aspect_mentions,
            analysis.review_extractions,
            analysis.aspect_highlights,
            insights.aspect_reasons,
            insights.dish_insights,
            analysis.summary_facts,
            analysis.summaries,
            trends.aspect_trends,
            compare.comparisons,
            reports.restaurant_report,
            reporting.llm_serving_report,
        ],
        jobs=[automation.pipeline_job, automation.reviews_job, automation.staging_job, automation.reporting_job],
        sensors=[
            automation.make_incoming_sensor(running=settings.automation),
            automation.make_fanout_sensor(running=settings.automation),
            automation.make_automation_sensor(running=settings.automation),
        ],
        schedules=[automation.nightly_refresh_schedule, automation.nightly_staging_schedule],
        resources={**build_resources(settings), **(resources or {})},
        executor=dg.in_process_executor,
    )


defs = build_defs()

"""The one place that assembles the code location's Definitions."""

import dagster as dg

from .core.config import Settings
from .defs import analysis, automation, compare, ingest, insights, reporting, reports, trends, vectors
from .defs.partitions import Pools
from .defs.resources import build_resources

#: every asset of the graph, in the order of the stages
STAGES = (
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
)


def build_defs(settings: Settings | None = None, resources: dict | None = None) -> dg.Definitions:
    """Definitions for the given settings (default: from REVIEWLENS_* environment variables);
    ``resources`` replaces resources by key (tests, other deployments)."""
    settings = settings or Settings.from_env()
    pools = Pools.for_settings(settings)
    return dg.Definitions(
        assets=[stage.build(pools) for stage in STAGES],
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


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, built from the environment it is loaded with (when Dagster loads it,
    not at import)."""
    return build_defs()

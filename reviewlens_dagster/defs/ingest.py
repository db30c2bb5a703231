"""Stage 1: `staged_reviews` + `rejected_reviews` (one staging run over the incoming folder), and
`reviews` (per restaurant, a read of the staged table)."""

import dagster as dg

from ..core.config import validate_restaurant_ids
from ..core.ingest import REVIEW_CHECKS, REVIEW_COLUMNS
from ..core.ingest.frames import REJECTED_SHARE_CHECK, rejected_share, rejection_reasons, review_check_outcomes
from ..core.sources import SourcesFile
from ..core.staged_files import StagingReport
from ..core.staging import rows_version
from .common import check_results, check_spec
from .metadata import frame_metadata, preview
from .partitions import (
    OWNERS,
    RESTAURANTS,
    restaurant_table,
    stage_asset,
    stage_multi_asset,
)
from .resources import StagingResource

STAGED_KEY = dg.AssetKey("staged_reviews")
REJECTED_KEY = dg.AssetKey("rejected_reviews")


def _staging_metadata(report: StagingReport, settings: StagingResource, sources: SourcesFile) -> dict:
    changed = report.changed_restaurants
    return {
        "files": report.files,
        "files_parsed": len(report.parsed),
        "files_unchanged": report.unchanged,
        "files_touched": report.touched,
        "files_deleted": len(report.deleted),
        "files_quarantined": len(report.quarantined),
        "rows_read": report.rows_read,
        "dagster/row_count": report.reviews,
        "restaurants": report.restaurants,
        "changed_restaurant_count": len(changed),
        # the fan-out sensor requests `reviews` for exactly these partitions
        "changed_restaurants": dg.MetadataValue.json(changed),
        "staging_seconds": round(report.seconds, 3),
        "rows_per_s": round(report.rows_read / report.seconds) if report.rows_read and report.seconds else 0,
        "deleted_files_policy": settings.on_deleted_file,
        "sources_file": dg.MetadataValue.path(settings.sources_path),
        "source_mappings": dg.MetadataValue.json(
            {"files_per_mapping": report.sources_used, "mappings": sources.describe()}
        ),
    }


REVIEWS_CHECKS = [
    *(check_spec(name, "reviews", True, d) for name, d in REVIEW_CHECKS.items()),
    check_spec(
        REJECTED_SHARE_CHECK,
        "reviews",
        False,
        "Share of this restaurant's rows that were quarantined stays below the threshold.",
    ),
]


@stage_multi_asset(
    specs=[
        dg.AssetSpec(
            STAGED_KEY,
            group_name="ingest",
            kinds={"python", "duckdb"},
            owners=OWNERS,
            description="Every valid review of the incoming folder, deduplicated (newest wins): each "
            "file parsed once, new and changed files only.",
        ),
        dg.AssetSpec(
            REJECTED_KEY,
            group_name="ingest",
            kinds={"duckdb"},
            owners=OWNERS,
            description="Quarantine: every row (or whole file) that did not become a review, and "
            "warnings for optional fields set to NULL; each with its reason.",
        ),
    ],
)
def staging(context: dg.AssetExecutionContext, ingest_settings: StagingResource):
    """Stage the incoming folder into `reviewlens.staged_reviews` and `reviewlens.rejected_reviews`
    (one transaction), add the new restaurant partitions and report which restaurants changed."""
    sources = ingest_settings.sources()
    with ingest_settings.staging_store() as store:
        report = store.stage(
            ingest_settings.incoming_path,
            sources,
            ingest_settings.max_text_chars,
            ingest_settings.on_deleted_file,
            progress=context.log.info,
        )
        keys = store.restaurant_keys() if report.wrote else []
        names = store.restaurant_names(report.changed_restaurants[:50]) if report.changed_restaurants else None
        rejected = store.rejected() if report.wrote else None
        manifest = store.manifest()
    ingest_settings.write_manifest(manifest)
    for message in report.problems(ingest_settings.on_deleted_file):
        context.log.warning(message)
    known = set(context.instance.get_dynamic_partitions(RESTAURANTS))
    new = [k for k in keys if k not in known]
    if new:
        context.instance.add_dynamic_partitions(RESTAURANTS, new)
    context.log.info(report.summary(len(new)))
    meta = _staging_metadata(report, ingest_settings, sources)
    meta["new_partitions"] = len(new)
    if names is not None:
        meta["changed_restaurants_preview"] = preview(names, rows=20)
    yield dg.MaterializeResult(asset_key=STAGED_KEY, metadata=meta)
    rej_meta = {
        "rejected_rows": report.rejected,
        "warning_rows": report.warnings,
        "files_quarantined": len(report.quarantined),
    }
    if rejected is not None and len(rejected):
        rej_meta["reasons"] = dg.MetadataValue.md(rejection_reasons(rejected).to_markdown())
        rej_meta["preview"] = preview(rejected[["source_file", "source_row", "severity", "reason"]])
    yield dg.MaterializeResult(asset_key=REJECTED_KEY, metadata=rej_meta)


@stage_asset(
    **restaurant_table("ingest", {"python", "duckdb"}, condition=None, deps=[STAGED_KEY], check_specs=REVIEWS_CHECKS)
)
def reviews(context: dg.AssetExecutionContext, ingest_settings: StagingResource):
    """Validated, deduplicated reviews of each restaurant: its rows of `staged_reviews`.

    `restaurant_id` is the partition key; `source_restaurant_id` is the id as the source file
    writes it (docs/data.md "Partition keys").
    """
    keys = validate_restaurant_ids(context.partition_keys)
    with ingest_settings.staging_store() as store:
        df = store.reviews_for(keys)
        rejected = store.rejected(keys)
        names = store.restaurant_names(keys)
    errors = int((rejected["severity"] == "rejected").sum())
    empty = sorted(set(keys) - set(names["restaurant_id"]))
    if empty:
        context.log.warning(f"{len(empty)} restaurant(s) have no staged reviews: {empty[:10]}")
    yield dg.Output(
        df[list(REVIEW_COLUMNS)],
        # identical rows, identical version: downstream automation reacts to changed data only
        data_version=dg.DataVersion(rows_version(df)),
        metadata=frame_metadata(
            df[["restaurant_id", "source_restaurant_id", "review_id", "rating", "text"]],
            restaurants=len(keys),
            rejected_rows=errors,
            warning_rows=len(rejected) - errors,
            rejected_share=rejected_share(errors, len(df)),
            restaurants_without_reviews=len(empty),
            reviews_per_restaurant=preview(names, rows=50),
        ),
    )
    yield from check_results(review_check_outcomes(df, errors, ingest_settings.reject_share_threshold), REVIEWS_CHECKS)

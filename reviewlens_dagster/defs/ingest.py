"""Stage 1: `reviews` (per restaurant) and `rejected_reviews` (the quarantine)."""


import dagster as dg
import pandas as pd

from ..core.config import validate_restaurant_ids
from ..core.ingest import REVIEW_COLUMNS
from .metadata import frame_metadata, preview
from .partitions import OWNERS, restaurants_partitions, single_run
from .resources import ReviewLensSettings

REJECTED_SHARE_CHECK = "rejected_share_below_threshold"


@dg.asset(
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    io_manager_key="warehouse_io_manager",
    metadata={"partition_expr": "restaurant_id"},
    group_name="ingest",
    kinds={"python", "duckdb"},
    owners=OWNERS,
    check_specs=[
        dg.AssetCheckSpec(
            REJECTED_SHARE_CHECK,
            asset="reviews",
            description="Share of this restaurant's rows that were quarantined stays below the threshold.",
        )
    ],
)
def reviews(context: dg.AssetExecutionContext, settings: ReviewLensSettings):
    """Validated, deduplicated reviews of each restaurant, read from the incoming folder.

    Every file in the folder is parsed (CSV / JSONL / Parquet; UTF-8 or CP949); rows of the
    requested restaurants are kept. Rejected rows go to `rejected_reviews` with a reason.
    """
    keys = validate_restaurant_ids(context.partition_keys)
    context.log.info(f"scanning {settings.incoming_dir} for {len(keys)} restaurant(s)")
    scan = settings.scan()
    df = scan.reviews[scan.reviews["restaurant_id"].isin(keys)].reset_index(drop=True)
    counts = df.groupby("restaurant_id").size().reindex(keys, fill_value=0)
    empty = [k for k, n in counts.items() if n == 0]
    if empty:
        context.log.warning(f"{len(empty)} restaurant(s) have no valid reviews in the folder now: {empty[:10]}")
    rejected = scan.rejected[scan.rejected["restaurant_id"].isin(keys)]
    share = len(rejected) / max(1, len(rejected) + len(df))
    yield dg.Output(
        df[list(REVIEW_COLUMNS)],
        metadata=frame_metadata(
            df[["restaurant_id", "review_id", "rating", "text"]],
            restaurants=len(keys),
            files_scanned=len(scan.files),
            files_from_parse_cache=scan.files_from_cache,
            rejected_rows=len(rejected),
            rejected_share=float(round(share, 4)),
            restaurants_without_reviews=len(empty),
            reviews_per_restaurant=dg.MetadataValue.md(
                counts.rename("reviews").to_frame().head(50).to_markdown()
            ),
        ),
    )
    yield dg.AssetCheckResult(
        check_name=REJECTED_SHARE_CHECK,
        passed=bool(share <= settings.reject_share_threshold),
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "rejected_share": float(round(share, 4)),
            "threshold": settings.reject_share_threshold,
            "rejected_rows": len(rejected),
            "accepted_rows": len(df),
        },
    )


@dg.asset(
    io_manager_key="warehouse_io_manager",
    group_name="ingest",
    kinds={"python", "duckdb"},
    owners=OWNERS,
)
def rejected_reviews(context: dg.AssetExecutionContext, settings: ReviewLensSettings) -> dg.Output[pd.DataFrame]:
    """Quarantine: every row (or whole file) of the incoming folder that did not become a review.

    Columns: source_file, row_number (0 = the whole file), review_id, restaurant_id, reason,
    raw (truncated). Rebuilt from the folder on each materialization, so it is always current.
    """
    scan = settings.scan()
    rej = scan.rejected
    fatal = [f for f in scan.files if f.fatal]
    for f in fatal:
        context.log.warning(f"file quarantined whole: {f.source_file}: {f.fatal}")
    reasons = rej["reason"].str.replace(r"'.*?'|\d+", "…", regex=True).value_counts().head(20)
    return dg.Output(
        rej,
        metadata=frame_metadata(
            rej,
            files_scanned=len(scan.files),
            files_from_parse_cache=scan.files_from_cache,
            files_quarantined=len(fatal),
            accepted_rows=len(scan.reviews),
            reasons=dg.MetadataValue.md(reasons.rename("rows").to_frame().to_markdown()) if len(rej) else preview(rej),
        ),
    )

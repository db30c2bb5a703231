"""Jobs, the incoming-folder sensor, the automation sensor and the nightly schedules.

A new file in the incoming folder flows without clicks: `incoming_reviews_sensor` adds the new
restaurant partitions and materializes `reviews` for the restaurants whose rows changed; the
automation sensor then refreshes, for those partitions only, every downstream asset (their
`AutomationCondition`s, see partitions.EAGER) in one run per tick (a single-run backfill).
`pipeline_job` runs the whole chain on demand (`reviewlens run`, nightly schedule, UI).
"""


import json
from pathlib import Path

import dagster as dg

from ..core.config import RESTAURANT_ID_PATTERN
from ..core.incoming import detect_changes, load_cursor
from ..core.parse_cache import ParsedFileCache
from .partitions import RESTAURANTS, WRITER_TAGS, restaurants_partitions

PIPELINE_JOB = "reviewlens_pipeline"
INGEST_JOB = "ingest_job"
QUARANTINE_JOB = "quarantine_job"
AUTOMATION_SENSOR = "reviewlens_automation"

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=dg.AssetSelection.all() - dg.AssetSelection.assets("rejected_reviews") - dg.AssetSelection.groups("reporting"),
    partitions_def=restaurants_partitions,
    executor_def=dg.in_process_executor,  # one LLM engine / one vector store per run
    tags=WRITER_TAGS,
    description="Every per-restaurant asset, from reviews to comparisons.",
)

ingest_job = dg.define_asset_job(
    INGEST_JOB,
    selection=dg.AssetSelection.assets("reviews"),
    partitions_def=restaurants_partitions,
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
    description="`reviews` and its checks; the automation sensor refreshes everything downstream.",
)

quarantine_job = dg.define_asset_job(
    QUARANTINE_JOB,
    selection=dg.AssetSelection.assets("rejected_reviews"),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
    description="Rebuild the quarantine table from the incoming folder.",
)


reporting_job = dg.define_asset_job(
    "reporting_job",
    selection=dg.AssetSelection.groups("reporting"),
    executor_def=dg.in_process_executor,
    tags=WRITER_TAGS,
    description="Summarize the LLM serving metrics.",
)


def range_tags(keys: list[str]) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


def _status(running: bool) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


def make_incoming_sensor(incoming_dir: str, max_text_chars: int = 5000, running: bool = True,
                         parse_cache_dir: str | None = None):
    @dg.sensor(
        name="incoming_reviews_sensor",
        jobs=[ingest_job, quarantine_job],
        minimum_interval_seconds=30,
        default_status=_status(running),
        description=f"Watches {incoming_dir} for new or changed review files.",
    )
    def incoming_reviews_sensor(context: dg.SensorEvaluationContext):
        cursor = load_cursor(context.cursor)
        cache = ParsedFileCache(parse_cache_dir) if parse_cache_dir else None
        changes = detect_changes(Path(incoming_dir), cursor, max_text_chars, cache=cache)
        if not changes.any:
            return dg.SkipReason(f"no new or changed files in {incoming_dir}")
        for name, reason in changes.quarantined_files.items():
            context.log.warning(f"{name}: {reason}")
        ids = sorted(i for i in changes.restaurant_ids if RESTAURANT_ID_PATTERN.fullmatch(i))
        known = set(context.instance.get_dynamic_partitions(RESTAURANTS))
        new_ids = [i for i in ids if i not in known]
        digest = changes.digest
        requests = [
            dg.RunRequest(
                job_name=INGEST_JOB,
                partition_key=rid,
                run_key=f"{rid}:{digest}",
                tags={"reviewlens/trigger": "incoming_file"},
            )
            for rid in ids
        ]
        requests.append(dg.RunRequest(job_name=QUARANTINE_JOB, run_key=f"quarantine:{digest}"))
        context.log.info(
            f"{len(changes.changed_files)} changed, {len(changes.deleted_files)} deleted file(s); "
            f"{len(ids)} restaurant(s) to refresh, {len(new_ids)} new"
        )
        return dg.SensorResult(
            run_requests=requests,
            dynamic_partitions_requests=[restaurants_partitions.build_add_request(new_ids)] if new_ids else [],
            cursor=json.dumps(changes.cursor, sort_keys=True),
        )

    return incoming_reviews_sensor


def make_automation_sensor(running: bool = True) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=_status(running),
        minimum_interval_seconds=30,
        run_tags=WRITER_TAGS,
        description="Evaluates the assets' automation conditions: refreshes the partitions whose upstream changed.",
    )


@dg.schedule(
    cron_schedule="0 3 * * *",
    job=pipeline_job,
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly refresh of every restaurant in one single-run backfill range.",
)
def nightly_refresh_schedule(context: dg.ScheduleEvaluationContext):
    keys = context.instance.get_dynamic_partitions(RESTAURANTS)
    if not keys:
        return dg.SkipReason("no restaurant partitions yet")
    date = context.scheduled_execution_time.strftime("%Y-%m-%d")
    return dg.RunRequest(run_key=f"nightly:{date}", tags={**range_tags(keys), "reviewlens/trigger": "nightly"})


@dg.schedule(
    cron_schedule="30 2 * * *",
    job=quarantine_job,
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly rebuild of the quarantine table.",
)
def nightly_quarantine_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"quarantine:{context.scheduled_execution_time:%Y-%m-%d}")

"""Jobs, the incoming-folder sensors, the automation sensor and the nightly schedules.

A new file in the incoming folder flows without clicks, stage once and fan out:
1. `incoming_reviews_sensor` compares the folder (sizes and mtimes only) with what staging holds
   and requests one `staging_job` run for any change;
2. that run parses the new and changed files once into `staged_reviews` / `rejected_reviews`,
   adds the new restaurant partitions and reports the restaurants whose reviews changed;
3. `staged_changes_sensor` requests `reviews` for exactly those partitions (one single-run range
   per contiguous block of partition keys);
4. the automation sensor refreshes, for those partitions only, every downstream asset (their
   `AutomationCondition`s, see partitions.EAGER) in one run per tick.
Unchanged files cause no run at all. `pipeline_job` runs the whole chain on demand
(`reviewlens run`, nightly schedule, UI).
"""

from pathlib import Path

import dagster as dg

from ..core.changes import detect_changes, partition_ranges
from .ingest import REJECTED_KEY, STAGED_KEY
from .partitions import RESTAURANTS, restaurants_partitions
from .reporting import SERVING_GROUP
from .resources import StagingResource

PIPELINE_JOB = "reviewlens_pipeline"
REVIEWS_JOB = "reviews_job"
STAGING_JOB = "staging_job"
AUTOMATION_SENSOR = "reviewlens_automation"
STAGING_ASSETS = dg.AssetSelection.assets(STAGED_KEY, REJECTED_KEY)
#: most `reviews` runs one staging change requests; beyond it, nearby ranges are merged (the
#: partitions in between are re-read from the staged table: identical rows)
MAX_FANOUT_RUNS = 20

#: every per-restaurant asset: the pipeline job's selection (and `reviewlens run`'s)
PIPELINE_SELECTION = dg.AssetSelection.all() - STAGING_ASSETS - dg.AssetSelection.groups(SERVING_GROUP)

pipeline_job = dg.define_asset_job(
    PIPELINE_JOB,
    selection=PIPELINE_SELECTION,
    partitions_def=restaurants_partitions,
    executor_def=dg.in_process_executor,  # one LLM engine per run; single-writer steps take a pool slot
    description="Every per-restaurant asset, from reviews to comparisons.",
)

reviews_job = dg.define_asset_job(
    REVIEWS_JOB,
    selection=dg.AssetSelection.assets("reviews"),
    partitions_def=restaurants_partitions,
    executor_def=dg.in_process_executor,
    description="`reviews` (a read of the staged table) and its checks; automation refreshes everything downstream.",
)

staging_job = dg.define_asset_job(
    STAGING_JOB,
    selection=STAGING_ASSETS,
    executor_def=dg.in_process_executor,
    description="Stage new and changed files of the incoming folder (and rebuild the quarantine table).",
)


reporting_job = dg.define_asset_job(
    "reporting_job",
    selection=dg.AssetSelection.groups(SERVING_GROUP),
    executor_def=dg.in_process_executor,
    description="Summarize the LLM serving metrics.",
)


def range_tags(keys: list[str]) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": keys[0],
        "dagster/asset_partition_range_end": keys[-1],
    }


def _status(running: bool) -> dg.DefaultSensorStatus:
    return dg.DefaultSensorStatus.RUNNING if running else dg.DefaultSensorStatus.STOPPED


def make_incoming_sensor(running: bool = True):
    @dg.sensor(
        name="incoming_reviews_sensor",
        jobs=[staging_job],
        minimum_interval_seconds=30,
        default_status=_status(running),
        description="Watches the incoming folder (file sizes and modification times) and requests one staging run "
        "per change.",
    )
    def incoming_reviews_sensor(context: dg.SensorEvaluationContext, ingest_settings: StagingResource):
        incoming, digest = ingest_settings.incoming_path, ingest_settings.staging_digest()
        changes, stats = detect_changes(incoming, Path(ingest_settings.manifest_path), digest)
        if not changes.any:
            return dg.SkipReason(f"no new, changed or deleted files in {incoming}")
        run_key = changes.run_key(stats, digest)
        context.log.info(
            f"{len(changes.changed)} new or changed, {len(changes.deleted)} deleted file(s)"
            f"{'; parser or sources.yaml changed' if changes.config_changed else ''}: {run_key}"
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(job_name=STAGING_JOB, run_key=run_key, tags={"reviewlens/trigger": "incoming_file"})
            ],
            cursor=run_key,
        )

    return incoming_reviews_sensor


def make_fanout_sensor(running: bool = True):
    @dg.sensor(
        name="staged_changes_sensor",
        jobs=[reviews_job],
        minimum_interval_seconds=30,
        default_status=_status(running),
        description="After staging runs, requests `reviews` for the restaurants whose staged reviews changed "
        "and were not refreshed since.",
    )
    def staged_changes_sensor(context: dg.SensorEvaluationContext):
        after = int(context.cursor) if context.cursor else None
        events = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=STAGED_KEY, after_storage_id=after), limit=1000, ascending=True
        ).records
        if not events:
            return dg.SkipReason("no staging run since the last tick")
        # each changed restaurant, with the last staging event that changed it
        changed: dict[str, int] = {}
        for record in events:
            entry = record.asset_materialization.metadata.get("changed_restaurants")
            for key in entry.value if entry is not None else []:
                changed[key] = record.storage_id
        cursor = str(events[-1].storage_id)
        if changed:
            # a partition refreshed after the staging run that changed it needs nothing (`reviewlens run`)
            refreshed: dict[str, int] = {}
            page = dg.AssetRecordsFilter(asset_key=dg.AssetKey("reviews"), after_storage_id=min(changed.values()))
            more, token = True, None
            while more:
                got = context.instance.fetch_materializations(page, limit=10_000, cursor=token, ascending=True)
                for r in got.records:
                    refreshed[r.partition_key] = max(refreshed.get(r.partition_key, 0), r.storage_id)
                more, token = got.has_more, got.cursor
            changed = {k: sid for k, sid in changed.items() if refreshed.get(k, 0) < sid}
        if not changed:
            return dg.SensorResult(skip_reason="the changed restaurants are refreshed already", cursor=cursor)
        order = context.instance.get_dynamic_partitions(RESTAURANTS)
        ranges = partition_ranges(order, list(changed), MAX_FANOUT_RUNS)
        context.log.info(f"{len(changed)} changed restaurant(s) -> {len(ranges)} `reviews` run(s)")
        tags = {"reviewlens/trigger": "staging"}
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(run_key=f"{cursor}:{start}", partition_key=start, tags=tags)
                if start == end
                else dg.RunRequest(run_key=f"{cursor}:{start}", tags={**tags, **range_tags([start, end])})
                for start, end in ranges
            ],
            cursor=cursor,
        )

    return staged_changes_sensor


def make_automation_sensor(running: bool = True) -> dg.AutomationConditionSensorDefinition:
    return dg.AutomationConditionSensorDefinition(
        AUTOMATION_SENSOR,
        target=dg.AssetSelection.all(),
        default_status=_status(running),
        minimum_interval_seconds=30,
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
    job=staging_job,
    execution_timezone="Asia/Seoul",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Nightly staging of the incoming folder (catches what a stopped sensor missed; cheap when nothing changed).",
)
def nightly_staging_schedule(context: dg.ScheduleEvaluationContext):
    return dg.RunRequest(run_key=f"staging:{context.scheduled_execution_time:%Y-%m-%d}")

"""Declarative automation: a new file -> incoming sensor -> `reviews` run -> automation sensor ->
downstream runs, for the changed restaurant only.

The daemon's two sensors are evaluated here tick by tick (`build_sensor_context`,
`evaluate_automation_conditions`) and the runs they request are executed in process, with a
deterministic LLM double (the real engine runs in test_e2e_analysis / test_llm_real).
"""

from __future__ import annotations

import csv

import dagster as dg
import pytest

from reviewlens_dagster.core.llm.engine import LLMEngine
from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import AUTOMATION_SENSOR, PIPELINE_JOB, REVIEWS_JOB, STAGING_JOB
from reviewlens_dagster.defs.partitions import RESTAURANTS
from reviewlens_dagster.defs.resources import LLMEngineResource, warehouse_resource

from .conftest import make_settings, read_table, stage, tick
from .doubles import DoubleBackend, analysis_answer

DOWNSTREAM = [
    "review_embeddings",
    "restaurant_vectors",
    "top_k_contexts",
    "aspect_mentions",
    "sentiments",
    "llm_aspect_polarities",
    "aspect_prevalence",
    "highlights",
    "summaries",
    "comparisons",
    "aspect_trends",
    "aspect_changes",
]
REVIEWS = {
    "ra": ("치킨", "강남", ["바삭하고 맛있어요", "배달이 빨라요", "양이 많아요", "사장님이 친절해요"]),
    "rb": ("치킨", "강남", ["양념이 맛있어요", "가격이 착해요", "포장이 깔끔해요"]),
    "rc": ("카페", "홍대", ["분위기가 좋아요", "커피가 진해요", "조용해서 공부하기 좋아요"]),
}


class DoubleLLMResource(LLMEngineResource):
    """The project's LLM resource with the deterministic double as its engine."""

    def engine(self):
        if self._engine is None:
            self._engine = LLMEngine(DoubleBackend(answers={"*": analysis_answer}))
        return self._engine

    @property
    def model_name(self) -> str:
        return "double"


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area", "created_at"])
        w.writerows(rows)


class Daemon:
    """Ticks the two sensors the way the Dagster daemon does and runs what they request."""

    def __init__(self, defs: dg.Definitions, instance: dg.DagsterInstance):
        self.defs, self.instance = defs, instance
        self.sensor = defs.resolve_sensor_def("incoming_reviews_sensor")
        self.fanout = defs.resolve_sensor_def("staged_changes_sensor")
        self.sensor_cursor = self.fanout_cursor = self.automation_cursor = None
        self.staging_runs = 0

    def tick_incoming(self) -> list[str]:
        """The incoming sensor, the staging run it requests, then the fan-out sensor and the `reviews`
        runs it requests; returns the partitions those runs refreshed."""
        result = tick(self.defs, "incoming_reviews_sensor", self.instance, self.sensor_cursor)
        if isinstance(result, dg.SkipReason):
            return []
        self.sensor_cursor = result.cursor
        self.staging_runs += len(result.run_requests)
        for req in result.run_requests:
            assert req.job_name == STAGING_JOB
            assert (
                self.defs.resolve_job_def(STAGING_JOB).execute_in_process(instance=self.instance, tags=req.tags).success
            )
        fan = tick(self.defs, "staged_changes_sensor", self.instance, self.fanout_cursor)
        self.fanout_cursor = fan.cursor
        order = self.instance.get_dynamic_partitions(RESTAURANTS)
        refreshed = []
        for req in fan.run_requests or []:
            job = self.defs.resolve_job_def(REVIEWS_JOB)
            if req.partition_key:
                assert job.execute_in_process(instance=self.instance, partition_key=req.partition_key).success
                refreshed.append(req.partition_key)
            else:
                start, end = (
                    req.tags["dagster/asset_partition_range_start"],
                    req.tags["dagster/asset_partition_range_end"],
                )
                assert job.execute_in_process(instance=self.instance, tags=req.tags).success
                refreshed += order[order.index(start) : order.index(end) + 1]
        return sorted(refreshed)

    def tick_automation(self) -> dict[str, set[str]]:
        """One automation tick: executes the requested partitions, returns them per asset."""
        result = dg.evaluate_automation_conditions(
            defs=self.defs, instance=self.instance, cursor=self.automation_cursor
        )
        self.automation_cursor = result.cursor
        requested = {name: set(result.get_requested_partitions(dg.AssetKey(name))) for name in DOWNSTREAM}
        by_partition: dict[str, list[dg.AssetKey]] = {}
        for name, keys in requested.items():
            for k in keys:
                by_partition.setdefault(k, []).append(dg.AssetKey(name))
        job = self.defs.resolve_job_def(PIPELINE_JOB)
        for key, assets in sorted(by_partition.items()):
            assert job.execute_in_process(instance=self.instance, partition_key=key, asset_selection=assets).success
        return requested


def _materializations(instance, asset: str, partition: str) -> int:
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition]), limit=1000
    ).records
    return len(records)


@pytest.fixture
def automated(workdir, instance):
    settings = make_settings(workdir)
    settings.incoming_dir.mkdir(parents=True)
    llm = DoubleLLMResource(
        warehouse=warehouse_resource(settings),
        model_cache_dir=str(workdir / "models"),
        metrics_path=str(settings.metrics_path),
    )
    defs = build_defs(settings, resources={"llm": llm})
    return settings, defs, Daemon(defs, instance)


def test_automation_sensor_is_defined_and_running_by_default(automated):
    _, defs, _ = automated
    sensor = defs.resolve_sensor_def(AUTOMATION_SENSOR)
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    graph = defs.resolve_asset_graph()
    for name in DOWNSTREAM:
        assert graph.get(dg.AssetKey(name)).automation_condition is not None, name
    assert graph.get(dg.AssetKey("reviews")).automation_condition is None  # the incoming sensor's job


def test_new_file_refreshes_only_its_restaurant(automated, instance):
    settings, defs, daemon = automated
    _write(
        settings.incoming_dir / "first.csv",
        [
            [f"{restaurant_id}-{i}", restaurant_id, t, 5, cat, area, f"2026-05-{i + 1:02d}"]
            for restaurant_id, (cat, area, texts) in REVIEWS.items()
            for i, t in enumerate(texts)
        ],
    )

    # the daemon is already ticking when the first file lands (conditions track changes between ticks)
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}
    # first file: one staging run, three new partitions, `reviews` from the fan-out sensor
    assert daemon.tick_incoming() == ["ra", "rb", "rc"]
    assert daemon.staging_runs == 1
    assert _materializations(instance, "review_embeddings", "ra") == 0
    assert daemon.tick_incoming() == []  # nothing changed: no run at all
    # the automation sensor takes the chain from there, in one tick (downstream of requested counts)
    requested = daemon.tick_automation()
    assert requested == {name: {"ra", "rb", "rc"} for name in DOWNSTREAM}
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}  # settled: nothing repeats

    before = read_table(settings, "summaries")
    before_sent = read_table(settings, "sentiments")
    assert set(before["restaurant_id"]) == {"ra", "rb", "rc"}
    counts = {restaurant_id: _materializations(instance, "summaries", restaurant_id) for restaurant_id in REVIEWS}
    assert counts == {"ra": 1, "rb": 1, "rc": 1}

    # a new file with a new (negative) review of `ra` only
    _write(settings.incoming_dir / "late.csv", [["ra-new", "ra", "직원이 불친절해요", 1, "치킨", "강남", "2026-06-01"]])
    assert daemon.tick_incoming() == ["ra"]
    assert daemon.staging_runs == 2
    requested = daemon.tick_automation()
    assert requested == {name: {"ra"} for name in DOWNSTREAM}
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}

    assert {restaurant_id: _materializations(instance, "summaries", restaurant_id) for restaurant_id in REVIEWS} == {
        "ra": 2,
        "rb": 1,
        "rc": 1,
    }
    after = read_table(settings, "summaries")
    untouched = lambda df: df[df["restaurant_id"] != "ra"].reset_index(drop=True)  # noqa: E731
    assert untouched(after).equals(untouched(before))
    after_sent = read_table(settings, "sentiments")
    assert untouched(after_sent).equals(untouched(before_sent))
    new = after_sent[after_sent["review_id"] == "ra-new"]
    assert new["label"].tolist() == ["negative"]  # the new review reached the LLM context of `ra`
    assert len(after_sent[after_sent["restaurant_id"] == "ra"]) == 5


def test_manual_pipeline_run_leaves_nothing_for_sensors_or_automation(automated, instance):
    """What `reviewlens run` does (staging, then the whole pipeline), then the daemon's ticks: nothing is
    launched (no staging run for files already staged, no `reviews` run, no downstream run)."""
    settings, defs, daemon = automated
    _write(
        settings.incoming_dir / "first.csv",
        [
            ["rb-0", "rb", "양념이 맛있어요", 5, "치킨", "강남", "2026-05-01"],
            ["rb-1", "rb", "가격이 착해요", 4, "치킨", "강남", "2026-05-02"],
        ],
    )
    daemon.tick_automation()  # first evaluation: nothing upstream exists, nothing requested
    stage(defs, instance)
    assert defs.resolve_job_def(PIPELINE_JOB).execute_in_process(instance=instance, partition_key="rb").success
    runs_before = len(instance.get_run_records())
    # the sensors start with no cursor (as after `make run`, then `make ui`)
    assert daemon.tick_incoming() == [] and daemon.staging_runs == 0
    assert isinstance(
        tick(defs, "staged_changes_sensor", instance),
        (dg.SkipReason, dg.SensorResult),
    )
    assert not getattr(
        tick(defs, "staged_changes_sensor", instance),
        "run_requests",
        None,
    )
    # everything downstream was refreshed in the same run: automation does not repeat it
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}
    assert len(instance.get_run_records()) == runs_before


def test_identical_rematerialization_triggers_nothing_downstream(automated, instance):
    """`reviews` re-materialized with the same rows (a UI click, a merged fan-out range) keeps its data
    version: the automation sensor starts nothing; a real change does start the chain."""
    settings, defs, daemon = automated
    _write(
        settings.incoming_dir / "first.csv",
        [
            ["rb-0", "rb", "양념이 맛있어요", 5, "치킨", "강남", "2026-05-01"],
            ["rb-1", "rb", "가격이 착해요", 4, "치킨", "강남", "2026-05-02"],
        ],
    )
    daemon.tick_automation()
    assert daemon.tick_incoming() == ["rb"]
    assert daemon.tick_automation() == {name: {"rb"} for name in DOWNSTREAM}
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}
    ingest = defs.resolve_job_def(REVIEWS_JOB)
    assert ingest.execute_in_process(instance=instance, partition_key="rb").success  # same rows again
    assert daemon.tick_automation() == {name: set() for name in DOWNSTREAM}
    _write(settings.incoming_dir / "late.csv", [["rb-2", "rb", "포장이 깔끔해요", 5, "치킨", "강남", "2026-05-03"]])
    assert daemon.tick_incoming() == ["rb"]
    assert daemon.tick_automation() == {name: {"rb"} for name in DOWNSTREAM}

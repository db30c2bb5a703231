"""The Dagster shell of ingestion: definitions, materialization, checks, sensor, schedule."""

from __future__ import annotations

import json
from datetime import datetime
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from reviewlens_dagster.defs import checks
from reviewlens_dagster.defs.automation import INGEST_JOB, PIPELINE_JOB, QUARANTINE_JOB, range_tags
from reviewlens_dagster.defs.partitions import RESTAURANTS
from reviewlens_dagster.definitions import build_defs

from .conftest import copy_sample, read_table

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot(defs: dg.Definitions) -> dict:
    graph = defs.resolve_asset_graph()
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        pdef = node.partitions_def
        assets[key.to_user_string()] = {
            "deps": sorted(p.to_user_string() for p in node.parent_keys),
            "partitions": getattr(pdef, "name", None) if pdef else None,
            "group": node.group_name,
            "checks": sorted(c.name for c in node.check_keys),
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")),
        "sensors": sorted(s.name for s in defs.sensors or []),
        "schedules": sorted(s.name for s in defs.schedules or []),
    }


def test_asset_graph_snapshot(settings):
    snap = graph_snapshot(build_defs(settings))
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(snap, indent=2, ensure_ascii=False) + "\n")
    assert snap == json.loads(SNAPSHOT.read_text()), "asset graph changed: run UPDATE_SNAPSHOTS=1 pytest and review the diff"


def test_definitions_validate(settings):
    dg.Definitions.validate_loadable(build_defs(settings))


def _run(defs, instance, keys, job=PIPELINE_JOB, selection=None):
    job_def = defs.resolve_job_def(job)
    kwargs = {"tags": range_tags(keys)} if len(keys) > 1 else {"partition_key": keys[0]}
    if selection is not None:
        kwargs["asset_selection"] = selection
    return job_def.execute_in_process(instance=instance, raise_on_error=True, **kwargs)




def test_reviews_materialize_idempotent(settings, instance, sample_dir):
    copy_sample(sample_dir, settings.incoming_dir)
    keys = ["r001", "r002", "r003"]
    instance.add_dynamic_partitions(RESTAURANTS, keys)
    defs = build_defs(settings)
    snapshots = []
    for _ in range(3):
        result = _run(defs, instance, keys, selection=[dg.AssetKey("reviews")])
        assert result.success
        evals = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evals == {
            "reviews_text_not_empty": True, "reviews_unique_review_id": True,
            "reviews_rating_in_range": True, "rejected_share_below_threshold": True,
        }
        snapshots.append(read_table(settings, "reviews"))
    assert len(snapshots[0]) > 60 and set(snapshots[0]["restaurant_id"]) == set(keys)
    pd.testing.assert_frame_equal(snapshots[0], snapshots[1])
    pd.testing.assert_frame_equal(snapshots[0], snapshots[2])
    # one partition re-run alone keeps the others
    _run(defs, instance, ["r002"], selection=[dg.AssetKey("reviews")])
    pd.testing.assert_frame_equal(read_table(settings, "reviews"), snapshots[0])
    mats = instance.fetch_materializations(dg.AssetKey("reviews"), limit=1).records
    md = mats[0].asset_materialization.metadata
    assert md["dagster/row_count"].value > 0 and "preview" in md


def test_quarantine_table_and_rejected_share_check(settings, instance):
    from .bad_inputs import write_corpus

    corpus = write_corpus(settings.incoming_dir)
    defs = build_defs(settings)
    defs.resolve_job_def(QUARANTINE_JOB).execute_in_process(instance=instance)
    rej = read_table(settings, "rejected_reviews")
    assert len(rej) == sum(c.rejected for c in corpus)
    assert rej["reason"].str.len().gt(0).all()
    # r_rate: 2 valid rows, 5 quarantined -> the share check warns, the blocking checks pass
    instance.add_dynamic_partitions(RESTAURANTS, ["r_rate"])
    result = _run(defs, instance, ["r_rate"], selection=[dg.AssetKey("reviews")])
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    share = evals["rejected_share_below_threshold"]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.WARN
    assert share.metadata["rejected_share"].value == pytest.approx(5 / 7, abs=1e-3)
    assert evals["reviews_rating_in_range"].passed


def test_invalid_partition_key_is_refused(settings, instance):
    instance.add_dynamic_partitions(RESTAURANTS, ["r1'; drop table x;--"])
    defs = build_defs(settings)
    result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
        instance=instance, partition_key="r1'; drop table x;--", raise_on_error=False,
        asset_selection=[dg.AssetKey("reviews")],
    )
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    assert "invalid restaurant_id" in str(failure.event_specific_data.error.to_string())


def test_blocking_checks_fail_on_bad_frames():
    bad = pd.DataFrame({
        "restaurant_id": ["a", "a", "a"], "review_id": ["1", "1", "2"],
        "text": ["ok", "  ", "fine"], "rating": [1.0, 9.0, None],
    })
    assert not checks.reviews_text_not_empty(bad).passed
    assert not checks.reviews_unique_review_id(bad).passed
    res = checks.reviews_rating_in_range(bad)
    assert not res.passed and res.metadata["failing_rows"].value == 1
    good = bad.iloc[[0, 2]].assign(text=["ok", "fine"], rating=[1.0, 5.0])
    assert checks.reviews_rating_in_range(good).passed and checks.reviews_unique_review_id(good).passed


def _sensor(defs):
    return defs.resolve_sensor_def("incoming_reviews_sensor")


def test_sensor_adds_partitions_and_requests_changed_restaurants(settings, instance, sample_dir):
    defs = build_defs(settings)
    sensor = _sensor(defs)
    ctx = dg.build_sensor_context(instance=instance, cursor=None, definitions=defs)
    assert isinstance(sensor(ctx), dg.SkipReason)  # empty folder

    copy_sample(sample_dir, settings.incoming_dir, {"r001", "r002"})
    (settings.incoming_dir / "broken.csv").write_bytes(b"\x00\x01junk")
    result = sensor(dg.build_sensor_context(instance=instance, cursor=None, definitions=defs))
    assert isinstance(result, dg.SensorResult)
    ingest = sorted(r.partition_key for r in result.run_requests if r.job_name == INGEST_JOB)
    assert ingest == ["r001", "r002"]
    assert any(r.job_name == QUARANTINE_JOB for r in result.run_requests)
    assert result.dynamic_partitions_requests[0].partition_keys == ["r001", "r002"]
    cursor = result.cursor
    assert "broken.csv" in json.loads(cursor)  # remembered: not retried on every tick

    # nothing changed: skip (the broken file is not retried)
    assert isinstance(sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs)), dg.SkipReason)

    # a new file for one restaurant: only that restaurant is requested
    instance.add_dynamic_partitions(RESTAURANTS, ["r001", "r002"])
    (settings.incoming_dir / "late.jsonl").write_text(
        json.dumps({"review_id": "late1", "restaurant_id": "r002", "text": "새 리뷰", "rating": 5}, ensure_ascii=False) + "\n"
    )
    result = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    assert sorted(r.partition_key for r in result.run_requests if r.job_name == INGEST_JOB) == ["r002"]
    assert not result.dynamic_partitions_requests  # r002 is already known
    run_key = [r.run_key for r in result.run_requests if r.job_name == INGEST_JOB][0]
    # the same state evaluated again gives the same run key (idempotent ticks)
    again = sensor(dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs))
    assert [r.run_key for r in again.run_requests if r.job_name == INGEST_JOB] == [run_key]

    # a deleted file refreshes the restaurants it held
    (settings.incoming_dir / "late.jsonl").unlink()
    result2 = sensor(dg.build_sensor_context(instance=instance, cursor=result.cursor, definitions=defs))
    assert sorted(r.partition_key for r in result2.run_requests if r.job_name == INGEST_JOB) == ["r002"]


def test_nightly_schedule_requests_one_range(settings, instance):
    defs = build_defs(settings)
    schedule = defs.resolve_schedule_def("nightly_refresh_schedule")
    ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 1, 2, 3))
    assert isinstance(schedule(ctx), dg.SkipReason)
    instance.add_dynamic_partitions(RESTAURANTS, ["r003", "r001", "r002"])
    req = schedule(dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 1, 2, 3)))
    assert req.run_key == "nightly:2026-01-02"
    assert req.tags["dagster/asset_partition_range_start"] == "r003"
    assert req.tags["dagster/asset_partition_range_end"] == "r002"


def test_api_keys_stay_env_vars(settings, monkeypatch):
    """Keys from the environment reach the resources as EnvVar (the UI shows names, not values)."""
    from dataclasses import replace

    from reviewlens_dagster.defs.resources import build_resources

    monkeypatch.setenv("REVIEWLENS_QDRANT_API_KEY", "qdrant-secret")
    monkeypatch.setenv("REVIEWLENS_LLM_API_KEY", "llm-secret")
    res = build_resources(replace(settings, qdrant_api_key="qdrant-secret"))
    assert isinstance(res["vector_store"].api_key, dg.EnvVar)
    assert res["vector_store"].api_key.env_var_name == "REVIEWLENS_QDRANT_API_KEY"
    assert isinstance(res["llm"].api_key, dg.EnvVar)
    assert "secret" not in repr(res["vector_store"]) + repr(res["llm"])
    dg.Definitions.validate_loadable(build_defs(replace(settings, qdrant_api_key="qdrant-secret")))

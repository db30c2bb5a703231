"""The Dagster shell of ingestion: definitions, materialization, checks, sensor, schedule."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import PIPELINE_JOB, REVIEWS_JOB, STAGING_JOB, range_tags
from reviewlens_dagster.defs.partitions import RESTAURANTS

from .conftest import copy_sample, make_settings, materialization_metadata, read_table, stage, tick

FANOUT = "staged_changes_sensor"
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
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":  # the one way to write it: on purpose, then review the diff
        SNAPSHOT.write_text(json.dumps(snap, indent=2, ensure_ascii=False) + "\n")
    if not SNAPSHOT.exists():
        pytest.fail(f"{SNAPSHOT} is missing: write it with UPDATE_SNAPSHOTS=1 pytest -k snapshot and commit it")
    assert snap == json.loads(SNAPSHOT.read_text()), (
        "asset graph changed: run UPDATE_SNAPSHOTS=1 pytest and review the diff"
    )


def test_definitions_validate(settings):
    dg.Definitions.validate_loadable(build_defs(settings))


#: the steps that open the vector store (the others open the warehouse only)
VECTOR_STEPS = {"review_embeddings", "restaurant_vectors", "top_k_contexts", "comparisons"}


@pytest.mark.parametrize(
    ("backend", "qdrant_url", "warehouse_pool", "vector_pool"),
    [
        ("duckdb", None, "reviewlens_duckdb_file", "reviewlens_duckdb_file"),
        ("ducklake", None, None, "reviewlens_qdrant_embedded"),
        ("ducklake", "http://qdrant:6333", None, None),
    ],
)
def test_pools_follow_the_settings_build_defs_is_given(settings, backend, qdrant_url, warehouse_pool, vector_pool):
    """One process builds the code location for several deployments: each gets its own pools."""
    from dataclasses import replace

    defs = build_defs(replace(settings, warehouse_backend=backend, qdrant_url=qdrant_url))
    pools = {a.node_def.name: a.node_def.pool for a in defs.resolve_asset_graph().assets_defs if a.is_executable}
    assert len(pools) == 16
    assert {n: p for n, p in pools.items() if n in VECTOR_STEPS} == dict.fromkeys(VECTOR_STEPS, vector_pool)
    assert {p for n, p in pools.items() if n not in VECTOR_STEPS} == {warehouse_pool}


def test_importing_the_code_location_reads_no_environment():
    """Settings come from the environment when Dagster loads the location (``@dg.definitions``),
    never at import: an import with the environment unreadable succeeds, the load then fails."""
    import subprocess
    import sys

    code = (
        "import reviewlens_dagster.core.config as c\n"
        "def refuse(*a, **k): raise RuntimeError('environment read')\n"
        "c.Settings.from_env = classmethod(refuse)\n"
        "import reviewlens_dagster.definitions as d, reviewlens_dagster.cli\n"
        "try:\n"
        "    d.defs()\n"
        "except RuntimeError as e:\n"
        "    print('load:', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "load: environment read" in out.stdout


def _run(defs, instance, keys, job=PIPELINE_JOB, selection=None):
    job_def = defs.resolve_job_def(job)
    kwargs = {"tags": range_tags(keys)} if len(keys) > 1 else {"partition_key": keys[0]}
    if selection is not None:
        kwargs["asset_selection"] = selection
    return job_def.execute_in_process(instance=instance, raise_on_error=True, **kwargs)


def test_reviews_materialize_idempotent(settings, instance, sample_dir):
    copy_sample(sample_dir, settings.incoming_dir)
    keys = ["r001", "r002", "r003"]
    defs = build_defs(settings)
    meta = stage(defs, instance)
    assert meta["files_parsed"].value == 3 and meta["restaurants"].value == 32
    assert set(keys) <= set(instance.get_dynamic_partitions(RESTAURANTS))  # staging added the partitions
    staged = read_table(settings, "staged_reviews")
    snapshots = []
    for _ in range(3):
        result = _run(defs, instance, keys, selection=[dg.AssetKey("reviews")])
        assert result.success
        evals = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert evals == {
            "reviews_text_not_empty": True,
            "reviews_unique_review_id": True,
            "reviews_rating_in_range": True,
            "rejected_share_below_threshold": True,
        }
        snapshots.append(read_table(settings, "reviews"))
    assert len(snapshots[0]) > 60 and set(snapshots[0]["restaurant_id"]) == set(keys)
    pd.testing.assert_frame_equal(snapshots[0], snapshots[1])
    pd.testing.assert_frame_equal(snapshots[0], snapshots[2])
    # `reviews` is exactly the staged rows of its restaurants
    mine = staged[staged["restaurant_id"].isin(keys)].sort_values(["restaurant_id", "review_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(snapshots[0].sort_values(["restaurant_id", "review_id"]).reset_index(drop=True), mine)
    # one partition re-run alone keeps the others
    _run(defs, instance, ["r002"], selection=[dg.AssetKey("reviews")])
    pd.testing.assert_frame_equal(read_table(settings, "reviews"), snapshots[0])
    mats = instance.fetch_materializations(dg.AssetKey("reviews"), limit=1).records
    md = mats[0].asset_materialization.metadata
    assert md["dagster/row_count"].value > 0 and "preview" in md
    # staging again with nothing changed writes nothing and changes no restaurant
    again = stage(defs, instance)
    assert (again["files_parsed"].value, again["files_unchanged"].value, again["changed_restaurant_count"].value) == (
        0,
        3,
        0,
    )
    # and still says what the staged table holds
    assert again["dagster/row_count"].value == len(staged) and again["restaurants"].value == 32
    pd.testing.assert_frame_equal(read_table(settings, "staged_reviews"), staged)


def test_quarantine_table_and_rejected_share_check(settings, instance):
    from .bad_inputs import write_corpus

    corpus = write_corpus(settings.incoming_dir)
    defs = build_defs(settings)
    stage(defs, instance)
    rej = read_table(settings, "rejected_reviews")
    assert (rej["severity"] == "rejected").sum() == sum(c.rejected for c in corpus)
    assert (rej["severity"] == "warning").sum() == sum(c.warnings for c in corpus)
    assert rej["reason"].str.len().gt(0).all()
    # r_dup: 2 valid reviews, 2 superseded duplicates -> the share check warns, the blocking checks pass
    result = _run(defs, instance, ["r_dup"], selection=[dg.AssetKey("reviews")])
    evals = {e.check_name: e for e in result.get_asset_check_evaluations()}
    share = evals["rejected_share_below_threshold"]
    assert not share.passed and share.severity == dg.AssetCheckSeverity.WARN
    assert share.metadata["rejected_share"].value == pytest.approx(2 / 4, abs=1e-3)
    assert evals["reviews_rating_in_range"].passed


def test_invalid_partition_key_is_refused(settings, instance):
    instance.add_dynamic_partitions(RESTAURANTS, ["r1'; drop table x;--"])
    defs = build_defs(settings)
    result = defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
        instance=instance,
        partition_key="r1'; drop table x;--",
        raise_on_error=False,
        asset_selection=[dg.AssetKey("reviews")],
    )
    assert not result.success
    failure = [e for e in result.all_events if e.is_step_failure][0]
    assert "invalid restaurant partition key" in str(failure.event_specific_data.error.to_string())


def test_blocking_checks_fail_on_bad_frames():
    from reviewlens_dagster.core.ingest import review_check_failures

    bad = pd.DataFrame(
        {
            "restaurant_id": ["a", "a", "a"],
            "review_id": ["1", "1", "2"],
            "text": ["ok", "  ", "fine"],
            "rating": [1.0, 9.0, None],
        }
    )
    failures = review_check_failures(bad)
    assert len(failures["reviews_text_not_empty"]) == 1
    assert len(failures["reviews_unique_review_id"]) == 2
    assert failures["reviews_rating_in_range"]["rating"].tolist() == [9.0]
    good = bad.iloc[[0, 2]].assign(text=["ok", "fine"], rating=[1.0, 5.0])
    assert all(f.empty for f in review_check_failures(good).values())


def _tick(defs, instance, name="incoming_reviews_sensor", cursor=None):
    return tick(defs, name, instance, cursor)


def test_incoming_sensor_fingerprints_files_and_requests_one_staging_run(settings, instance, sample_dir):
    defs = build_defs(settings)
    assert isinstance(_tick(defs, instance), dg.SkipReason)  # empty folder

    copy_sample(sample_dir, settings.incoming_dir, {"r001", "r002"})
    (settings.incoming_dir / "broken.csv").write_bytes(b"\x00\x01junk")
    result = _tick(defs, instance)
    assert isinstance(result, dg.SensorResult)
    (request,) = result.run_requests  # one staging run, whatever the number of files or restaurants
    assert request.job_name == STAGING_JOB
    assert _tick(defs, instance).run_requests[0].run_key == request.run_key  # same state, same run key
    stage(defs, instance)
    # staged (the broken file quarantined): nothing to do, no file is opened by the sensor
    assert isinstance(_tick(defs, instance), dg.SkipReason)
    rej = read_table(settings, "rejected_reviews")
    assert (rej["source_file"] == "broken.csv").sum() == 1

    # a new file: a new staging run key; staging re-reads that file only
    (settings.incoming_dir / "late.jsonl").write_text(
        json.dumps({"review_id": "late1", "restaurant_id": "r002", "text": "새 리뷰", "rating": 5}, ensure_ascii=False)
        + "\n"
    )
    again = _tick(defs, instance)
    assert again.run_requests[0].run_key != request.run_key
    meta = stage(defs, instance)
    assert meta["files_parsed"].value == 1 and meta["changed_restaurants"].value == ["r002"]
    assert isinstance(_tick(defs, instance), dg.SkipReason)

    # a touched file (same bytes, new mtime) is hashed, not parsed, and changes nothing
    os.utime(settings.incoming_dir / "late.jsonl", None)
    assert _tick(defs, instance).run_requests
    meta = stage(defs, instance)
    assert (meta["files_parsed"].value, meta["files_touched"].value, meta["changed_restaurant_count"].value) == (
        0,
        1,
        0,
    )

    # a deleted file is a change too (what happens to its reviews: test_deleted_files_*)
    (settings.incoming_dir / "late.jsonl").unlink()
    assert _tick(defs, instance).run_requests


def test_fanout_sensor_requests_changed_restaurants_once(settings, instance, sample_dir):
    copy_sample(sample_dir, settings.incoming_dir, {"r001", "r002", "r003"})
    defs = build_defs(settings)
    assert isinstance(_tick(defs, instance, FANOUT), dg.SkipReason)  # no staging run yet
    stage(defs, instance)
    result = _tick(defs, instance, FANOUT)
    (req,) = result.run_requests  # three new restaurants: one contiguous range, one run
    assert req.job_name is None or req.job_name == REVIEWS_JOB
    assert (req.tags["dagster/asset_partition_range_start"], req.tags["dagster/asset_partition_range_end"]) == (
        "r001",
        "r003",
    )
    cursor = result.cursor
    assert isinstance(_tick(defs, instance, FANOUT, cursor), (dg.SkipReason, dg.SensorResult))
    assert not getattr(_tick(defs, instance, FANOUT, cursor), "run_requests", None)

    # one restaurant changes: only its partition
    (settings.incoming_dir / "late.csv").write_text("review_id,restaurant_id,text\nlate1,r002,새 리뷰\n")
    stage(defs, instance)
    result = _tick(defs, instance, FANOUT, cursor)
    assert [r.partition_key for r in result.run_requests] == ["r002"]

    # refreshed since (as `reviewlens run` does after staging): nothing to request
    _run(defs, instance, ["r002"], selection=[dg.AssetKey("reviews")])
    done = _tick(defs, instance, FANOUT, cursor)
    assert not getattr(done, "run_requests", None)


def test_partition_ranges_merge_beyond_the_cap():
    from reviewlens_dagster.core.changes import partition_ranges

    order = [f"k{i}" for i in range(10)]
    assert partition_ranges(order, ["k1", "k2", "k3", "k7"], 5) == [("k1", "k3"), ("k7", "k7")]
    assert partition_ranges(order, ["k0", "k2", "k9", "k4"], 2) == [("k0", "k4"), ("k9", "k9")]
    assert partition_ranges(order, ["zz"], 3) == []


def test_hangul_and_space_ids_get_safe_round_tripping_partition_keys(settings, instance):
    from reviewlens_dagster.core.config import PARTITION_KEY_PATTERN, partition_key_for

    rows = [
        ("k1", "교촌치킨-홍대점", "바삭해요"),
        ("k2", "Pizza Hut Gangnam", "치즈가 많아요"),
        ("k3", "BBQ 강남역점 (2호)", "양념이 맛있어요"),
        ("k4", "../etc/passwd", "경로 같은 id"),
        ("k5", "Pizza Hut Gangnam", "또 왔어요"),
    ]
    with open(settings.incoming_dir / "ko.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text"])
        w.writerows(rows)
    defs = build_defs(settings)
    stage(defs, instance)
    keys = instance.get_dynamic_partitions(RESTAURANTS)
    expected = {partition_key_for(r[1]) for r in rows}
    assert set(keys) == expected and len(keys) == 4
    assert "교촌치킨-홍대점" in keys  # readable where it is already safe
    for k in keys:
        assert PARTITION_KEY_PATTERN.fullmatch(k) and "/" not in k and "'" not in k and ".." not in k
        assert partition_key_for(k) == k  # a key is its own key: stable across re-staging
    _run(defs, instance, sorted(keys, key=keys.index), selection=[dg.AssetKey("reviews")])
    got = read_table(settings, "reviews")
    assert dict(zip(got["review_id"], got["source_restaurant_id"])) == {r[0]: r[1] for r in rows}
    assert got.groupby("restaurant_id").size()[partition_key_for("Pizza Hut Gangnam")] == 2
    md = instance.fetch_materializations(dg.AssetKey("reviews"), limit=1).records[0].asset_materialization.metadata
    assert "Pizza Hut Gangnam" in md["reviews_per_restaurant"].value  # the original id in the UI


EXPORT_HEADER = ",Category,Location,Restaurant,UserID,Menu,Review,Total,Taste,Quantity,Delivery,Date"
SOURCES_YAML = """
sources:
  - name: delivery-export
    files: "exports/*.csv"
    columns: {restaurant_id: Restaurant, text: Review, rating: Total, created_at: Date, category: Category,
              area: Location}
    review_id_from: [Restaurant, UserID, Menu, Review]
"""


def _write_export(folder: Path, n: int = 12) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    dates = ["3일 전", "어제", "방금", "2021년 7월 3일", "2021.07.03", "1주 전"]
    with open(folder / "yogiyo.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_HEADER.split(","))
        for i in range(n):
            store = ["교촌치킨-홍대점", "BBQ 강남역점"][i % 2]
            w.writerow(
                [
                    i,
                    "치킨",
                    ["홍대", "강남"][i % 2],
                    store,
                    f"user{i}",
                    "후라이드",
                    f"바삭하고 맛있어요 {i}",
                    5 - i % 3,
                    5,
                    4,
                    5,
                    dates[i % len(dates)],
                ]
            )


def test_export_header_through_staging_reviews_and_embeddings(settings, instance):
    _write_export(settings.incoming_dir / "exports")
    defs = build_defs(settings)
    # without a mapping the export has no review ids: quarantined whole, with a hint
    stage(defs, instance)
    (reason,) = read_table(settings, "rejected_reviews")["reason"]
    assert "missing required column(s) ['review_id']" in reason and "sources.yaml" in reason
    # one sources.yaml entry makes it ingest
    settings.sources_path.write_text(SOURCES_YAML, encoding="utf-8")
    meta = stage(defs, instance)
    assert meta["files_parsed"].value == 1 and meta["dagster/row_count"].value == 12
    assert meta["source_mappings"].value["files_per_mapping"] == {"delivery-export": 1}
    assert read_table(settings, "rejected_reviews").empty
    keys = instance.get_dynamic_partitions(RESTAURANTS)
    assert len(keys) == 2
    job = defs.resolve_job_def(PIPELINE_JOB)
    res = job.execute_in_process(
        instance=instance,
        tags=range_tags(keys),
        asset_selection=[dg.AssetKey("reviews"), dg.AssetKey("review_embeddings")],
    )
    assert res.success
    reviews = read_table(settings, "reviews")
    assert len(reviews) == 12 and reviews["review_id"].str.fullmatch(r"h[0-9a-f]{16}").all()
    assert reviews["created_at"].notna().all() and set(reviews["rating"]) <= {3.0, 4.0, 5.0}
    assert set(reviews["source_restaurant_id"]) == {"교촌치킨-홍대점", "BBQ 강남역점"}
    assert set(reviews["area"]) == {"홍대", "강남"}
    emb = materialization_metadata(res, "review_embeddings")
    assert emb["reviews_embedded"].value == 12


@pytest.mark.parametrize(
    "bad, message",
    [
        ("sources:\n  - name: x\n    files: '*.csv'\n    colums: {text: Review}\n", "colums"),
        ("sources:\n  - name: x\n    files: '*.csv'\n    columns: {txt: Review}\n", "txt"),
        ("sources:\n  - name: x\n    files: '*.csv'\n    rating_scale: 7\n", "rating_scale"),
        ("sources: [oops", "not readable YAML"),
    ],
)
def test_invalid_sources_file_fails_staging_with_a_clear_error(settings, instance, bad, message):
    settings.sources_path.write_text(bad, encoding="utf-8")
    (settings.incoming_dir / "a.csv").write_text("review_id,restaurant_id,text\na1,r1,좋아요\n")
    result = (
        build_defs(settings).resolve_job_def(STAGING_JOB).execute_in_process(instance=instance, raise_on_error=False)
    )
    assert not result.success
    error = str([e for e in result.all_events if e.is_step_failure][0].event_specific_data.error.to_string())
    assert "sources.yaml" in error and message in error


def test_sources_entry_naming_an_unknown_column_quarantines_the_file(settings, instance):
    settings.sources_path.write_text(SOURCES_YAML.replace("text: Review", "text: Reviw"), encoding="utf-8")
    _write_export(settings.incoming_dir / "exports")
    stage(build_defs(settings), instance)
    (reason,) = read_table(settings, "rejected_reviews")["reason"]
    assert "'Reviw'" in reason and "delivery-export" in reason


@pytest.mark.parametrize("policy", ["keep", "drop"])
def test_deleted_files(workdir, instance, policy):
    settings = make_settings(workdir, on_deleted_file=policy)
    settings.incoming_dir.mkdir(parents=True)
    (settings.incoming_dir / "a.csv").write_text("review_id,restaurant_id,text\na1,ra,좋아요\na2,rb,괜찮아요\n")
    (settings.incoming_dir / "b.csv").write_text("review_id,restaurant_id,text\nb1,rb,맛있어요\n")
    defs = build_defs(settings)
    stage(defs, instance)
    (settings.incoming_dir / "a.csv").unlink()
    meta = stage(defs, instance)
    assert meta["files_deleted"].value == 1
    staged = read_table(settings, "staged_reviews")
    if policy == "keep":  # the default: a moved or archived export does not delete reviews
        assert set(staged["review_id"]) == {"a1", "a2", "b1"} and meta["changed_restaurant_count"].value == 0
    else:
        assert set(staged["review_id"]) == {"b1"} and meta["changed_restaurants"].value == ["ra", "rb"]
    assert isinstance(_tick(defs, instance), dg.SkipReason)  # settled either way


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
    res = build_resources(replace(settings, qdrant_api_key="qdrant-secret", llm_api_key="llm-secret"))
    assert isinstance(res["vector_store"].qdrant_api_key, dg.EnvVar)
    assert res["vector_store"].qdrant_api_key.env_var_name == "REVIEWLENS_QDRANT_API_KEY"
    assert isinstance(res["llm"].llm_api_key, dg.EnvVar)
    assert "secret" not in repr(res["vector_store"]) + repr(res["llm"])
    dg.Definitions.validate_loadable(build_defs(replace(settings, qdrant_api_key="qdrant-secret")))

"""The scale-out profile, exercised for real: a PostgreSQL Dagster instance (dagster-postgres), the
DuckLake warehouse with its catalog in PostgreSQL, a vLLM server (`tiny` preset) shared by every
run, and `dagster dev` (webserver, daemon with the queued run coordinator, code server) launching
each run in a process of its own.

4 pipeline runs over disjoint restaurant ranges and a staging run for a new file are submitted at
once; one of the pipeline runs is terminated in the middle of its LLM step, then resumed. Every
other run succeeds with no lock error, every run's LLM requests are in the metrics, and the
warehouse tables equal those of one serial run on the embedded DuckDB backend over the same data
(the serial run reads the LLM answers from the same cache, so the model's output is the same).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from reviewlens_dagster import cluster
from reviewlens_dagster.core.analysis.cache import SCHEMA as CACHE_SCHEMA
from reviewlens_dagster.core.analysis.cache import LLMCache
from reviewlens_dagster.core.config import settings_in
from reviewlens_dagster.core.llm.models import resolve_model
from reviewlens_dagster.core.llm.server import vllm_server
from reviewlens_dagster.core.metrics import MetricsStore
from reviewlens_dagster.core.warehouse import Backend, Warehouse, open_database
from reviewlens_dagster.defs.automation import PIPELINE_JOB, STAGING_JOB
from reviewlens_dagster.devserver import dagster_dev, free_port
from reviewlens_dagster.synthetic import write_sample

pytestmark = [pytest.mark.slow, pytest.mark.llm]

RESTAURANTS = [f"r{i:03d}" for i in range(1, 9)]
RANGES = [RESTAURANTS[i : i + 2] for i in range(0, 8, 2)]
COMPARED = ["reviews", "aspect_mentions", "aspect_prevalence", "highlights", "summaries", "comparisons"]
#: per-run bookkeeping, not data: whether an answer came from the cache
VOLATILE = {"cached"}
LLM_ENV = {"REVIEWLENS_ANALYSIS_SCOPE": "subset", "REVIEWLENS_LLM_SUBSET_SIZE": "3", "REVIEWLENS_LLM_CHUNK_SIZE": "4"}


def _new_file(path: Path) -> None:
    rows = [
        f"n{i},r900,{text},{rating},한식,마포,2026-11-{10 + i}"
        for i, (text, rating) in enumerate(
            [("국물이 진하고 맛있어요", 5), ("직원이 친절해요", 4), ("가격이 비싸요", 2), ("주차가 불편해요", 2)]
        )
    ]
    path.write_text("review_id,restaurant_id,text,rating,category,area,created_at\n" + "\n".join(rows) + "\n")


def _canonical(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop(columns=[c for c in df.columns if c in VOLATILE]).copy()
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]):
            df[c] = df[c].round(6)
        else:
            df[c] = df[c].map(lambda v: repr(list(v)) if hasattr(v, "__len__") and not isinstance(v, str) else v)
    df = df.astype(str)
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _tables(wh: Warehouse) -> dict[str, pd.DataFrame]:
    out = {}
    for t in COMPARED:
        df = wh.read(t)
        out[t] = _canonical(df[df["restaurant_id"].isin(RESTAURANTS)])
    return out


def _copy_cache(lake: Backend, path: Path) -> int:
    with open_database("", lake, CACHE_SCHEMA, read_only=True) as con:
        rows = con.execute("select key, task, model, prompt_version, output from llm_cache").fetchall()
    import json

    LLMCache(path).put_many([(k, t, m, v, json.loads(o)) for k, t, m, v, o in rows])
    return len(rows)


def test_concurrent_runs_on_postgres_ducklake_and_a_shared_vllm_server(postgres):
    root = Path(tempfile.mkdtemp(prefix="reviewlens-scale-"))
    suffix = str(os.getpid())
    dagster_db, lake_db = f"dagster_scale_{suffix}", f"lake_scale_{suffix}"
    lake, home = cluster.fresh_profile(postgres, root, dagster_db, lake_db)
    sample = root / "sample"
    write_sample(sample, seed=11, n_restaurants=8)
    incoming = root / "data" / "incoming"
    incoming.mkdir(parents=True)
    for f in sorted(sample.glob("reviews_*")):
        shutil.copy2(f, incoming / f.name)
    model = resolve_model("tiny", settings_in(root).model_cache_dir)
    try:
        with vllm_server(model, "tiny", free_port(), 2048, root / "vllm.log", timeout_s=240) as llm_url:
            env = {
                "REVIEWLENS_DATA_DIR": str(root / "data"),
                "REVIEWLENS_WAREHOUSE_BACKEND": "ducklake",
                "REVIEWLENS_DUCKLAKE_CATALOG": lake.catalog,
                "REVIEWLENS_DUCKLAKE_DATA": lake.data_path,
                "REVIEWLENS_LLM_PRESET": "tiny",
                "REVIEWLENS_LLM_URL": f"{llm_url}/v1",
                "REVIEWLENS_LLM_SERVED_MODEL": "tiny",
                "REVIEWLENS_AUTOMATION": "off",
                **LLM_ENV,
            }
            with dagster_dev(home, env, root / "dagster_dev.log", startup_s=180) as (url, _):
                client = cluster.graphql_client(url)
                staged = client.submit_job_execution(STAGING_JOB)
                _wait(client, home, {staged: "SUCCESS"}, 180)

                # a new file and 4 ranges, all at once through the run queue
                _new_file(incoming / "reviews_new.csv")
                t0 = time.monotonic()
                runs = cluster.submit_ranges(client, PIPELINE_JOB, RANGES)
                stage2 = client.submit_job_execution(STAGING_JOB)
                victim = runs[-1]
                metrics = MetricsStore("", lake)
                deadline = time.monotonic() + 300
                while metrics.frame(victim).empty:  # its LLM step has committed requests
                    assert time.monotonic() < deadline, "the run never reached its LLM step"
                    assert client.get_run_status(victim).value not in cluster.TERMINAL
                    time.sleep(0.5)
                client.terminate_run(victim)
                expected = {**{r: "SUCCESS" for r in runs[:-1]}, victim: "CANCELED", stage2: "SUCCESS"}
                _wait(client, home, expected, 600)
                concurrent_s = time.monotonic() - t0
                killed_requests = len(metrics.frame(victim))

                # resume the killed range; then the comparison groups over every restaurant's counts
                resumed = cluster.submit_ranges(client, PIPELINE_JOB, [RANGES[-1]])
                _wait(client, home, {resumed[0]: "SUCCESS"}, 600)
                refresh = cluster.submit_ranges(client, PIPELINE_JOB, [RESTAURANTS], asset_selection=["comparisons"])
                _wait(client, home, {refresh[0]: "SUCCESS"}, 300)

            # the instance in PostgreSQL saw every run; no step failed, no lock error anywhere
            instance = dg.DagsterInstance.from_config(str(home))
            all_runs = [staged, *runs, stage2, *resumed, *refresh]
            assert {r.run_id for r in instance.get_runs()} >= set(all_runs)
            for run_id in all_runs:
                records = instance.all_logs(run_id)
                failures = [
                    r for r in records if r.dagster_event and r.dagster_event.event_type_value == "STEP_FAILURE"
                ]
                assert run_id == victim or not failures, (run_id, [f.user_message for f in failures])
                assert not [r for r in records if "lock" in (r.user_message or "").lower() and r.level >= 40]
            instance.dispose()

            # every run's requests are in the shared metrics, by run id
            requests = metrics.frame()
            per_run = requests.groupby("run_id").size()
            for run_id in [*runs, *resumed]:
                assert per_run.get(run_id, 0) > 0, (run_id, per_run.to_dict())
            assert per_run[victim] == killed_requests
            assert set(requests["status"]) == {"ok"}, requests["status"].value_counts().to_dict()
            # the kill lost nothing already committed: the resumed run asked only what was missing
            lake_tables = _tables(Warehouse("", backend=lake))
            sentiments = Warehouse("", backend=lake).read("sentiments")
            assert set(RESTAURANTS) <= set(sentiments["restaurant_id"])
            assert set(Warehouse("", backend=lake).read("staged_reviews")["restaurant_id"]) == {*RESTAURANTS, "r900"}

            # one serial run on the embedded backend, same files, same LLM answers (the cache)
            serial = settings_in(
                root / "serial",
                llm_preset="tiny",
                llm_url=f"{llm_url}/v1",
                llm_served_model="tiny",
                analysis_scope="subset",
                llm_subset_size=3,
                llm_chunk_size=4,
            )
            shutil.copytree(incoming, serial.incoming_dir)
            assert _copy_cache(lake, serial.llm_cache_path) > 0
            serial_run(serial)
            serial_tables = _tables(Warehouse(serial.warehouse_path))
    finally:
        for db in (dagster_db, lake_db):
            postgres.drop_database(db)
        shutil.rmtree(root, ignore_errors=True)
    for t in COMPARED:
        assert len(lake_tables[t]) > 0, t
        pd.testing.assert_frame_equal(lake_tables[t], serial_tables[t], obj=t)
    print(
        f"\nconcurrent phase: 4 pipeline runs + 1 staging run in {concurrent_s:.0f} s; killed run: {killed_requests} requests"
    )


def _wait(client, home: Path, expected: dict[str, str], timeout_s: float) -> None:
    status = cluster.wait_runs(client, list(expected), timeout_s)
    assert status == expected, (status, cluster.run_errors(home, [r for r in status if status[r] == "FAILURE"]))


def serial_run(settings) -> None:
    from reviewlens_dagster.definitions import build_defs
    from reviewlens_dagster.defs.automation import range_tags

    defs = build_defs(settings)
    with dg.instance_for_test() as instance:
        assert defs.resolve_job_def(STAGING_JOB).execute_in_process(instance=instance).success
        ordered = [k for k in instance.get_dynamic_partitions("restaurants") if k in RESTAURANTS]
        assert ordered == RESTAURANTS
        job = defs.resolve_job_def(PIPELINE_JOB)
        assert job.execute_in_process(instance=instance, tags=range_tags(ordered)).success

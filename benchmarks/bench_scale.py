"""`make bench-scale`: the pipeline over the same restaurants as 1 run, and as 2 and 4 concurrent
runs, on the scale-out profile (PostgreSQL instance, DuckLake warehouse, one shared vLLM server).

Each configuration starts from nothing: fresh databases, data folder and LLM cache, and a freshly
started vLLM server (its prefix cache empty), so no configuration reuses another's work. The
restaurants are staged first (not timed); then the ranges are submitted to the run queue at once
(`dagster dev`: daemon, queued run coordinator, a process per run) and timed until the last run
ends. Printed per configuration: wall time, LLM requests and output tokens, output tok/s over the
LLM's busy span, requests running / waiting at the server (sampled each second from its
Prometheus /metrics: mean and peak), failed runs, and the machine's load (1-min load average,
mean over the run) with its core count.

    python benchmarks/bench_scale.py [--restaurants 32] [--runs 1,2,4] [--preset tiny] [--sample-size 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reviewlens_dagster import cluster  # noqa: E402
from reviewlens_dagster.core.config import Settings  # noqa: E402
from reviewlens_dagster.core.llm.models import get_preset, resolve_model  # noqa: E402
from reviewlens_dagster.core.llm.server import vllm_server  # noqa: E402
from reviewlens_dagster.core.metrics import MetricsStore  # noqa: E402
from reviewlens_dagster.core.warehouse import Warehouse  # noqa: E402
from reviewlens_dagster.defs.automation import PIPELINE_JOB, STAGING_JOB  # noqa: E402
from reviewlens_dagster.devserver import dagster_dev, free_port  # noqa: E402
from reviewlens_dagster.postgres import Postgres  # noqa: E402
from reviewlens_dagster.synthetic import write_sample  # noqa: E402

GAUGES = ("vllm:num_requests_running", "vllm:num_requests_waiting")


class Sampler(threading.Thread):
    """Each second: the server's running / waiting requests and the 1-min load average."""

    def __init__(self, base_url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop_event = f"{base_url}/metrics", threading.Event()
        self.samples: list[tuple[float, float, float]] = []

    def run(self) -> None:
        while not self.stop_event.wait(1.0):
            try:
                text = httpx.get(self.url, timeout=2).text
            except httpx.HTTPError:
                continue
            values = []
            for g in GAUGES:
                m = re.findall(rf"^{re.escape(g)}\{{[^}}]*\}} ([0-9.e+-]+)$", text, flags=re.M)
                values.append(sum(float(v) for v in m))
            self.samples.append((values[0], values[1], os.getloadavg()[0]))

    def summary(self) -> dict:
        if not self.samples:
            return {}
        cols = list(zip(*self.samples))
        return {
            "running_mean": sum(cols[0]) / len(cols[0]),
            "running_peak": max(cols[0]),
            "waiting_mean": sum(cols[1]) / len(cols[1]),
            "load_mean": sum(cols[2]) / len(cols[2]),
        }


def step_seconds(home: Path, run_ids: list[str]) -> dict[str, float]:
    """Seconds per step, summed over the runs (from the instance's step stats)."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    out: dict[str, float] = {}
    for run_id in run_ids:
        for st in instance.get_run_step_stats(run_id):
            if st.start_time and st.end_time:
                out[st.step_key] = out.get(st.step_key, 0.0) + st.end_time - st.start_time
    instance.dispose()
    return out


def one_config(pg: Postgres, n_runs: int, args, model: str, served: str, tag: str) -> dict:
    root = Path(tempfile.mkdtemp(prefix=f"reviewlens-bench-scale-{n_runs}-"))
    dagster_db, lake_db = f"bench_dagster_{tag}", f"bench_lake_{tag}"
    lake, home = cluster.fresh_profile(pg, root, dagster_db, lake_db)
    write_sample(root / "sample", seed=7, n_restaurants=args.restaurants)
    incoming = root / "data" / "incoming"
    incoming.mkdir(parents=True)
    for f in sorted((root / "sample").glob("reviews_*")):
        shutil.copy2(f, incoming / f.name)
    try:
        port = free_port()
        with vllm_server(model, served, port, args.max_model_len, root / "vllm.log", timeout_s=300) as base:
            env = {
                "REVIEWLENS_DATA_DIR": str(root / "data"),
                "REVIEWLENS_WAREHOUSE_BACKEND": "ducklake",
                "REVIEWLENS_DUCKLAKE_CATALOG": lake.catalog,
                "REVIEWLENS_DUCKLAKE_DATA": lake.data_path,
                "REVIEWLENS_LLM_PRESET": args.preset,
                "REVIEWLENS_LLM_URL": f"{base}/v1",
                "REVIEWLENS_LLM_SERVED_MODEL": served,
                "REVIEWLENS_AUTOMATION": "off",
                "REVIEWLENS_ANALYSIS_SCOPE": "subset",
                "REVIEWLENS_LLM_SUBSET_SIZE": str(args.sample_size),
            }
            with dagster_dev(home, env, root / "dagster_dev.log", startup_s=180) as (url, _):
                client = cluster.graphql_client(url)
                staged = client.submit_job_execution(STAGING_JOB)
                assert cluster.wait_runs(client, [staged], 300)[staged] == "SUCCESS", "staging failed"
                keys = sorted(Warehouse("", backend=lake).read("staged_reviews")["restaurant_id"].unique())
                size = -(-len(keys) // n_runs)
                ranges = [keys[i : i + size] for i in range(0, len(keys), size)]
                sampler = Sampler(base)
                sampler.start()
                t0 = time.monotonic()
                runs = cluster.submit_ranges(client, PIPELINE_JOB, ranges)
                status = cluster.wait_runs(client, runs, args.timeout)
                wall = time.monotonic() - t0
                sampler.stop_event.set()
                steps = step_seconds(home, runs)
                for line in cluster.run_errors(home, [r for r, s in status.items() if s != "SUCCESS"]):
                    print(f"  run failed: {line}", flush=True)
        m = MetricsStore("", lake).frame()
        m = m[m["run_id"].isin(runs)]
        busy = float(m["finished_at"].max() - m["started_at"].min()) if len(m) else 0.0
        return {
            "runs": n_runs,
            "restaurants": len(keys),
            "wall_s": wall,
            "requests": len(m),
            "output_tokens": int(m["output_tokens"].sum()),
            "llm_busy_s": busy,
            "tok_s": m["output_tokens"].sum() / busy if busy else 0.0,
            "failed": sum(s != "SUCCESS" for s in status.values()),
            "steps": steps,
            **sampler.summary(),
        }
    finally:
        for db in (dagster_db, lake_db):
            pg.drop_database(db)
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--restaurants", type=int, default=32)
    ap.add_argument("--runs", default="1,2,4", help="concurrent run counts to compare")
    ap.add_argument("--preset", default="tiny", choices=("tiny", "small"))
    ap.add_argument("--sample-size", type=int, default=3, help="reviews per restaurant the LLM reads")
    ap.add_argument("--max-model-len", type=int, default=2048)
    ap.add_argument("--timeout", type=float, default=3600)
    args = ap.parse_args()
    settings = Settings.from_env()
    preset = get_preset(args.preset)
    model = resolve_model(preset.name, settings.model_cache_dir)
    pg_root = Path(tempfile.mkdtemp(prefix="reviewlens-bench-pg-"))
    pg_root.chmod(0o755)
    pg = Postgres(pg_root / "data", free_port())
    pg.start()
    rows = []
    try:
        for n in [int(x) for x in args.runs.split(",")]:
            print(
                f"[{dt.datetime.now():%H:%M:%S}] {n} concurrent run(s) over {args.restaurants} restaurants ...",
                flush=True,
            )
            rows.append(one_config(pg, n, args, model, preset.display_name, f"{n}_{os.getpid()}"))
            print(f"  { ({k: v for k, v in rows[-1].items() if k != 'steps'}) }", flush=True)
    finally:
        pg.stop()
        shutil.rmtree(pg_root, ignore_errors=True)
    print(
        f"\n## bench-scale, {dt.date.today()}, preset {args.preset} ({preset.display_name}), LLM sample "
        f"{args.sample_size} reviews / restaurant, {platform.node()}: {os.cpu_count()} cores, no GPU\n"
    )
    print(
        "| runs | restaurants | wall s | LLM requests | output tok | LLM busy s | output tok/s | "
        "running at server (mean / peak) | waiting (mean) | failed runs | load (mean 1-min) |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['runs']} | {r['restaurants']} | {r['wall_s']:.0f} | {r['requests']} | {r['output_tokens']} | "
            f"{r['llm_busy_s']:.0f} | {r['tok_s']:.2f} | {r.get('running_mean', 0):.2f} / "
            f"{r.get('running_peak', 0):.0f} | {r.get('waiting_mean', 0):.2f} | {r['failed']} | "
            f"{r.get('load_mean', 0):.2f} |"
        )
    steps = sorted({k for r in rows for k in r["steps"]}, key=lambda k: -rows[0]["steps"].get(k, 0))
    print("\nwhere the time goes: seconds per step, summed over the runs\n")
    print("| step | " + " | ".join(f"{r['runs']} run(s)" for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for k in steps:
        print(f"| {k} | " + " | ".join(f"{r['steps'].get(k, 0):.1f}" for r in rows) + " |")
    base = rows[0]["wall_s"] if rows else 0
    for r in rows[1:]:
        print(
            f"\n{r['runs']} runs: speed-up {base / r['wall_s']:.2f} (wall of {rows[0]['runs']} run / wall of {r['runs']})"
        )
    return 0 if all(r["failed"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

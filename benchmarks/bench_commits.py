"""`make bench-commits`: what incremental commits cost, and what a kill loses.

The same extraction workload (sample reviews, `tiny` preset by default) runs two ways, in
alternating pairs on one engine (prefix cache reset before each run):
- single: every request in one engine call, results kept in memory only (a crash loses all);
- chunked: the product's path (`run_jobs`): every request in one engine call too, each result
  streamed out as it finishes and committed to a fresh LLM cache (DuckDB) every `--chunk`
  results while the batch keeps running.
Prints output tokens/s of both, per pair and the median ratio (goal: chunked costs <= 3 %), and the
work a kill at a random moment loses: at most the chunk in flight, measured here as the requests
completed since the last commit at 1,000 random kill times over the chunked run's timeline.

    python benchmarks/bench_commits.py [--preset tiny] [--reviews 96] [--chunk 32] [--pairs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reviewlens_dagster.core.analysis.cache import LLMCache  # noqa: E402
from reviewlens_dagster.core.analysis.extract import lexicon_mentions, plan_extraction  # noqa: E402
from reviewlens_dagster.core.analysis.prompts import PROMPT_VERSION  # noqa: E402
from reviewlens_dagster.core.analysis.runner import run_jobs  # noqa: E402
from reviewlens_dagster.core.analysis.sampling import stratified_sample  # noqa: E402
from reviewlens_dagster.core.config import Settings  # noqa: E402
from reviewlens_dagster.core.llm.factory import LLMConfig, build_engine  # noqa: E402
from reviewlens_dagster.synthetic import generate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="tiny")
    ap.add_argument("--reviews", type=int, default=96)
    ap.add_argument("--chunk", type=int, default=32)
    ap.add_argument("--pairs", type=int, default=3)
    args = ap.parse_args()
    reviews, _ = generate(seed=7)
    df = pd.DataFrame(reviews).head(args.reviews)[["restaurant_id", "review_id", "text", "rating"]]
    sample = stratified_sample(df[["restaurant_id", "review_id", "rating"]], None)
    mentions, _ = lexicon_mentions(df)
    engine = build_engine(
        LLMConfig(preset=args.preset, model_cache_dir=Settings.from_env().model_cache_dir), progress=lambda m: None
    )
    llm = engine.backend.llm
    rows, lost = [], []
    for pair in range(args.pairs):
        for way in ("single", "chunked") if pair % 2 == 0 else ("chunked", "single"):
            jobs = plan_extraction(df, sample, mentions, engine.model_name)
            llm.reset_prefix_cache()
            t0, t0_wall = time.perf_counter(), time.time()
            if way == "single":
                res = engine.run([j.request for j in jobs], {j.request.request_id: j.validator for j in jobs})
                commits = []
            else:
                commits = []
                with tempfile.TemporaryDirectory() as d:
                    cache = LLMCache(Path(d) / "cache.duckdb")
                    put = cache.put_many

                    def timed_put(entries, put=put, commits=commits, t0=t0):
                        put(entries)
                        commits.append((time.perf_counter() - t0, len(entries)))

                    cache.put_many = timed_put
                    res = run_jobs(jobs, engine.run, cache, engine.model_name, PROMPT_VERSION, args.chunk).results
            wall = time.perf_counter() - t0
            rows.append(
                {
                    "pair": pair + 1,
                    "way": way,
                    "requests": len(res),
                    "wall_s": round(wall, 2),
                    "output_tok_s": round(sum(r.output_tokens for r in res) / wall, 2),
                }
            )
            if commits:
                # results completed but not yet committed at a random kill time (completion times:
                # each result's finished_at, stamped as the engine hands it over)
                rng = random.Random(pair)
                finished = sorted(r.finished_at - t0_wall for r in res)
                for _ in range(1000):
                    t = rng.uniform(0, wall)
                    done_commits = sum(n for at, n in commits if at <= t)
                    lost.append(max(0, sum(1 for f in finished if f <= t) - done_commits))
    engine.close()
    table = pd.DataFrame(rows)
    piv = table.pivot(index="pair", columns="way", values="output_tok_s")
    piv["chunked / single"] = (piv["chunked"] / piv["single"]).round(3)
    print(
        f"# bench-commits  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {os.cpu_count()} CPU  "
        f"preset {args.preset}  {len(df)} requests  chunk {args.chunk}  load {os.getloadavg()[0]:.1f}"
    )
    print(table.to_markdown(index=False))
    print()
    print(piv.to_markdown())
    print(f"\nmedian chunked / single output tok/s: {statistics.median(piv['chunked / single']):.3f}")
    print(
        f"work lost by a kill at a random time (1,000 draws per chunked run): median {statistics.median(lost):.0f}, "
        f"max {max(lost)} requests (chunk size {args.chunk})"
    )


if __name__ == "__main__":
    main()

"""`make bench-vectors`: embeddings asset vs raw encoder, embedded Qdrant filtered top-20 latency,
TOP-K prompt-token saving. Prints tables; nothing is asserted."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np


def _settings(root: Path):
    from reviewlens_dagster.core.config import settings_in

    return settings_in(root)


def _asset_once(base: Path) -> dict:
    """One materialization of the vector stage on a fresh instance and store; its metadata."""
    import dagster as dg

    from reviewlens_dagster.definitions import build_defs
    from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags
    from reviewlens_dagster.defs.partitions import RESTAURANTS
    from reviewlens_dagster.synthetic import write_sample

    root = Path(tempfile.mkdtemp(prefix="bench-vec-", dir=base))
    s = _settings(root)
    write_sample(s.incoming_dir)
    (s.incoming_dir / "ground_truth.json").unlink()
    (root / "home").mkdir()
    with dg.instance_for_test(temp_dir=str(root / "home")) as inst:
        defs = build_defs(s)
        defs.resolve_job_def("staging_job").execute_in_process(instance=inst)  # adds the partitions
        keys = inst.get_dynamic_partitions(RESTAURANTS)
        job = defs.resolve_job_def(PIPELINE_JOB)
        job.execute_in_process(instance=inst, tags=range_tags(keys), asset_selection=[dg.AssetKey("reviews")])
        res = job.execute_in_process(
            instance=inst,
            tags=range_tags(keys),
            asset_selection=[dg.AssetKey(k) for k in ("review_embeddings", "restaurant_vectors", "top_k_contexts")],
        )
        return {
            e.event_specific_data.materialization.asset_key.to_user_string(): e.event_specific_data.materialization.metadata
            for e in res.all_events
            if e.is_step_materialization
        }


def bench_asset_vs_raw(reps: int = 5) -> dict:
    """Raw encoder vs the asset, interleaved ``reps`` times (paired ratios: robust to load drift)."""
    from reviewlens_dagster.core.embed import USEEmbedder
    from reviewlens_dagster.core.staging import scan_folder
    from reviewlens_dagster.synthetic import write_sample

    base = Path(tempfile.mkdtemp(prefix="bench-vec-"))
    try:
        write_sample(base / "sample")
        (base / "sample" / "ground_truth.json").unlink()
        scan = scan_folder(base / "sample")
        texts = scan.reviews["text"].tolist()
        raw = USEEmbedder()
        raw.encode(texts)  # warm-up: a full pass, so the raw baseline is the warm (fastest) encoder
        raw_rates, asset_rates, encode_rates = [], [], []
        for rep in range(reps):
            t = time.perf_counter()
            raw.encode(texts)
            raw_rates.append(len(texts) / (time.perf_counter() - t))
            mats = _asset_once(base)
            asset_rates.append(mats["review_embeddings"]["reviews_per_s"].value)
            encode_rates.append(mats["review_embeddings"]["encode_only_reviews_per_s"].value)
            print(
                f"  rep {rep + 1}/{reps}: raw {raw_rates[-1]:.0f}/s, asset {asset_rates[-1]:.0f}/s "
                f"(encode only {encode_rates[-1]:.0f}/s)",
                flush=True,
            )
        top = mats["top_k_contexts"]
        ratios = sorted(a / r for a, r in zip(asset_rates, raw_rates))
        return {
            "reviews": len(texts),
            "restaurants": len(scan.restaurant_ids),
            "reps": reps,
            "raw_rate": float(np.median(raw_rates)),
            "asset_rate": float(np.median(asset_rates)),
            "asset_encode_rate": float(np.median(encode_rates)),
            "ratio": ratios[len(ratios) // 2],
            "ratio_min": ratios[0],
            "ratio_max": ratios[-1],
            "tokens_all": top["prompt_tokens_est_all_reviews"].value,
            "tokens_top": top["prompt_tokens_est_top_k"].value,
            "saving": top["prompt_token_saving_pct"].value,
        }
    finally:
        shutil.rmtree(base, ignore_errors=True)


def bench_store(sizes: list[int], per_restaurant: int = 50, queries: int = 300, dim: int = 512) -> list[dict]:
    from reviewlens_dagster.core.vectorstore import EdgeVectorStore, VectorPoint

    out = []
    rng = np.random.default_rng(0)
    for n in sizes:
        root = Path(tempfile.mkdtemp(prefix="bench-qdrant-"))
        try:
            store = EdgeVectorStore(root)
            store.ensure_collection("reviews", dim, "random")
            n_rest = max(1, n // per_restaurant)
            t = time.perf_counter()
            for r in range(n_rest):
                vecs = rng.normal(size=(per_restaurant, dim)).astype(np.float32)
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
                store.replace_restaurant(
                    "reviews",
                    f"r{r}",
                    [
                        VectorPoint(
                            f"r{r}-{i}",
                            vecs[i],
                            {"review_id": f"r{r}-{i}", "rating": 4.0, "created_at": "2025-01-01T00:00:00"},
                        )
                        for i in range(per_restaurant)
                    ],
                )
            upsert_s = time.perf_counter() - t
            q = rng.normal(size=(queries, dim)).astype(np.float32)
            lat = []
            for i in range(queries):
                rid = f"r{int(rng.integers(n_rest))}"
                t = time.perf_counter()
                hits = store.search("reviews", q[i], 20, restaurant_id=rid)
                lat.append((time.perf_counter() - t) * 1000)
                assert len(hits) == 20
            store.close()
            out.append(
                {
                    "points": n_rest * per_restaurant,
                    "upsert_pts_s": n_rest * per_restaurant / upsert_s,
                    "p50_ms": float(np.percentile(lat, 50)),
                    "p95_ms": float(np.percentile(lat, 95)),
                }
            )
        finally:
            shutil.rmtree(root, ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,50000,200000")
    ap.add_argument("--reps", type=int, default=5, help="paired raw/asset runs")
    args = ap.parse_args()
    print(
        f"# bench-vectors  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  "
        f"{os.cpu_count()} CPU  load {os.getloadavg()[0]:.1f}"
    )
    a = bench_asset_vs_raw(args.reps)
    print("\n## review_embeddings asset vs raw encoder (USE multilingual, sample data)")
    print(
        f"| reviews | restaurants | raw encoder reviews/s | asset reviews/s (encode + Qdrant write) | "
        f"ratio, median of {a['reps']} paired runs (min-max) (goal >= 0.9) |"
    )
    print("|---:|---:|---:|---:|---:|")
    print(
        f"| {a['reviews']} | {a['restaurants']} | {a['raw_rate']:.0f} | {a['asset_rate']:.0f} | "
        f"{a['ratio']:.2f} ({a['ratio_min']:.2f}-{a['ratio_max']:.2f}) |"
    )
    print("\n## TOP-K prompt-token saving (sample data, K=20, estimate)")
    print("| tokens, all reviews | tokens, TOP-K | saving |")
    print("|---:|---:|---:|")
    print(f"| {a['tokens_all']} | {a['tokens_top']} | {a['saving']:.1f}% |")
    print("\n## Embedded Qdrant (qdrant-edge), 512-d, 50 reviews/restaurant, filtered top-20")
    print("| points | upsert points/s | p50 ms | p95 ms |")
    print("|---:|---:|---:|---:|")
    for r in bench_store([int(x) for x in args.sizes.split(",")]):
        print(f"| {r['points']:,} | {r['upsert_pts_s']:,.0f} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} |")


if __name__ == "__main__":
    main()

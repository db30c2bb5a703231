"""`make eval`: quality of the analyses. Prints tables; asserts nothing.

1. Sample data (ground truth written by the generator): sentiment accuracy of the TOP-K reviews
   analysed by the last `make run`, and recall of the planted strengths and weaknesses.
2. NSMC real reviews (`../shared/data/nsmc/reviews.csv`; rating 1-4 negative, 9-10 positive):
   sentiment accuracy and macro-F1 on a deterministic sample of the SECOND half of the movies
   (the first half is for prompt development and is never reported).

    python benchmarks/eval.py [--preset small] [--nsmc-limit 200] [--skip-nsmc]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import duckdb
import pandas as pd

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]
NSMC = ROOT.parent / "shared" / "data" / "nsmc" / "reviews.csv"


def macro_f1(truth: list[str], pred: list[str], labels=("positive", "negative")) -> float:
    f1s = []
    for lab in labels:
        tp = sum(t == lab and p == lab for t, p in zip(truth, pred))
        fp = sum(t != lab and p == lab for t, p in zip(truth, pred))
        fn = sum(t == lab and p != lab for t, p in zip(truth, pred))
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


def eval_sample(warehouse: Path, truth_path: Path) -> None:
    print("\n## Sample data (ground truth), outputs of the last `make run`")
    if not warehouse.exists() or not truth_path.exists():
        print(f"(no {warehouse.name} or ground truth: run `make run` first)")
        return
    truth = json.loads(truth_path.read_text())
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
        if "sentiments" not in tables:
            print("(no sentiments table: run `make run` first)")
            return
        sent = con.execute("select review_id, label, model from reviewlens.sentiments").df()
        strengths = con.execute("select restaurant_id, polarity, aspect from reviewlens.strengths").df() \
            if "strengths" in tables else pd.DataFrame(columns=["restaurant_id", "polarity", "aspect"])
    finally:
        con.close()
    sent = sent[sent["review_id"].isin(truth["reviews"])]
    sent["truth"] = sent["review_id"].map(lambda r: truth["reviews"][r]["sentiment"])
    acc = (sent["label"] == sent["truth"]).mean()
    binary = sent[sent["truth"] != "neutral"]
    print(f"model: {', '.join(sorted(sent['model'].unique()))}")
    print("| metric | value | n |")
    print("|---|---:|---:|")
    print(f"| sentiment accuracy, 3-way | {acc:.3f} | {len(sent)} |")
    print(f"| sentiment accuracy, positive/negative reviews only | {(binary['label'] == binary['truth']).mean():.3f} | {len(binary)} |")
    print(f"| macro-F1 (positive, negative, neutral) | {macro_f1(sent['truth'].tolist(), sent['label'].tolist(), ('positive', 'negative', 'neutral')):.3f} | {len(sent)} |")
    for polarity, key in (("strength", "strengths"), ("weakness", "weaknesses")):
        found = planted = 0
        for rid, r in truth["restaurants"].items():
            got = set(strengths[(strengths.restaurant_id == rid) & (strengths.polarity == polarity)]["aspect"])
            if rid not in set(sent["review_id"].map(lambda x: truth["reviews"][x]["restaurant_id"])):
                continue
            planted += len(r[key])
            found += len(set(r[key]) & got)
        print(f"| recall of planted {key} | {found / planted if planted else float('nan'):.3f} | {planted} |")


def eval_nsmc(preset: str, limit: int) -> None:
    print(f"\n## NSMC real reviews, second half of the movies (preset {preset})")
    if not NSMC.exists():
        print(f"({NSMC} not found)")
        return
    from reviewlens_dagster.core.analysis.prompts import language_of, sentiment_messages
    from reviewlens_dagster.core.analysis.schemas import SentimentOut, sentiment_schema
    from reviewlens_dagster.core.config import Settings
    from reviewlens_dagster.core.llm.factory import LLMConfig, build_engine
    from reviewlens_dagster.core.llm.types import LLMRequest

    df = pd.read_csv(NSMC)
    movies = sorted(df["movie_id"].unique())
    test = df[df["movie_id"].isin(movies[len(movies) // 2:])]
    test = test[(test["rating"] <= 4) | (test["rating"] >= 9)].copy()
    test["truth"] = test["rating"].map(lambda r: "negative" if r <= 4 else "positive")
    per = max(1, limit // 2)
    sample = pd.concat([g.sample(min(per, len(g)), random_state=0) for _, g in test.groupby("truth")])
    settings = Settings.from_env()
    engine = build_engine(LLMConfig(preset=preset, model_cache_dir=settings.model_cache_dir), progress=lambda m: None)
    reqs = [LLMRequest(f"nsmc:{r.review_id}", sentiment_messages(str(r.review), language_of([str(r.review)])),
                       json_schema=sentiment_schema(), max_tokens=24) for r in sample.itertuples()]
    t = time.perf_counter()
    res = engine.run(reqs, {q.request_id: SentimentOut.model_validate for q in reqs})
    wall = time.perf_counter() - t
    engine.close()
    pred = [r.parsed.label for r in res]
    truth = sample["truth"].tolist()
    acc = sum(p == t for p, t in zip(pred, truth)) / len(truth)
    print(f"model: {engine.model_name}; {len(res)} reviews in {wall:.0f} s")
    print("| metric | value | n |")
    print("|---|---:|---:|")
    print(f"| accuracy (neutral counts as wrong) | {acc:.3f} | {len(truth)} |")
    print(f"| macro-F1 (positive, negative) | {macro_f1(truth, pred):.3f} | {len(truth)} |")
    print(f"| share predicted neutral | {pred.count('neutral') / len(pred):.3f} | {len(pred)} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default=os.environ.get("REVIEWLENS_LLM_PRESET", "small"))
    ap.add_argument("--nsmc-limit", type=int, default=200)
    ap.add_argument("--skip-nsmc", action="store_true")
    args = ap.parse_args()
    from reviewlens_dagster.core.config import Settings

    s = Settings.from_env()
    print(f"# eval  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {os.cpu_count()} CPU")
    eval_sample(s.warehouse_path, ROOT / "data" / "sample" / "ground_truth.json")
    if not args.skip_nsmc:
        eval_nsmc(args.preset, args.nsmc_limit)


if __name__ == "__main__":
    main()

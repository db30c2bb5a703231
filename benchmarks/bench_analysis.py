"""`make bench-analysis`: LLM cost of the analysis stage per restaurant, old design vs new, one engine.

- old (prompt 2026-11-24.2, kept here as the baseline): per restaurant, one sentiment request
  per TOP-K review (K = 20, the review in the middle of the prompt) plus one summary and one
  strength prompt that each carry all 20 reviews;
- new (the product): one extraction request per sampled review (20, shared prefix first, review
  last) plus one summary written from the counts.
Both run on the same restaurants of the sample data in the same engine process; the prefix cache
is reset before each design so neither inherits the other's cache. The baseline's 20 context
reviews are the same 20 reviews the new design samples (the cost does not depend on which 20).
Prints prompt tokens, tokens served from the prefix cache, computed prompt tokens, output tokens
and wall time per restaurant, and the ratios new / old (targets: computed prompt tokens <= 35 %,
wall time <= 50 %).

    python benchmarks/bench_analysis.py [--preset small] [--restaurants 2]
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import pandas as pd

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reviewlens_dagster.core.analysis.extract import analyse_reviews  # noqa: E402
from reviewlens_dagster.core.analysis.prevalence import aspect_prevalence, highlights  # noqa: E402
from reviewlens_dagster.core.analysis.prompts import SYSTEM, escape  # noqa: E402
from reviewlens_dagster.core.analysis.sampling import stratified_sample  # noqa: E402
from reviewlens_dagster.core.analysis.summarize import build_briefs, write_summaries  # noqa: E402
from reviewlens_dagster.core.aspects import ASPECTS  # noqa: E402
from reviewlens_dagster.core.config import Settings  # noqa: E402
from reviewlens_dagster.core.llm.factory import LLMConfig, build_engine  # noqa: E402
from reviewlens_dagster.core.llm.types import LLMRequest  # noqa: E402
from reviewlens_dagster.synthetic import generate  # noqa: E402

# ---- the baseline: prompt 2026-11-24.2, as it was
OLD_SENTIMENT = (
    "다음 리뷰의 감정을 분류하세요.\n"
    '예시: "음식이 맛있고 사장님도 친절해요" → positive / "너무 짜고 불친절해요" → negative / '
    '"맛은 평범하고 가격은 보통" → neutral\n\n{review}\n\n'
    "label은 positive, negative, neutral 중 하나, confidence는 low, medium, high 중 하나로 답하세요."
)
OLD_SUMMARY = (
    "다음은 한 음식점의 대표 리뷰들입니다.\n\n{reviews}\n\n"
    "세 가지 요약을 한국어로 각각 2~3문장으로 쓰세요: overall(전체), positive(좋은 점), negative(아쉬운 점). "
    "각 요약에는 근거가 된 리뷰의 id(R1 같은 형식)를 review_ids에 적으세요. 근거가 없으면 그렇다고 쓰세요."
)
OLD_STRENGTH = (
    "다음은 한 음식점의 대표 리뷰들입니다.\n\n{reviews}\n\n"
    "이 음식점의 강점(strengths)과 약점(weaknesses)을 각각 1~3개 찾으세요. aspect는 다음 중 하나입니다: "
    + ", ".join(ASPECTS)
    + ". text에는 짧은 설명을, review_ids에는 근거 리뷰 id(R1 같은 형식)를 적으세요."
)


def _block(items):
    return "\n".join(f'<review id="{a}">\n{escape(t)}\n</review>' for a, t in items)


def old_requests(rid: str, texts: list[str]) -> list[LLMRequest]:
    aliases = [f"R{i}" for i in range(1, len(texts) + 1)]
    ev = {"type": "array", "items": {"type": "string", "enum": aliases}, "minItems": 1, "maxItems": 5}
    sent = {
        "type": "object",
        "properties": {
            "label": {"type": "string", "enum": ["positive", "negative", "neutral"]},
            "confidence": {"type": "string", "enum": ["low", "medium", "high"]},
        },
        "required": ["label", "confidence"],
        "additionalProperties": False,
    }
    part = {
        "type": "object",
        "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 250}, "review_ids": ev},
        "required": ["text", "review_ids"],
        "additionalProperties": False,
    }
    summ = {
        "type": "object",
        "properties": {k: part for k in ("overall", "positive", "negative")},
        "required": ["overall", "positive", "negative"],
        "additionalProperties": False,
    }
    item = {
        "type": "object",
        "properties": {
            "aspect": {"type": "string", "enum": list(ASPECTS)},
            "text": {"type": "string", "minLength": 1, "maxLength": 80},
            "review_ids": {**ev, "maxItems": 4},
        },
        "required": ["aspect", "text", "review_ids"],
        "additionalProperties": False,
    }
    arr = {"type": "array", "items": item, "minItems": 1, "maxItems": 3}
    stren = {
        "type": "object",
        "properties": {"strengths": arr, "weaknesses": arr},
        "required": ["strengths", "weaknesses"],
        "additionalProperties": False,
    }
    sys_msg = {"role": "system", "content": SYSTEM["ko"]}
    out = [
        LLMRequest(
            f"old-sent:{rid}:{i}",
            [sys_msg, {"role": "user", "content": OLD_SENTIMENT.format(review=_block([("R1", t)]))}],
            json_schema=sent,
            max_tokens=24,
        )
        for i, t in enumerate(texts)
    ]
    items = list(zip(aliases, texts))
    out.append(
        LLMRequest(
            f"old-summary:{rid}",
            [sys_msg, {"role": "user", "content": OLD_SUMMARY.format(reviews=_block(items))}],
            json_schema=summ,
            max_tokens=1280,
        )
    )
    out.append(
        LLMRequest(
            f"old-strength:{rid}",
            [sys_msg, {"role": "user", "content": OLD_STRENGTH.format(reviews=_block(items))}],
            json_schema=stren,
            max_tokens=1024,
        )
    )
    return out


def figures(results, wall: float, n: int) -> dict:
    prompt = sum(r.prompt_tokens for r in results)
    cached = sum(r.cached_prompt_tokens or 0 for r in results)
    return {
        "requests": len(results) / n,
        "prompt tokens": prompt / n,
        "cached prompt tokens": cached / n,
        "computed prompt tokens": (prompt - cached) / n,
        "output tokens": sum(r.output_tokens for r in results) / n,
        "wall s": wall / n,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--restaurants", type=int, default=2)
    ap.add_argument("--k", type=int, default=20)
    args = ap.parse_args()
    reviews, _ = generate(seed=7)
    df = pd.DataFrame(reviews)
    keys = sorted(df["restaurant_id"].unique())[: args.restaurants]
    df = df[df["restaurant_id"].isin(keys)].reset_index(drop=True)
    sample = stratified_sample(df[["restaurant_id", "review_id", "rating"]], args.k)
    settings = Settings.from_env()
    engine = build_engine(
        LLMConfig(preset=args.preset, model_cache_dir=settings.model_cache_dir), progress=lambda m: None
    )
    llm = engine.backend.llm
    engine.run([LLMRequest("warmup", [{"role": "user", "content": "안녕"}], max_tokens=2)])
    rows = {}

    llm.reset_prefix_cache()
    text_by = dict(zip(df["review_id"], df["text"]))
    reqs = [
        q
        for rid in keys
        for q in old_requests(rid, [text_by[r] for r in sample[sample.restaurant_id == rid]["review_id"]])
    ]
    t0 = time.perf_counter()
    res = engine.run(reqs)
    rows["old (prompt 2026-11-24.2)"] = figures(res, time.perf_counter() - t0, len(keys))

    llm.reset_prefix_cache()
    collected = []

    def runner(requests, validators):
        out = engine.run(requests, validators)
        collected.extend(out)
        return out

    t0 = time.perf_counter()
    ext = analyse_reviews(df[["restaurant_id", "review_id", "text", "rating"]], args.k, runner, None, engine.model_name)
    counts = df.groupby("restaurant_id").size().to_dict()
    prev = aspect_prevalence(ext.aspect_mentions, counts)
    hl = highlights(prev, ext.aspect_mentions)
    top = pd.DataFrame(columns=["restaurant_id", "rank", "review_id", "text"])
    write_summaries(build_briefs(prev, hl, top, counts), prev, hl, runner, None, engine.model_name)
    rows["new (extraction + summary from counts)"] = figures(collected, time.perf_counter() - t0, len(keys))
    engine.close()

    table = pd.DataFrame(rows).T
    ratio = table.iloc[1] / table.iloc[0]
    print(
        f"# bench-analysis  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  {os.cpu_count()} CPU  "
        f"preset {args.preset}  restaurants {', '.join(keys)}  K={args.k}  load {os.getloadavg()[0]:.1f}"
    )
    print("per restaurant:")
    print(pd.concat([table, ratio.rename("new / old").to_frame().T]).round(3).to_markdown())


if __name__ == "__main__":
    main()

"""`make bench-llm`: FCFS vs shortest-prefill-first on the real vLLM engine, and the engine
wrapper's throughput vs raw `LLM.generate` on the same prompts. Prints tables; asserts nothing.

    python benchmarks/bench_llm.py [--preset tiny] [--requests 64] [--long-share 0.1]
                                   [--long-tokens 1500] [--short-tokens 100] [--max-num-seqs 8]

The engine runs with a small `max_num_seqs` so that requests queue (that is where the
scheduling policy matters); each policy runs the same prompts in the same arrival order.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time

import numpy as np

os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

WORDS = [
    "food",
    "service",
    "price",
    "taste",
    "portion",
    "clean",
    "friendly",
    "waiting",
    "parking",
    "delivery",
    "atmosphere",
    "delicious",
    "salty",
    "sweet",
    "spicy",
    "cheap",
    "expensive",
    "quick",
    "slow",
    "noisy",
    "quiet",
    "cozy",
]


_WORD_COST: dict = {}  # tokens per word, measured once with the model's tokenizer


def make_prompt(tokenizer, target: int, rng: random.Random) -> list[dict]:
    """A chat prompt of about ``target`` tokens: word costs are measured once with the model's
    tokenizer, then words are added until the target (the engine counts the exact figure)."""
    head = "Summarize these review notes:"
    _cost = _WORD_COST
    if not _cost:
        _cost["base"] = len(
            tokenizer.apply_chat_template(
                [{"role": "user", "content": head}], tokenize=True, add_generation_prompt=True
            )
        )
        for w in WORDS:
            _cost[w] = len(tokenizer.encode(" " + w, add_special_tokens=False))
    words, n = [], _cost["base"]
    while n < target:
        w = rng.choice(WORDS)
        words.append(w)
        n += _cost[w]
    return [{"role": "user", "content": head + " " + " ".join(words)}]


def pct(v, q):
    return float(np.percentile(v, q)) if len(v) else float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default=os.environ.get("REVIEWLENS_BENCH_PRESET", "tiny"))
    ap.add_argument("--requests", type=int, default=64)
    ap.add_argument("--long-share", type=float, default=0.1)
    ap.add_argument("--long-tokens", type=int, default=1500)
    ap.add_argument("--short-tokens", type=int, default=100)
    ap.add_argument("--output-tokens", type=int, default=32)
    ap.add_argument("--max-num-seqs", type=int, default=8)
    args = ap.parse_args()

    from reviewlens_dagster.core.config import Settings
    from reviewlens_dagster.core.llm.engine import LLMEngine, VLLMOfflineBackend, on_cpu
    from reviewlens_dagster.core.llm.models import get_preset, resolve_model
    from reviewlens_dagster.core.llm.scheduler import SchedulerConfig
    from reviewlens_dagster.core.llm.types import LLMRequest

    preset = get_preset(args.preset)
    path = resolve_model(args.preset, Settings.from_env().model_cache_dir, print)
    t = time.perf_counter()
    backend = VLLMOfflineBackend(
        path, preset.display_name, max_model_len=max(2048, args.long_tokens + 256), max_num_seqs=args.max_num_seqs
    )
    start_s = time.perf_counter() - t
    tok = backend.tokenizer
    rng = random.Random(0)
    n_long = max(1, round(args.requests * args.long_share))
    kinds = ["long"] * n_long + ["short"] * (args.requests - n_long)
    rng.shuffle(kinds)
    prompts = [make_prompt(tok, args.long_tokens if k == "long" else args.short_tokens, rng) for k in kinds]

    def requests():
        return [
            LLMRequest(f"q{i}", m, max_tokens=args.output_tokens, tags={"kind": k})
            for i, (m, k) in enumerate(zip(prompts, kinds))
        ]

    # warm-up (first-call allocations)
    LLMEngine(backend).run([LLMRequest("warm", prompts[0], max_tokens=4)])
    rows = {}
    for policy in ("fcfs", "sjf"):
        engine = LLMEngine(backend, SchedulerConfig(policy=policy, starvation_s=600), progress=lambda m: None)
        t = time.perf_counter()
        res = engine.run(requests())
        wall = time.perf_counter() - t
        short = [r.e2e_ms for r, k in zip(res, kinds) if k == "short"]
        long_ = [r.e2e_ms for r, k in zip(res, kinds) if k == "long"]
        rows[policy] = {
            "short_mean": float(np.mean(short)),
            "short_p95": pct(short, 95),
            "long_p99": pct(long_, 99),
            "tok_s": sum(r.output_tokens for r in res) / wall,
            "wall": wall,
            "ttft_short_mean": float(np.mean([r.ttft_ms for r, k in zip(res, kinds) if k == "short"])),
        }

    # the engine wrapper vs raw LLM.generate on the same prompts and priorities
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    reqs = requests()
    ids = [backend.prompt_ids(r.messages) for r in reqs]
    pri = [len(i) for i in ids]
    params = [SamplingParams(max_tokens=args.output_tokens, temperature=0.0, seed=0) for _ in reqs]
    t = time.perf_counter()
    raw = backend.llm.generate([TokensPrompt(prompt_token_ids=i) for i in ids], params, priority=pri, use_tqdm=False)
    raw_wall = time.perf_counter() - t
    raw_tok_s = sum(len(o.outputs[0].token_ids) for o in raw) / raw_wall
    engine = LLMEngine(backend, SchedulerConfig(policy="sjf"), progress=lambda m: None)
    t = time.perf_counter()
    res = engine.run(requests())
    wrap_wall = time.perf_counter() - t
    wrap_tok_s = sum(r.output_tokens for r in res) / wrap_wall
    backend.close()

    print(
        f"\n# bench-llm  {time.strftime('%Y-%m-%d %H:%M')}  {platform.node()}  "
        f"{'CPU' if on_cpu() else 'GPU'}  {os.cpu_count()} cores  load {os.getloadavg()[0]:.1f}"
    )
    print(
        f"model: {preset.display_name} (preset {args.preset}); engine start {start_s:.1f} s; "
        f"{args.requests} requests: {n_long} long (~{args.long_tokens} tok), {args.requests - n_long} short "
        f"(~{args.short_tokens} tok); {args.output_tokens} output tokens max; max_num_seqs={args.max_num_seqs}"
    )
    print(
        "\n| policy | short mean e2e ms | short p95 e2e ms | short mean TTFT ms | long p99 e2e ms | output tok/s | wall s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for p, r in rows.items():
        print(
            f"| {p} | {r['short_mean']:.0f} | {r['short_p95']:.0f} | {r['ttft_short_mean']:.0f} | {r['long_p99']:.0f} "
            f"| {r['tok_s']:.1f} | {r['wall']:.1f} |"
        )
    f, s = rows["fcfs"], rows["sjf"]
    print(
        f"\nSJF vs FCFS: short-request mean latency {100 * (1 - s['short_mean'] / f['short_mean']):+.1f}% lower "
        f"(goal >= 40%), throughput cost {100 * (1 - s['tok_s'] / f['tok_s']):+.1f}% (goal <= 5%)"
    )
    print("\n| path | output tok/s | wall s | ratio (goal >= 0.97) |")
    print("|---|---:|---:|---:|")
    print(f"| raw LLM.generate | {raw_tok_s:.1f} | {raw_wall:.1f} | 1.00 |")
    print(
        f"| LLMEngine (count tokens, schedule, validate, metrics) | {wrap_tok_s:.1f} | {wrap_wall:.1f} | "
        f"{wrap_tok_s / raw_tok_s:.2f} |"
    )


if __name__ == "__main__":
    main()

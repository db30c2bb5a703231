"""The engine that schedules, validates and measures, over one backend interface
(:class:`LLMBackend`):

1. :class:`VLLMOfflineBackend` (vllm_offline.py) — in-process ``vllm.LLM``;
2. :class:`OpenAIServerBackend` (openai_server.py) — an OpenAI-compatible vLLM server.

Both are re-exported here. What each measures: their modules' docstrings, README "Serving metrics".
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from .openai_server import OpenAIServerBackend, RetryableHTTPError, choice_logprobs_from_tokens  # noqa: F401
from .scheduler import SchedulerConfig, order_requests, plan_batches, run_with_split
from .types import (
    EngineOverloadedError,
    LLMError,
    LLMRequest,
    LLMResult,
    StructuredOutputError,
)
from .vllm_offline import VLLM_ENV, VLLMOfflineBackend, cpu_has_bf16, on_cpu, vllm_environment  # noqa: F401

log = logging.getLogger(__name__)


class LLMBackend(Protocol):
    model_name: str
    max_model_len: int

    def count_prompt_tokens(self, messages: list[dict]) -> int: ...
    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]: ...
    def close(self) -> None: ...


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

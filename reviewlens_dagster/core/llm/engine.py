"""The engine that schedules, validates and measures, over one backend interface
(:class:`LLMBackend`):

1. :class:`VLLMOfflineBackend` (vllm_offline.py) — in-process ``vllm.LLM``;
2. :class:`OpenAIServerBackend` (openai_server.py) — an OpenAI-compatible vLLM server.

Both are re-exported here. What each measures: their modules' docstrings, docs/serving.md "Serving metrics".
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
    """What the engine needs of a backend. A backend may also offer ``stream(requests, priorities,
    on_result)``, handing each result over as its request finishes (both real backends do); the
    engine then uses it so results can be committed while the batch runs."""

    model_name: str
    max_model_len: int

    def count_prompt_tokens(self, messages: list[dict]) -> int: ...
    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]: ...
    def close(self) -> None: ...


#: results handed to the metrics sink together (and the rest at the end of a run)
METRICS_FLUSH = 64


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
        self,
        requests: list[LLMRequest],
        validators: dict[str, Callable[[Any], Any]] | None = None,
        on_result: Callable[[LLMResult], None] | None = None,
    ) -> list[LLMResult]:
        """Run requests; results come back in request order.

        ``validators`` maps request ids to a callable that takes the parsed JSON and returns the
        validated object (e.g. a pydantic model's ``model_validate``) or raises. ``on_result``
        receives each valid result as soon as it is validated, while the rest of the batch keeps
        running (with a backend that streams, the in-process vLLM and the server do): the caller
        can commit as results arrive. An invalid output gets one repair retry after the batch.
        """
        if not requests:
            return []
        ids = [r.request_id for r in requests]
        if len(set(ids)) != len(ids):
            raise LLMError("duplicate request ids", sorted({i for i in ids if ids.count(i) > 1}))
        validators = validators or {}
        by_id = {r.request_id: r for r in requests}
        results: dict[str, LLMResult] = {}
        unrecorded: list[LLMResult] = []

        def accept(res: LLMResult) -> None:
            results[res.request_id] = res
            if on_result:
                on_result(res)
            unrecorded.append(res)
            if len(unrecorded) >= METRICS_FLUSH:
                self._record(unrecorded[:])
                unrecorded.clear()

        def check(res: LLMResult, invalid: dict[str, str]) -> None:
            src = by_id[res.request_id]
            err = self._parse(res, validators.get(res.request_id)) if src.json_schema is not None else None
            if err:
                results[res.request_id] = res
                invalid[res.request_id] = err
            else:
                accept(res)

        invalid: dict[str, str] = {}
        try:
            self._execute(requests, lambda res: check(res, invalid))
            still: dict[str, str] = {}
            if invalid:
                self.progress(f"{len(invalid)} structured output(s) invalid: one repair retry")
                attempts = {i: results[i].attempts for i in invalid}

                def repaired(res: LLMResult) -> None:
                    res.attempts = attempts[res.request_id] + 1
                    check(res, still)

                self._execute([self._repair(by_id[i], results[i], err) for i, err in invalid.items()], repaired)
        finally:
            self._record(unrecorded)
        if still:
            self._record([results[i] for i in still], failed=still)
            raise StructuredOutputError(
                "invalid structured output after one repair retry: "
                + "; ".join(f"request {k}: {v[:200]}" for k, v in list(still.items())[:5]),
                list(still),
                valid=[results[i] for i in ids if i not in still],
            )
        return [results[i] for i in ids]

    @staticmethod
    def _repair(src: LLMRequest, answer: LLMResult, err: str) -> LLMRequest:
        """The request again, with the invalid answer and what was wrong with it."""
        return LLMRequest(
            request_id=src.request_id,
            json_schema=src.json_schema,
            max_tokens=src.max_tokens,
            temperature=src.temperature,
            tags={**src.tags, "repair": "1"},
            choices=src.choices,
            repetition_penalty=src.repetition_penalty,
            messages=[
                *src.messages,
                {"role": "assistant", "content": answer.text},
                {"role": "user", "content": REPAIR_INSTRUCTION.format(error=err[:300])},
            ],
        )

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

    def _execute(self, requests: list[LLMRequest], done: Callable[[LLMResult], None]) -> None:
        """Run the requests in token-budget batches, shortest prefill first; ``done`` receives each
        result as the backend finishes it. A failing batch is split and its unfinished requests
        retried (:func:`run_with_split`)."""
        for r in requests:
            if r.prompt_tokens is None:
                r.prompt_tokens = self.backend.count_prompt_tokens(r.messages)
            if r.prompt_tokens + r.max_tokens > self.backend.max_model_len:
                raise LLMError(
                    f"request {r.request_id}: {r.prompt_tokens} prompt + {r.max_tokens} output tokens exceed the "
                    f"model's context of {self.backend.max_model_len}",
                    [r.request_id],
                )
        finished: set[str] = set()

        def one(res: LLMResult, started: float, at: float) -> None:
            res.started_at, res.finished_at = started, at
            finished.add(res.request_id)
            done(res)

        def call(items: list[tuple[int, LLMRequest]]) -> list:
            items = [t for t in items if t[1].request_id not in finished]  # a retried half: what is left
            if items:
                self._generate([r for _, r in items], [p for p, _ in items], one)
            return []

        def split(n, exc):
            self.splits += 1

        remaining = list(requests)
        while remaining:
            # priorities are computed at submission time, so a request that waited past the
            # starvation bound is promoted in the next submission
            batch = plan_batches(order_requests(remaining, self.scheduler), self.scheduler)[0]
            run_with_split(batch, call, lambda t: t[1].request_id, self.scheduler.single_request_attempts, split)
            sent = {r.request_id for _, r in batch}
            remaining = [r for r in remaining if r.request_id not in sent]
            self.progress(f"LLM requests {len(requests) - len(remaining)}/{len(requests)}")

    def _generate(self, requests: list[LLMRequest], priorities: list[int], one) -> None:
        t0 = time.time()
        stream = getattr(self.backend, "stream", None)
        if stream is not None:
            stream(requests, priorities, lambda res: one(res, t0, time.time()))
            return
        out = self.backend.generate(requests, priorities)  # a backend that cannot stream: all at the end
        t1 = time.time()
        for res in out:
            one(res, t0, min(t1, t0 + res.e2e_ms / 1000.0) if res.e2e_ms else t1)

    def close(self) -> None:
        self.backend.close()

"""The server backend: a client of an OpenAI-compatible server (``vllm serve ...
--scheduling-policy priority``): sends ``priority``, bounds concurrency, retries 429/5xx and
timeouts with exponential backoff (tenacity), a timeout on every call, streaming for TTFT.

What is measured: client-side wall clock around a streaming request: queue = time waiting in the
client's priority queue for a concurrency slot; TTFT = first content chunk - request sent; TPOT =
(last chunk - first chunk) / (output tokens - 1); e2e = last chunk - request sent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from ..config import LLM_REQUEST_TIMEOUT_S
from .scheduler import SchedulerConfig, pick_next
from .types import (
    TOP_LOGPROBS,
    EngineStartError,
    LLMError,
    LLMRequest,
    LLMResult,
    LLMUnavailableError,
)

log = logging.getLogger(__name__)


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
        timeout_s: float = LLM_REQUEST_TIMEOUT_S,
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
        return self.stream(requests, priorities, lambda res: None)

    def stream(
        self, requests: list[LLMRequest], priorities: list[int], on_result: Callable[[LLMResult], None]
    ) -> list[LLMResult]:
        """Each result handed to ``on_result`` as its request completes (the others stay in flight);
        results in request order at the end."""
        try:
            return asyncio.run(self._generate(requests, priorities, on_result))
        except self._transient() as exc:
            raise LLMUnavailableError(
                f"LLM server {self.base_url} unavailable after {self.max_attempts} attempts: "
                f"{type(exc).__name__}: {exc}",
                [r.request_id for r in requests],
            ) from exc

    async def _generate(
        self, requests: list[LLMRequest], priorities: list[int], on_result: Callable[[LLMResult], None]
    ) -> list[LLMResult]:
        import httpx

        pending = list(zip(priorities, range(len(requests)), requests))
        results: list[LLMResult | None] = [None] * len(requests)
        enqueued = time.monotonic()

        def pop():
            pick = pick_next(pending, self.starvation_s)
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
                    on_result(results[idx])

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

"""Run analysis jobs through the LLM cache and the engine, committing as results complete.

A job is one LLM request with its cache key and validator. Cached jobs make no call. The misses
go to the engine shortest-first in chunks of ``chunk_size`` requests; the prompt prefix every
request shares (system text, instructions, examples) is computed once and reused by vLLM's
prefix cache, within a chunk too (87 % of the prompt tokens of 200 extraction requests in one
call came from the cache). Each
chunk's validated results are written to the cache before the next chunk starts, so a run that
is killed loses at most the chunk in flight and a re-run calls the engine only for the rest.
Progress (x/N requests, restaurants complete, output tokens/s, ETA) is logged after each chunk.
A chunk that fails for good (a request still invalid after its repair, or failing after the
engine's split-and-retry) does not stop the others: they are committed, and the step then fails
naming the restaurants concerned (:class:`PartialAnalysisError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..llm.types import EngineBatchError, LLMError, LLMRequest, LLMResult, StructuredOutputError
from .cache import LLMCache

#: LLM requests whose results are validated and committed to the cache together
DEFAULT_CHUNK_SIZE = 32

#: (requests, validators by request id) -> results in request order
Runner = Callable[[list[LLMRequest], dict[str, Callable[[Any], Any]]], list[LLMResult]]


class PartialAnalysisError(LLMError):
    """Some restaurants' requests failed for good; every other chunk was committed. Re-running
    makes only the missing calls; the restaurants that completed can be materialized alone."""

    def __init__(self, failed: dict[str, str], request_ids: list[str]) -> None:
        shown = "; ".join(f"{restaurant_id}: {why[:200]}" for restaurant_id, why in list(failed.items())[:10])
        super().__init__(
            f"LLM analyses failed for {len(failed)} restaurant(s) ({', '.join(sorted(failed)[:20])}); "
            f"the results of the others are committed to the LLM cache. {shown}",
            request_ids,
        )
        self.failed = failed


@dataclass
class Job:
    task: str
    restaurant_id: str
    key: str
    request: LLMRequest
    validator: Callable[[Any], Any]
    extra: dict = field(default_factory=dict)
    #: (validated object, engine result) -> object to keep and cache, e.g. with the result's logprobs
    attach: Callable[[Any, LLMResult], Any] | None = None


@dataclass
class JobsOutcome:
    parsed: dict[str, tuple[Any, bool]]  # request id -> (validated object, came from the cache)
    results: list[LLMResult]  # the engine's results of this run (misses only)
    wall_s: float
    chunks: int
    #: restaurant -> why, for the requests that failed for good (only with ``keep_failures``)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def cache_hits(self) -> int:
        return sum(1 for _, cached in self.parsed.values() if cached)

    @property
    def llm_calls(self) -> int:
        return len(self.results)


def _prompt_chars(job: Job) -> int:
    return sum(len(m.get("content", "")) for m in job.request.messages)


def _eta(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def run_jobs(
    jobs: list[Job],
    runner: Runner,
    cache: LLMCache | None,
    model: str,
    prompt_version: str,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
    keep_failures: bool = False,
) -> JobsOutcome:
    """Validated outputs of every job: cached ones read back, the others computed and committed.
    Requests that fail for good (invalid output after the repair retry, a batch the engine could
    not run) raise PartialAnalysisError at the end, after every other chunk was committed; with
    ``keep_failures`` they are returned in ``failed`` instead (the caller has a fallback). The valid
    results of a chunk with an invalid one are kept and committed."""
    ids = [j.request.request_id for j in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate request ids among {len(ids)} jobs")
    cached = cache.get_many([j.key for j in jobs]) if cache else {}
    parsed: dict[str, tuple[Any, bool]] = {}
    stale = 0
    for j in jobs:
        if j.key in cached:
            try:
                parsed[j.request.request_id] = (j.validator(cached[j.key]), True)
            except ValueError:  # pydantic's ValidationError too: an entry this code cannot use is a miss
                stale += 1
    say = progress or (lambda m: None)
    if stale:
        say(f"{stale} cached LLM output(s) no longer valid: asked again")
    misses = sorted((j for j in jobs if j.request.request_id not in parsed), key=_prompt_chars)
    if not misses:
        return JobsOutcome(parsed, [], 0.0, 0)
    per_restaurant: dict[str, int] = {}
    for j in misses:
        per_restaurant[j.restaurant_id] = per_restaurant.get(j.restaurant_id, 0) + 1
    size = max(1, chunk_size)
    chunks = [misses[i : i + size] for i in range(0, len(misses), size)]
    results: list[LLMResult] = []
    t0 = time.perf_counter()
    out_tokens = 0
    failed: dict[str, str] = {}
    failed_ids: list[str] = []
    for n, chunk in enumerate(chunks, start=1):
        try:
            res = runner([j.request for j in chunk], {j.request.request_id: j.validator for j in chunk})
        except (EngineBatchError, StructuredOutputError) as exc:
            # final for these requests: carry on with the other chunks, fail at the end naming them
            # (an unavailable server or an interrupt is not caught: it stops the run at once)
            res = getattr(exc, "valid", [])
            bad = set(exc.request_ids) if res else {j.request.request_id for j in chunk}
            for j in chunk:
                if j.request.request_id in bad:
                    failed.setdefault(j.restaurant_id, f"{type(exc).__name__}: {exc}")
                    failed_ids.append(j.request.request_id)
            say(
                f"LLM chunk {n}/{len(chunks)}: {len(bad)} request(s) failed ({type(exc).__name__}); "
                "continuing with the others"
            )
        by_id = {r.request_id: r for r in res}
        entries = []
        for j in (j for j in chunk if j.request.request_id in by_id):
            res_j = by_id[j.request.request_id]
            obj = j.attach(res_j.parsed, res_j) if j.attach else res_j.parsed
            parsed[j.request.request_id] = (obj, False)
            entries.append((j.key, j.task, model, prompt_version, obj.model_dump()))
            per_restaurant[j.restaurant_id] -= 1
        if cache:
            cache.put_many(entries)  # committed: a crash after this line loses nothing of this chunk
        results.extend(res)
        out_tokens += sum(r.output_tokens for r in res)
        done = len(results) + len(failed_ids)
        elapsed = time.perf_counter() - t0
        complete = sum(1 for r, v in per_restaurant.items() if v == 0 and r not in failed)
        rate = out_tokens / elapsed if elapsed > 0 else 0.0
        eta = elapsed / done * (len(misses) - done)
        say(
            f"LLM {done:,}/{len(misses):,} requests, {complete}/{len(per_restaurant)} restaurants complete, "
            f"{rate:.1f} output tok/s, ETA {_eta(eta)}"
        )
    if failed and not keep_failures:
        raise PartialAnalysisError(failed, failed_ids)
    return JobsOutcome(parsed, results, time.perf_counter() - t0, len(chunks), failed)

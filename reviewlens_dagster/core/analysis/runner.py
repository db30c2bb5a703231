"""Run analysis jobs through the LLM cache and the engine, committing as results complete.

A job is one LLM request with its cache key and validator. Cached jobs make no call. The misses
go to the engine together, shortest first; the prompt prefix every request shares (system text,
instructions, examples) is computed once and reused by vLLM's prefix cache. Results stream back
as their requests finish, and every ``chunk_size`` validated results are written to the cache
while the batch keeps running (no drain between commits), so a run that is killed loses at most
the results since the last commit and a re-run calls the engine only for the rest. Progress (x/N
requests, restaurants complete, output tokens/s, ETA) is logged at each commit. A request that
fails for good (still invalid after its repair, or failing after the engine's split-and-retry)
does not stop the others: they run and are committed, and the step then fails naming the
restaurants concerned (:class:`PartialAnalysisError`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..config import DEFAULT_CHUNK_SIZE
from ..llm.types import EngineBatchError, LLMError, LLMRequest, LLMResult, StructuredOutputError
from .cache import LLMCache

#: (requests, validators by request id, on_result) -> results in request order; ``on_result`` is
#: called with each valid result as it completes (a runner that cannot stream may skip it: the
#: results it returns are taken at the end)
Runner = Callable[[list[LLMRequest], dict[str, Callable[[Any], Any]], Callable[[LLMResult], None]], list[LLMResult]]


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
    Requests that fail for good (invalid output after the repair retry, a request the engine could
    not run) raise PartialAnalysisError at the end, after every other result was committed; with
    ``keep_failures`` they are returned in ``failed`` instead (the caller has a fallback)."""
    ids = [j.request.request_id for j in jobs]
    if len(set(ids)) != len(ids):
        raise ValueError(f"duplicate request ids among {len(ids)} jobs")
    say = progress or (lambda m: None)
    parsed = _from_cache(jobs, cache, say)
    misses = sorted((j for j in jobs if j.request.request_id not in parsed), key=_prompt_chars)
    if not misses:
        return JobsOutcome(parsed, [], 0.0, 0)
    commits = _Commits(misses, cache, model, prompt_version, max(1, chunk_size), parsed, say)
    remaining = misses
    while remaining:
        try:
            returned = runner(
                [j.request for j in remaining], {j.request.request_id: j.validator for j in remaining}, commits.take
            )
        except (EngineBatchError, StructuredOutputError) as exc:
            # final for these requests: the others go on, and the step fails at the end naming them
            # (an unavailable server or an interrupt is not caught: it stops the run at once)
            if not commits.fail(exc):  # named nothing still open: every unfinished request failed with it
                commits.fail(exc, [j.request.request_id for j in remaining])
        else:
            for res in returned:  # a runner that does not stream hands its results over here
                if res.request_id not in parsed:
                    commits.take(res)
            lost = [j.request.request_id for j in remaining if j.request.request_id not in parsed]
            if lost and not set(lost) <= commits.failed_ids:
                raise LLMError(f"the engine returned no result for {len(lost)} request(s)", lost)
        finally:
            commits.flush()  # what completed is kept, whatever happens next
        settled = parsed.keys() | commits.failed_ids.keys()
        remaining = [j for j in remaining if j.request.request_id not in settled]
    if commits.failed and not keep_failures:
        raise PartialAnalysisError(commits.failed, list(commits.failed_ids))
    return JobsOutcome(parsed, commits.results, time.perf_counter() - commits.t0, commits.n, commits.failed)


def _from_cache(jobs: list[Job], cache: LLMCache | None, say: Callable[[str], None]) -> dict[str, tuple[Any, bool]]:
    cached = cache.get_many([j.key for j in jobs]) if cache else {}
    parsed: dict[str, tuple[Any, bool]] = {}
    stale = 0
    for j in jobs:
        if j.key in cached:
            try:
                parsed[j.request.request_id] = (j.validator(cached[j.key]), True)
            except ValueError:  # pydantic's ValidationError too: an entry this code cannot use is a miss
                stale += 1
    if stale:
        say(f"{stale} cached LLM output(s) no longer valid: asked again")
    return parsed


class _Commits:
    """Takes validated results as they complete, commits every ``size`` of them to the cache, and
    logs progress at each commit."""

    def __init__(self, misses, cache, model, prompt_version, size, parsed, say) -> None:
        self.jobs = {j.request.request_id: j for j in misses}
        self.cache, self.model, self.prompt_version, self.size = cache, model, prompt_version, size
        self.parsed, self.say = parsed, say
        self.per_restaurant: dict[str, int] = {}
        for j in misses:
            self.per_restaurant[j.restaurant_id] = self.per_restaurant.get(j.restaurant_id, 0) + 1
        self.entries: list[tuple] = []
        self.results: list[LLMResult] = []
        self.failed: dict[str, str] = {}
        self.failed_ids: dict[str, None] = {}  # ordered set
        self.n = 0
        self.out_tokens = 0
        self.t0 = time.perf_counter()

    def take(self, res: LLMResult) -> None:
        j = self.jobs[res.request_id]
        obj = j.attach(res.parsed, res) if j.attach else res.parsed
        self.parsed[res.request_id] = (obj, False)
        self.entries.append((j.key, j.task, self.model, self.prompt_version, obj.model_dump()))
        self.results.append(res)
        self.out_tokens += res.output_tokens
        self.per_restaurant[j.restaurant_id] -= 1
        if len(self.entries) >= self.size:
            self.flush()

    def fail(self, exc: EngineBatchError | StructuredOutputError, request_ids: list[str] | None = None) -> int:
        """Mark requests failed for good (those the error names); how many were still open."""
        new = [
            rid
            for rid in (exc.request_ids if request_ids is None else request_ids)
            if rid in self.jobs and rid not in self.parsed and rid not in self.failed_ids
        ]
        for rid in new:
            self.failed.setdefault(self.jobs[rid].restaurant_id, f"{type(exc).__name__}: {exc}")
            self.failed_ids[rid] = None
        if new:
            self.say(f"LLM: {len(new)} request(s) failed ({type(exc).__name__}); continuing with the others")
        return len(new)

    def flush(self) -> None:
        if not self.entries:
            return
        if self.cache:
            self.cache.put_many(self.entries)  # committed: a crash after this line loses none of these
        self.entries = []
        self.n += 1
        total = len(self.jobs)
        done = len(self.results) + len(self.failed_ids)
        elapsed = time.perf_counter() - self.t0
        complete = sum(1 for r, v in self.per_restaurant.items() if v == 0 and r not in self.failed)
        rate = self.out_tokens / elapsed if elapsed > 0 else 0.0
        eta = elapsed / done * (total - done) if done else 0.0
        self.say(
            f"LLM {done:,}/{total:,} requests, {complete}/{len(self.per_restaurant)} restaurants complete, "
            f"{rate:.1f} output tok/s, ETA {_eta(eta)}"
        )

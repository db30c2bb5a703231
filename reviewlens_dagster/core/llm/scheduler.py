"""Shortest-prefill-first with a starvation bound, token-budget batches, split-and-retry.

Priority of a request = its exact prompt token count (prefill cost): lower runs first, which
is vLLM's convention for ``scheduling_policy="priority"``. A request that has waited longer
than ``starvation_s`` is promoted to priority 0 (ahead of every fresh request), so a long
prompt cannot wait forever behind a stream of short ones. Ties keep arrival order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from ..config import DEFAULT_POLICY
from .types import EngineBatchError, LLMRequest, LLMUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class SchedulerConfig:
    policy: str = DEFAULT_POLICY  # "sjf" (shortest-prefill-first) or "fcfs"
    starvation_s: float = 30.0
    #: prompt + max output tokens per engine submission
    batch_token_budget: int = 65536
    max_batch_requests: int = 256
    #: attempts of a single request that keeps failing, after the batch was split down to it
    single_request_attempts: int = 2


def priority_of(req: LLMRequest, cfg: SchedulerConfig, now: float | None = None) -> int:
    if cfg.policy == "fcfs":
        return 0
    if req.prompt_tokens is None:
        raise ValueError(f"request {req.request_id}: prompt tokens not counted before scheduling")
    now = time.monotonic() if now is None else now
    if now - req.submitted_at >= cfg.starvation_s:
        return 0  # starvation bound: promoted ahead of every fresh request
    return max(1, int(req.prompt_tokens))


def pick_next(pending: Sequence[tuple[int, int, LLMRequest]], starvation_s: float, now: float | None = None):
    """The next of ``pending`` (priority, arrival index, request) for a free slot: the oldest request
    past the starvation bound, else the lowest priority (the shortest prefill), then arrival. The
    server backend's queue; :func:`order_requests` is the same rule for a whole batch."""
    now = time.monotonic() if now is None else now
    starved = [t for t in pending if now - t[2].submitted_at >= starvation_s]
    return min(starved, key=lambda t: t[2].submitted_at) if starved else min(pending, key=lambda t: (t[0], t[1]))


def order_requests(
    reqs: Sequence[LLMRequest], cfg: SchedulerConfig, now: float | None = None
) -> list[tuple[int, LLMRequest]]:
    """(priority, request) in execution order: priority, then arrival (stable)."""
    now = time.monotonic() if now is None else now
    pri = [(priority_of(r, cfg, now), i, r) for i, r in enumerate(reqs)]
    pri.sort(key=lambda t: (t[0], t[1]))
    return [(p, r) for p, _, r in pri]


def plan_batches(ordered: list[tuple[int, LLMRequest]], cfg: SchedulerConfig) -> list[list[tuple[int, LLMRequest]]]:
    """Cut the ordered requests into submissions bounded by the token budget and request count."""
    batches: list[list[tuple[int, LLMRequest]]] = []
    current: list[tuple[int, LLMRequest]] = []
    used = 0
    for item in ordered:
        cost = (item[1].prompt_tokens or 0) + item[1].max_tokens
        if current and (used + cost > cfg.batch_token_budget or len(current) >= cfg.max_batch_requests):
            batches.append(current)
            current, used = [], 0
        current.append(item)
        used += cost
    if current:
        batches.append(current)
    return batches


def run_with_split(
    batch: list[T],
    fn: Callable[[list[T]], list],
    ids: Callable[[T], str],
    attempts: int = 2,
    on_split: Callable[[int, Exception], None] | None = None,
) -> list:
    """Run ``fn(batch)``; on an exception split the batch in halves and retry each half.

    A single request that still fails is tried ``attempts`` times in all; then
    :class:`EngineBatchError` is raised naming it. Errors are never swallowed.
    """
    try:
        return fn(batch)
    except (EngineBatchError, LLMUnavailableError):
        raise  # already final, or the server is down: splitting would only multiply the waiting
    except Exception as exc:  # engine errors, out-of-memory: split and retry
        if len(batch) == 1:
            last = exc
            for _ in range(attempts - 1):
                try:
                    return fn(batch)
                except Exception as again:  # retried below / raised after the loop
                    last = again
            raise EngineBatchError(
                f"request {ids(batch[0])} failed after {attempts} attempt(s): {type(last).__name__}: {last}",
                [ids(batch[0])],
            ) from last
        if on_split:
            on_split(len(batch), exc)
        log.warning(
            "engine error on a batch of %d (%s: %s); splitting and retrying", len(batch), type(exc).__name__, exc
        )
        mid = len(batch) // 2
        return run_with_split(batch[:mid], fn, ids, attempts, on_split) + run_with_split(
            batch[mid:], fn, ids, attempts, on_split
        )

"""Scheduler and engine logic with a deterministic backend double."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from reviewlens_dagster.core.llm.engine import LLMEngine
from reviewlens_dagster.core.llm.scheduler import (
    SchedulerConfig,
    order_requests,
    pick_next,
    plan_batches,
    priority_of,
)
from reviewlens_dagster.core.llm.types import EngineBatchError, EngineOverloadedError, LLMError, StructuredOutputError

from .doubles import DoubleBackend, req

SCHEMA = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}


class Label(BaseModel):
    label: str
    confidence: str


def test_shortest_prefill_first_orders_by_prompt_tokens():
    backend = DoubleBackend()
    engine = LLMEngine(backend)
    reqs = [req("long", 500), req("short", 5), req("mid", 50), req("short2", 5)]
    results = engine.run(reqs)
    assert [r.request_id for r in results] == ["long", "short", "mid", "short2"]  # request order kept
    sent = backend.calls[0]
    assert [request_id for request_id, _ in sent] == ["short", "short2", "mid", "long"]  # ties keep arrival order
    assert [p for _, p in sent] == [8, 8, 53, 503]  # priority = exact prompt tokens


def test_fcfs_keeps_arrival_order():
    backend = DoubleBackend()
    LLMEngine(backend, SchedulerConfig(policy="fcfs")).run([req("long", 500), req("short", 5)])
    assert [request_id for request_id, _ in backend.calls[0]] == ["long", "short"]


def test_starvation_bound_promotes_old_requests():
    cfg = SchedulerConfig(starvation_s=10)
    old_long, fresh_short = req("old", 900, age_s=11), req("fresh", 3)
    for r in (old_long, fresh_short):
        r.prompt_tokens = len(r.messages[0]["content"].split())
    assert priority_of(old_long, cfg) == 0 < priority_of(fresh_short, cfg)
    assert [r.request_id for _, r in order_requests([fresh_short, old_long], cfg)] == ["old", "fresh"]
    young = req("young", 900, age_s=1)
    young.prompt_tokens = 900
    assert [r.request_id for _, r in order_requests([young, fresh_short], cfg)] == ["fresh", "young"]
    # the server backend's queue takes the same rule one request at a time
    pending = [(priority_of(r, cfg), i, r) for i, r in enumerate([young, fresh_short, old_long])]
    assert pick_next(pending, cfg.starvation_s)[2].request_id == "old"
    assert pick_next(pending[:2], cfg.starvation_s)[2].request_id == "fresh"


def test_token_budget_batches():
    cfg = SchedulerConfig(batch_token_budget=100, max_batch_requests=3)
    reqs = [req(f"r{i}", 10, max_tokens=20) for i in range(5)]
    for r in reqs:
        r.prompt_tokens = 10
    batches = plan_batches(order_requests(reqs, cfg), cfg)
    assert [len(b) for b in batches] == [3, 2]
    big = req("big", 10, max_tokens=500)
    big.prompt_tokens = 10
    assert [len(b) for b in plan_batches(order_requests([big], cfg), cfg)] == [1]  # never an empty batch


def test_batch_split_on_engine_error_isolates_the_failing_request():
    backend = DoubleBackend(fail_ids={"bad"})
    engine = LLMEngine(backend)
    reqs = [req(f"ok{i}", 5 + i) for i in range(6)] + [req("bad", 30)]
    with pytest.raises(EngineBatchError) as exc:
        engine.run(reqs)
    assert exc.value.request_ids == ["bad"] and "bad" in str(exc.value)
    assert engine.splits >= 2


def test_batch_split_recovers_from_transient_errors_and_oom():
    backend = DoubleBackend(fail_batch_over=2)  # "out of memory" above 2 requests
    engine = LLMEngine(backend)
    results = engine.run([req(f"r{i}", 5) for i in range(7)])
    assert len(results) == 7 and all(r.status == "ok" for r in results)
    assert max(len(c) for c in backend.calls if len(c) <= 2) <= 2
    flaky = DoubleBackend(fail_ids={"flaky"}, fail_times=2)
    out = LLMEngine(flaky).run([req("a", 5), req("flaky", 6)])
    assert [r.request_id for r in out] == ["a", "flaky"]


def test_structured_output_repair_then_clear_error():
    backend = DoubleBackend(first_invalid={"s1"})
    metrics = []
    engine = LLMEngine(backend, metrics_sink=metrics.extend)
    out = engine.run(
        [req("s1", 5, SCHEMA), req("s2", 5, SCHEMA)], {"s1": Label.model_validate, "s2": Label.model_validate}
    )
    assert isinstance(out[0].parsed, Label) and out[0].attempts == 2 and out[1].attempts == 1
    assert {m.request_id for m in metrics} == {"s1", "s2"}

    always_bad = DoubleBackend(answers={"s3": '{"label": 1}'})
    with pytest.raises(StructuredOutputError) as exc:
        LLMEngine(always_bad).run([req("s3", 5, SCHEMA)], {"s3": Label.model_validate})
    assert exc.value.request_ids == ["s3"] and "s3" in str(exc.value)


def test_context_overflow_and_pending_bound_are_clear_errors():
    engine = LLMEngine(DoubleBackend(max_model_len=50))
    with pytest.raises(LLMError, match="too_long|exceed"):
        engine.run([req("too_long", 100)])
    bounded = LLMEngine(DoubleBackend(), max_pending=2)
    bounded.submit(req("a", 1))
    bounded.submit(req("b", 1))
    with pytest.raises(EngineOverloadedError):
        bounded.submit(req("c", 1))
    assert [r.request_id for r in bounded.run_pending()] == ["a", "b"]
    with pytest.raises(LLMError, match="duplicate"):
        bounded.run([req("x", 1), req("x", 2)])


def test_the_shared_server_gets_the_engine_settings():
    import json

    from reviewlens_dagster.core.llm.server import STRUCTURED_OUTPUTS, server_command, server_env

    cmd = server_command("/models/x", "x", 8123, 1024)
    args = dict(zip(cmd, cmd[1:]))
    assert cmd[1:3] == ["-m", "vllm.entrypoints.openai.api_server"] and args["--host"] == "127.0.0.1"
    assert args["--scheduling-policy"] == "priority" and args["--port"] == "8123"
    assert json.loads(args["--structured-outputs-config"]) == STRUCTURED_OUTPUTS
    assert "--enable-prefix-caching" in cmd and "--enable-prompt-tokens-details" in cmd
    assert server_env()["HF_HUB_OFFLINE"] == "1"  # never a download at run time

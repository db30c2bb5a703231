"""Serving metrics in DuckDB: records, summaries, report, several writers."""

from __future__ import annotations

import multiprocessing as mp

import pandas as pd
import pytest

from reviewlens_dagster.core.llm.types import LLMResult
from reviewlens_dagster.core.metrics import MetricsStore, serving_report, serving_summary


def _results(n: int, ttft: float, tag: str = "x", start: float = 1000.0) -> list[LLMResult]:
    return [
        LLMResult(
            f"{tag}{i}",
            "t",
            prompt_tokens=10,
            output_tokens=20,
            queue_ms=1.0,
            ttft_ms=ttft,
            tpot_ms=5.0,
            e2e_ms=ttft + 100,
            model="m",
            tags={"asset": "sentiments", "partition": "r1"},
            started_at=start,
            finished_at=start + 2.0,
        )
        for i in range(n)
    ]


def test_record_and_summarize(tmp_path):
    store = MetricsStore(tmp_path / "m.duckdb")
    store.record("run1", _results(3, 500.0) + _results(1, 3000.0, "slow"))
    df = store.frame("run1")
    assert len(df) == 4 and set(df["asset"]) == {"sentiments"}
    s = serving_summary(df, None, sla_ttft_ms=2000)
    assert s["wall_s"] == pytest.approx(2.0)
    assert s["sla_compliance"] == 0.75 and s["goodput_req_s"] == pytest.approx(1.5)
    assert s["throughput_req_s"] == pytest.approx(2.0) and s["output_tokens_per_s"] == pytest.approx(40.0)
    assert s["ttft_p50_ms"] == 500.0 and s["ttft_p95_ms"] > 2000
    rep = serving_report(store.frame(), 2000)
    assert list(rep["model"]) == ["m"] and rep["requests"].iloc[0] == 4


def _writer(path: str, tag: str) -> None:
    store = MetricsStore(path)
    for k in range(5):
        store.record(f"run-{tag}", _results(20, 100.0, f"{tag}-{k}-"))


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "m.duckdb")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(path, t)) for t in ("a", "b", "c")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    df = MetricsStore(path).frame()
    assert len(df) == 3 * 5 * 20 and df["request_id"].is_unique


def test_empty_store(tmp_path):
    assert MetricsStore(tmp_path / "none.duckdb").frame().empty
    assert serving_report(pd.DataFrame(columns=["recorded_at"]), 2000).empty

"""LLM serving metrics in a DuckDB database of their own (not the warehouse), or with the DuckLake
warehouse in its schema ``serving`` of the lake (every worker's requests in one table).

Per request: run_id, asset, partition, request_id, model, prompt_tokens, cached_prompt_tokens (served from vLLM's prefix cache), output_tokens,
queue_ms, ttft_ms, tpot_ms, e2e_ms, tokens_per_s, priority, status, error, recorded_at.
Per run / day / model: throughput, goodput (requests that met the SLA per second), SLA
compliance (TTFT below ``sla_ttft_ms``, default 2,000 ms), p50/p95 TTFT and TPOT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .config import DEFAULT_SLA_TTFT_MS
from .db import retry_locked
from .llm.types import LLMResult
from .warehouse import Backend, exists, has_table, open_database, retry_conflict

SCHEMA = "serving"
COLUMNS = [
    "run_id",
    "asset",
    "partition",
    "request_id",
    "model",
    "prompt_tokens",
    "cached_prompt_tokens",
    "output_tokens",
    "queue_ms",
    "ttft_ms",
    "tpot_ms",
    "e2e_ms",
    "tokens_per_s",
    "priority",
    "status",
    "error",
    "started_at",
    "finished_at",
    "recorded_at",
]
DDL = """
create table if not exists llm_requests (
    run_id varchar, asset varchar, partition varchar, request_id varchar, model varchar,
    prompt_tokens integer, output_tokens integer, queue_ms double, ttft_ms double, tpot_ms double,
    e2e_ms double, tokens_per_s double, priority integer, status varchar, error varchar,
    started_at double, finished_at double, recorded_at timestamp
);
-- added 2026-11-26: prompt tokens served from vLLM's prefix cache (files written before get the column)
alter table llm_requests add column if not exists cached_prompt_tokens integer;
"""


def results_frame(run_id: str, results: Sequence[LLMResult]) -> pd.DataFrame:
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    rows = [
        {
            "run_id": run_id,
            "asset": r.tags.get("asset"),
            "partition": r.tags.get("partition"),
            "request_id": r.request_id,
            "model": r.model,
            "prompt_tokens": r.prompt_tokens,
            "cached_prompt_tokens": r.cached_prompt_tokens,
            "output_tokens": r.output_tokens,
            "queue_ms": r.queue_ms,
            "ttft_ms": r.ttft_ms,
            "tpot_ms": r.tpot_ms,
            "e2e_ms": r.e2e_ms,
            "tokens_per_s": r.tokens_per_s,
            "priority": r.priority,
            "status": r.status,
            "error": r.error,
            "started_at": r.started_at,
            "finished_at": r.finished_at,
            "recorded_at": now,
        }
        for r in results
    ]
    df = pd.DataFrame(rows, columns=COLUMNS)
    df["cached_prompt_tokens"] = pd.to_numeric(df["cached_prompt_tokens"], errors="coerce").astype("Int64")
    for c in ("queue_ms", "ttft_ms", "tpot_ms", "e2e_ms", "tokens_per_s", "started_at", "finished_at"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    return df


class MetricsStore:
    """Appends request rows; short-lived connections so several runs can take turns on the file."""

    def __init__(self, path: Path | str, backend: Backend | None = None) -> None:
        self.path = Path(path)
        self.backend = backend or Backend()
        if self.backend.kind == "duckdb":
            self.path.parent.mkdir(parents=True, exist_ok=True)

    @retry_locked
    @retry_conflict
    def _write(self, df: pd.DataFrame) -> None:
        with open_database(self.path, self.backend, SCHEMA) as con:
            for statement in DDL.split(";"):
                if statement.strip():
                    con.execute(statement)
            con.register("incoming_rows", df)
            cols = ", ".join(COLUMNS)
            con.execute(f"insert into llm_requests ({cols}) select {cols} from incoming_rows")

    def record(self, run_id: str, results: Sequence[LLMResult]) -> int:
        if not results:
            return 0
        self._write(results_frame(run_id, results))
        return len(results)

    @retry_locked
    def frame(self, run_id: str | None = None) -> pd.DataFrame:
        if not exists(self.path, self.backend):
            return pd.DataFrame(columns=COLUMNS)
        with open_database(self.path, self.backend, SCHEMA, read_only=True) as con:
            # the current schema: `serving` in the lake once a run has written it (main in a file)
            if not has_table(con, con.execute("select current_schema()").fetchone()[0], "llm_requests"):
                return pd.DataFrame(columns=COLUMNS)
            if run_id is None:
                return con.execute("select * from llm_requests order by recorded_at, request_id").df()
            return con.execute("select * from llm_requests where run_id = ? order by request_id", [run_id]).df()


def _pct(values: pd.Series, q: float) -> float | None:
    v = pd.to_numeric(values, errors="coerce").dropna()
    return float(np.percentile(v, q)) if len(v) else None


def run_wall_s(df: pd.DataFrame) -> float:
    """Sum over runs of (last finish - first start): the time the engine was busy with them."""
    total = 0.0
    for _, g in df.groupby("run_id"):
        start, end = pd.to_numeric(g["started_at"]).min(), pd.to_numeric(g["finished_at"]).max()
        if pd.notna(start) and pd.notna(end):
            total += max(1e-3, float(end - start))
    return total


def serving_summary(df: pd.DataFrame, wall_s: float | None = None, sla_ttft_ms: float = DEFAULT_SLA_TTFT_MS) -> dict:
    """Serving figures of a set of request rows; ``wall_s`` defaults to :func:`run_wall_s`."""
    n = len(df)
    if n == 0:
        return {"requests": 0}
    ok = df[df["status"] == "ok"]
    wall = wall_s if wall_s and wall_s > 0 else max(1e-3, run_wall_s(df))
    met = ok[pd.to_numeric(ok["ttft_ms"], errors="coerce") < sla_ttft_ms]
    return {
        "requests": n,
        "errors": int(n - len(ok)),
        "prompt_tokens": int(df["prompt_tokens"].sum()),
        # prompt tokens the engine computed (not served from its prefix cache)
        "cached_prompt_tokens": int(pd.to_numeric(df["cached_prompt_tokens"], errors="coerce").fillna(0).sum())
        if "cached_prompt_tokens" in df
        else 0,
        "output_tokens": int(df["output_tokens"].sum()),
        "wall_s": round(wall, 3),
        "throughput_req_s": round(len(ok) / wall, 3),
        "output_tokens_per_s": round(float(ok["output_tokens"].sum()) / wall, 2),
        "goodput_req_s": round(len(met) / wall, 3),
        "sla_ttft_ms": sla_ttft_ms,
        "sla_compliance": round(len(met) / n, 4),
        "ttft_p50_ms": _round(_pct(ok["ttft_ms"], 50)),
        "ttft_p95_ms": _round(_pct(ok["ttft_ms"], 95)),
        "tpot_p50_ms": _round(_pct(ok["tpot_ms"], 50)),
        "tpot_p95_ms": _round(_pct(ok["tpot_ms"], 95)),
        "queue_p95_ms": _round(_pct(ok["queue_ms"], 95)),
    }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 1)


def serving_report(df: pd.DataFrame, sla_ttft_ms: float = DEFAULT_SLA_TTFT_MS) -> pd.DataFrame:
    """Per day and model: requests, tokens, throughput, goodput, SLA compliance, p95 TTFT/TPOT.

    A day's wall time is the sum of its runs' spans (first request start to last finish).
    """
    cols = [
        "day",
        "model",
        "requests",
        "errors",
        "output_tokens",
        "wall_s",
        "throughput_req_s",
        "output_tokens_per_s",
        "goodput_req_s",
        "sla_compliance",
        "ttft_p50_ms",
        "ttft_p95_ms",
        "tpot_p95_ms",
    ]
    if df.empty:
        return pd.DataFrame(columns=cols)
    df = df.copy()
    df["day"] = pd.to_datetime(df["recorded_at"]).dt.date.astype(str)
    rows = []
    for (day, model), g in df.groupby(["day", "model"], sort=True):
        s = serving_summary(g, None, sla_ttft_ms)
        rows.append({"day": day, "model": model, **{k: s.get(k) for k in cols if k not in ("day", "model")}})
    return pd.DataFrame(rows, columns=cols)

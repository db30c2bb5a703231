"""`llm_serving_report`: serving figures per day and model, from the metrics database."""

import dagster as dg
import pandas as pd

from ..core.metrics import MetricsStore, serving_report, serving_summary
from .metadata import bar_chart, frame_metadata
from .partitions import OWNERS, stage_asset
from .resources import LLMEngineResource

#: the LLM serving report's group (the restaurant pages are the `reports` group)
SERVING_GROUP = "llm_serving"


@stage_asset(
    io_manager_key="warehouse_io_manager",
    group_name=SERVING_GROUP,
    kinds={"duckdb", "python"},
    owners=OWNERS,
)
def llm_serving_report(context: dg.AssetExecutionContext, llm: LLMEngineResource) -> dg.Output[pd.DataFrame]:
    """Per day and model: requests, output tokens/s, goodput (requests meeting the TTFT SLA per
    second), SLA compliance, p50/p95 TTFT and p95 TPOT. Reads the metrics DuckDB file."""
    df = MetricsStore(llm.metrics_path, llm.warehouse.backend()).frame()
    report = serving_report(df, llm.sla_ttft_ms)
    overall = serving_summary(df, None, llm.sla_ttft_ms) if len(df) else {"requests": 0}
    chart = {}
    if len(report):
        labels = [f"{d} {m[:18]}" for d, m in zip(report["day"], report["model"])]
        chart["throughput_chart"] = bar_chart(
            labels,
            {"output tokens/s": report["output_tokens_per_s"].tolist()},
            "LLM output tokens/s per day and model",
            "tokens/s",
        )
    return dg.Output(
        report,
        metadata=frame_metadata(
            report,
            **chart,
            sla_ttft_ms=llm.sla_ttft_ms,
            runs=int(df["run_id"].nunique()) if len(df) else 0,
            **{f"all_{k}": v for k, v in overall.items() if isinstance(v, (int, float)) and v is not None},
        ),
    )

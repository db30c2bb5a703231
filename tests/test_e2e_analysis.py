"""End to end in Dagster with the real `tiny` vLLM engine: reviews -> ... -> comparisons.

English reviews: the tiny model (SmolLM2-135M) speaks no Korean; what is checked here is the
structure, grounding, caching and serving metrics, not the model's judgement (see `make eval`).
"""

from __future__ import annotations

import csv

import pytest

from reviewlens_dagster.core.metrics import MetricsStore
from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags
from reviewlens_dagster.defs.partitions import RESTAURANTS
from reviewlens_dagster.definitions import build_defs

from .conftest import make_settings, materialization_metadata, read_table

pytestmark = pytest.mark.llm

RESTAURANTS_EN = {
    "e1": ("Chicken", "Gangnam", ["Crispy chicken, super tasty.", "Delivery was fast and hot.", "Friendly owner!",
                                  "Too salty this time.", "Great value, big portions.", "Parking was hard."]),
    "e2": ("Chicken", "Gangnam", ["Juicy chicken and cheap beer.", "Staff ignored us.", "Clean tables.",
                                  "Delivery took an hour.", "Tasty sauce, will order again."]),
    "e3": ("Cafe", "Hongdae", ["Lovely atmosphere for a date.", "Coffee was bitter.", "Quiet place to study.",
                               "Cakes are expensive.", "Friendly barista."]),
}


def _write(incoming):
    with open(incoming / "english.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area", "created_at"])
        for rid, (cat, area, texts) in RESTAURANTS_EN.items():
            for i, t in enumerate(texts):
                rating = 2 if any(x in t for x in ("salty", "ignored", "hour", "bitter", "expensive", "hard")) else 5
                w.writerow([f"{rid}-{i}", rid, t, rating, cat, area, f"2025-05-{i + 1:02d}"])






def test_pipeline_end_to_end_with_real_tiny_engine(workdir, instance):
    settings = make_settings(workdir, llm_preset="tiny", top_k=4)
    settings.incoming_dir.mkdir(parents=True)
    _write(settings.incoming_dir)
    keys = list(RESTAURANTS_EN)
    instance.add_dynamic_partitions(RESTAURANTS, keys)
    defs = build_defs(settings)
    job = defs.resolve_job_def(PIPELINE_JOB)

    first = job.execute_in_process(instance=instance, tags=range_tags(keys))
    assert first.success
    evals = {e.check_name: e for e in first.get_asset_check_evaluations()}
    for name in ("sentiments_match_schema", "sentiment_ratios_sum_to_one", "summaries_grounded", "strengths_grounded"):
        assert evals[name].passed, (name, evals[name].metadata)
    assert "agreement" in evals["sentiment_agrees_with_ratings"].metadata  # visible even when the model is weak

    top = read_table(settings, "top_k_contexts")
    sent = read_table(settings, "sentiments")
    assert len(sent) == len(top) == 12 and set(sent["review_id"]) == set(top["review_id"])
    summ = read_table(settings, "summaries")
    assert sorted(summ.groupby("restaurant_id").size().tolist()) == [3, 3, 3]
    allowed = top.groupby("restaurant_id")["review_id"].apply(set).to_dict()
    for r in summ.itertuples():
        assert len(r.review_ids) >= 1 and set(r.review_ids) <= allowed[r.restaurant_id]
    md = materialization_metadata(first, "sentiments")
    assert md["llm_calls"].value == 12 + 3 + 3 and md["cache_hits"].value == 0
    assert md["llm_requests"].value == 18 and md["llm_output_tokens"].value > 0
    comps = read_table(settings, "comparisons")
    strengths = read_table(settings, "strengths")
    assert len(comps) == (strengths["polarity"] == "strength").sum()
    if len(comps):
        assert comps["share_with_similar"].between(0, 1).all()
        e1 = comps[comps.restaurant_id == "e1"]
        assert e1.empty or (e1["group_level"].iloc[0] in ("category_area", "category", "all"))

    metrics = MetricsStore(settings.metrics_path).frame()
    assert len(metrics) == 18 and set(metrics["run_id"]) == {first.run_id}
    assert metrics["ttft_ms"].notna().all() and (metrics["status"] == "ok").all()
    assert set(metrics["asset"]) == {"sentiments", "summaries", "strengths"}

    # re-run with unchanged contexts: every LLM output comes from the cache, no engine starts
    second = job.execute_in_process(instance=instance, tags=range_tags(keys))
    assert second.success
    md2 = materialization_metadata(second, "summaries")
    assert md2["llm_calls"].value == 0 and md2["cache_hits"].value == 18
    assert len(MetricsStore(settings.metrics_path).frame()) == 18
    assert not any("starting vLLM" in (e.message or "") for e in second.all_events if e.message)
    summ2 = read_table(settings, "summaries")
    assert summ2.drop(columns="cached").equals(summ.drop(columns="cached"))

    report = defs.resolve_job_def("reporting_job").execute_in_process(instance=instance)
    assert report.success
    rep = read_table(settings, "llm_serving_report")
    assert rep["requests"].sum() == 18 and rep["model"].tolist() == ["SmolLM2-135M-Instruct"]

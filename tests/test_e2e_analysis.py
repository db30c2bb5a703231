"""End to end in Dagster with the real `tiny` vLLM engine: reviews -> ... -> comparisons.

English reviews: the tiny model (SmolLM2-135M) speaks no Korean; what is checked here is the
structure, grounding, caching and serving metrics, not the model's judgement (see `make eval`).
"""

from __future__ import annotations

import csv

import pytest

from reviewlens_dagster.core.metrics import MetricsStore
from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags

from .conftest import make_settings, materialization_metadata, read_table, stage

pytestmark = pytest.mark.llm

RESTAURANTS_EN = {
    "e1": (
        "Chicken",
        "Gangnam",
        [
            "Crispy chicken, super tasty.",
            "Delivery was fast and hot.",
            "Friendly owner!",
            "Too salty this time.",
            "Great value, big portions.",
            "Parking was hard.",
            "Delicious chicken, tasty sauce.",
            "Tasty and crispy, the best fried chicken.",
        ],
    ),
    "e2": (
        "Chicken",
        "Gangnam",
        [
            "Juicy chicken and cheap beer.",
            "Staff ignored us.",
            "Clean tables.",
            "Delivery took an hour.",
            "Tasty sauce, will order again.",
        ],
    ),
    "e3": (
        "Cafe",
        "Hongdae",
        [
            "Lovely atmosphere for a date.",
            "Coffee was bitter.",
            "Quiet place to study.",
            "Cakes are expensive.",
            "Friendly barista.",
        ],
    ),
}


def _write(incoming):
    with open(incoming / "english.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area", "created_at"])
        for restaurant_id, (cat, area, texts) in RESTAURANTS_EN.items():
            for i, t in enumerate(texts):
                rating = 2 if any(x in t for x in ("salty", "ignored", "hour", "bitter", "expensive", "hard")) else 5
                w.writerow([f"{restaurant_id}-{i}", restaurant_id, t, rating, cat, area, f"2025-05-{i + 1:02d}"])


def test_pipeline_end_to_end_with_real_tiny_engine(workdir, instance):
    settings = make_settings(workdir, llm_preset="tiny", top_k=4)
    settings.incoming_dir.mkdir(parents=True)
    _write(settings.incoming_dir)
    keys = sorted(RESTAURANTS_EN)
    defs = build_defs(settings)
    stage(defs, instance)
    job = defs.resolve_job_def(PIPELINE_JOB)
    n_reviews = sum(len(v[2]) for v in RESTAURANTS_EN.values())

    first = job.execute_in_process(instance=instance, tags=range_tags(keys))
    assert first.success
    evals = {e.check_name: e for e in first.get_asset_check_evaluations()}
    for name in (
        "sentiments_match_schema",
        "sentiment_ratios_sum_to_one",
        "quotes_are_substrings",
        "highlights_follow_counts",
        "summaries_grounded",
        "summaries_agree_with_counts",
    ):
        assert evals[name].passed, (name, evals[name].metadata)
    assert "agreement" in evals["sentiment_agrees_with_ratings"].metadata  # visible even when the model is weak

    # the sample size (20) exceeds every restaurant's review count: the LLM read every review
    sent = read_table(settings, "sentiments")
    assert len(sent) == n_reviews and (sent["weight"] == 1).all()
    # the engine reports the label's log-probabilities (the small preset decides on them)
    assert sent[["logprob_positive", "logprob_negative", "logprob_neutral"]].notna().all().all()
    assert sent["confidence"].between(0, 1).all()  # the label's probability among the three
    mentions = read_table(settings, "aspect_mentions")
    texts = dict(zip(sent["review_id"], [t for v in RESTAURANTS_EN.values() for t in v[2]]))
    reviews = read_table(settings, "reviews")
    text_by = dict(zip(reviews["review_id"], reviews["text"]))
    assert len(mentions) >= n_reviews // 2 and all(
        q in text_by[r] for r, q in zip(mentions["review_id"], mentions["quote"])
    )
    assert texts  # every review was analysed
    prev = read_table(settings, "aspect_prevalence")
    assert (prev["mentions"] == prev["positive"] + prev["negative"] + prev["neutral"] + prev["undecided"]).all()
    summ = read_table(settings, "summaries")
    assert sorted(summ.groupby("restaurant_id").size().tolist()) == [3, 3, 3]
    assert set(summ["source"]) <= {"llm", "template", "counts"}
    # one label request per review and one clause request per mention the lexicon left undecided
    asked = int(read_table(settings, "aspect_mentions")["polarity"].isna().sum())
    assert len(read_table(settings, "llm_aspect_polarities")) == asked
    md = materialization_metadata(first, "sentiments")
    assert md["llm_calls"].value == n_reviews + asked and md["cache_hits"].value == 0
    assert md["llm_output_tokens"].value > 0
    # every extraction prompt shares its instructions: vLLM's prefix cache serves them after the first
    assert md["llm_cached_prompt_tokens"].value > 0
    assert md["llm_computed_prompt_tokens"].value < md["llm_prompt_tokens"].value
    smd = materialization_metadata(first, "summaries")
    facts = read_table(settings, "summary_facts")
    worded = facts.groupby("restaurant_id").size()
    assert (worded > 1).sum() >= 1  # e1's taste is a strength: a fact to word
    n_summaries = int((worded > 1).sum())
    assert smd["llm_calls"].value == n_summaries  # one request per restaurant with facts to word
    comps = read_table(settings, "comparisons")
    assert set(comps["restaurant_id"]) <= set(keys) and len(comps)
    # three restaurants and min_group_size 3: never a group of 3 others, so no figure is made up
    assert (comps["group_level"] == "too_small").all() and comps["lift"].isna().all()

    metrics = MetricsStore(settings.metrics_path).frame()
    assert len(metrics) == n_reviews + asked + n_summaries and set(metrics["run_id"]) == {first.run_id}
    assert metrics["ttft_ms"].notna().all() and (metrics["status"] == "ok").all()
    assert set(metrics["asset"]) - {"llm_aspect_polarities"} == {"sentiments", "summaries"}
    assert metrics["cached_prompt_tokens"].sum() > 0

    # re-run with unchanged reviews: every LLM output comes from the cache, no engine starts
    second = job.execute_in_process(instance=instance, tags=range_tags(keys))
    assert second.success
    assert materialization_metadata(second, "sentiments")["cache_hits"].value == n_reviews + asked
    md2 = materialization_metadata(second, "summaries")
    assert md2["llm_calls"].value == 0 and md2["cache_hits"].value == n_summaries
    assert len(MetricsStore(settings.metrics_path).frame()) == n_reviews + asked + n_summaries
    assert not any("starting vLLM" in (e.message or "") for e in second.all_events if e.message)
    summ2 = read_table(settings, "summaries")
    assert summ2.drop(columns="cached").equals(summ.drop(columns="cached"))

    report = defs.resolve_job_def("reporting_job").execute_in_process(instance=instance)
    assert report.success
    rep = read_table(settings, "llm_serving_report")
    assert rep["requests"].sum() == n_reviews + asked + n_summaries and rep["model"].tolist() == [
        "SmolLM2-135M-Instruct"
    ]

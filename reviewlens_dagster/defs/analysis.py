"""Stage 3: `sentiments`, `summaries`, `strengths` — one step, one engine call.

The three assets are computed together so that every LLM request of every restaurant in the
run reaches the engine at once: the shortest-prefill-first scheduler then interleaves the many
short sentiment requests with the long summary / strength prompts across restaurants.
"""

import dagster as dg
import pandas as pd

from ..core.analysis.cache import LLMCache
from ..core.analysis.prompts import PROMPT_VERSION
from ..core.analysis.schemas import LABELS
from ..core.analysis.tasks import contexts_from_top_k, run_analyses, sentiment_ratios
from ..core.config import validate_restaurant_ids
from .metadata import bar_chart, frame_metadata, preview
from .partitions import EAGER, OWNERS, restaurants_partitions, single_run
from .resources import LLMEngineResource, ReviewLensSettings

STORED = {"partition_expr": "restaurant_id"}


def _spec(name, asset, blocking, description):
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description)


CHECKS = [
    _spec("sentiments_match_schema", "sentiments", True, "Labels and confidences are from the schema's values."),
    _spec("sentiment_ratios_sum_to_one", "sentiments", True, "Per restaurant, label ratios sum to 1."),
    _spec("sentiment_agrees_with_ratings", "sentiments", False,
          "Agreement between LLM labels and star ratings is above the threshold (weak models show here)."),
    _spec("summaries_grounded", "summaries", True, "Every cited review id is in the restaurant's TOP-K context."),
    _spec("summaries_not_empty", "summaries", False, "Every restaurant has three non-empty summaries."),
    _spec("strengths_grounded", "strengths", True,
          "Every strength cites review ids of the TOP-K context and an aspect of the vocabulary."),
]


def _grounding(rows: pd.DataFrame, top_k: pd.DataFrame) -> list[str]:
    allowed = top_k.groupby("restaurant_id")["review_id"].apply(set).to_dict()
    bad = []
    for r in rows.itertuples():
        ids = list(r.review_ids)
        if not ids or not set(ids) <= allowed.get(r.restaurant_id, set()):
            bad.append(f"{r.restaurant_id}: {ids}")
    return bad


@dg.multi_asset(
    outs={
        "sentiments": dg.AssetOut(io_manager_key="warehouse_io_manager", metadata=STORED, group_name="analysis",
                                  automation_condition=EAGER, kinds={"vllm", "duckdb"}, owners=OWNERS,
                                  description="Label (positive/negative/neutral) and confidence of each TOP-K review."),
        "summaries": dg.AssetOut(io_manager_key="warehouse_io_manager", metadata=STORED, group_name="analysis",
                                 automation_condition=EAGER, kinds={"vllm", "duckdb"}, owners=OWNERS,
                                 description="Overall, positive and negative summaries citing TOP-K review ids."),
        "strengths": dg.AssetOut(io_manager_key="warehouse_io_manager", metadata=STORED, group_name="analysis",
                                 automation_condition=EAGER, kinds={"vllm", "duckdb"}, owners=OWNERS,
                                 description="Strengths and weaknesses over the aspect vocabulary, with evidence ids."),
    },
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    check_specs=CHECKS,
    can_subset=False,
)
def llm_analyses(context: dg.AssetExecutionContext, top_k_contexts: pd.DataFrame,
                 llm: LLMEngineResource, settings: ReviewLensSettings):
    keys = validate_restaurant_ids(context.partition_keys)
    top_k = top_k_contexts[top_k_contexts["restaurant_id"].isin(keys)]
    contexts = contexts_from_top_k(top_k)
    missing = sorted(set(keys) - set(contexts))
    if missing:
        context.log.warning(f"{len(missing)} restaurant(s) without TOP-K context: {missing[:10]}")
    context.log.info(f"analysing {len(contexts)} restaurant(s) with {llm.model_name} (prompt {PROMPT_VERSION})")
    out = run_analyses(contexts, llm.run, LLMCache(settings.llm_cache_path), llm.model_name)
    context.log.info(f"cache hits {out.cache_hits}, LLM calls {out.llm_calls}")
    usage = {**out.usage, "prompt_version": PROMPT_VERSION,
             "cache_hits": sum(out.cache_hits.values()), "llm_calls": sum(out.llm_calls.values())}

    ratios = sentiment_ratios(out.sentiments)
    s = out.sentiments
    agreement = float(s["agrees_with_rating"].dropna().mean()) if s["agrees_with_rating"].notna().any() else None
    yield dg.Output(s, output_name="sentiments", metadata=frame_metadata(
        s[["restaurant_id", "review_id", "label", "confidence", "rating"]],
        per_restaurant=preview(ratios.round(3), rows=50),
        sentiment_chart=bar_chart(ratios["restaurant_id"].tolist(),
                                  {lab: ratios[f"{lab}_ratio"].tolist() for lab in LABELS},
                                  "Sentiment of TOP-K reviews", "share"),
        positive_ratio=float((s["label"] == "positive").mean()) if len(s) else 0.0,
        agreement_with_ratings=agreement if agreement is not None else float("nan"),
        cache_hits_task=out.cache_hits["sentiment"], **usage))
    yield dg.Output(out.summaries, output_name="summaries", metadata=frame_metadata(
        out.summaries[["restaurant_id", "kind", "text"]], cache_hits_task=out.cache_hits["summary"], **usage))
    yield dg.Output(out.strengths, output_name="strengths", metadata=frame_metadata(
        out.strengths[["restaurant_id", "polarity", "aspect", "text"]], cache_hits_task=out.cache_hits["strength"],
        **usage))

    bad_schema = s[~s["label"].isin(LABELS) | ~s["confidence"].between(0, 1)]
    yield dg.AssetCheckResult(asset_key="sentiments", check_name="sentiments_match_schema", passed=bad_schema.empty,
                              metadata={"bad_rows": len(bad_schema), "rows": len(s)})
    sums = ratios[["positive_ratio", "negative_ratio", "neutral_ratio"]].sum(axis=1)
    off = ratios[(sums - 1).abs() > 1e-9]
    yield dg.AssetCheckResult(asset_key="sentiments", check_name="sentiment_ratios_sum_to_one",
                              passed=off.empty and len(ratios) == len(contexts),
                              metadata={"restaurants": len(ratios), "off": str(off["restaurant_id"].tolist()[:10])})
    yield dg.AssetCheckResult(
        asset_key="sentiments", check_name="sentiment_agrees_with_ratings", severity=dg.AssetCheckSeverity.WARN,
        passed=agreement is None or agreement >= settings.agreement_threshold,
        metadata={"agreement": agreement if agreement is not None else float("nan"),
                  "threshold": settings.agreement_threshold, "rated_reviews": int(s["agrees_with_rating"].notna().sum()),
                  "model": llm.model_name})
    bad = _grounding(out.summaries, top_k)
    yield dg.AssetCheckResult(asset_key="summaries", check_name="summaries_grounded", passed=not bad,
                              metadata={"ungrounded": str(bad[:10]), "summaries": len(out.summaries)})
    empty = out.summaries[out.summaries["text"].fillna("").str.strip() == ""]
    counts = out.summaries.groupby("restaurant_id").size()
    incomplete = [r for r in contexts if counts.get(r, 0) != 3]
    yield dg.AssetCheckResult(asset_key="summaries", check_name="summaries_not_empty",
                              severity=dg.AssetCheckSeverity.WARN, passed=empty.empty and not incomplete,
                              metadata={"empty": len(empty), "incomplete_restaurants": str(incomplete[:10])})
    bad = _grounding(out.strengths, top_k)
    yield dg.AssetCheckResult(asset_key="strengths", check_name="strengths_grounded", passed=not bad,
                              metadata={"ungrounded": str(bad[:10]), "items": len(out.strengths)})

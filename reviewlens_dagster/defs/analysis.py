"""Stage 3: the analyses. Each asset body reads inputs, calls one core function, returns output + metadata.

- `sentiments` + `aspect_mentions` (one step, the LLM's per-review extraction): every review's
  aspect mentions (lexicon over all reviews, the LLM deciding what the lexicon cannot for the
  reviews in scope) and the overall label of each review in scope (stratified sample or all).
- `aspect_prevalence` + `strengths` (no LLM): counts per aspect, and strengths / weaknesses
  derived from them by a documented rule, each with its prevalence, evidence and a quote.
- `summaries` (LLM): an overall summary written from the counts and a few quotes, checked
  against the counts; positive / negative summaries from the strengths / weaknesses.
"""

import time
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from ..core.analysis.cache import LLMCache
from ..core.analysis.extract import analyse_reviews, sentiment_ratios
from ..core.analysis.prevalence import aspect_prevalence, highlights, highlights_markdown
from ..core.analysis.prompts import PROMPT_VERSION, language_of
from ..core.analysis.schemas import LABELS
from ..core.analysis.summarize import build_briefs, contradictions, copies_review, write_summaries
from ..core.aspects import ASPECTS
from ..core.config import validate_restaurant_ids
from ..core.llm.types import LLMUnavailableError
from .metadata import bar_chart, frame_metadata, preview
from .partitions import EAGER, OWNERS, PARTITION_EXPR, restaurants_partitions, single_run
from .resources import AnalysisSettings, LLMEngineResource

#: an LLM server that stays unavailable after the client's own retries (429 / 5xx / timeouts):
#: the step is retried this many times, this long apart; what was committed is not asked again
LLM_STEP_RETRIES, LLM_RETRY_WAIT_S = 2, 60
WITH_IDS = {**PARTITION_EXPR, "list_columns": ["review_ids", "evidence_review_ids"]}


def _out(description: str, kinds: set[str], metadata: dict = PARTITION_EXPR) -> dg.AssetOut:
    return dg.AssetOut(
        io_manager_key="warehouse_io_manager",
        metadata=metadata,
        group_name="analysis",
        automation_condition=EAGER,
        kinds=kinds,
        owners=OWNERS,
        description=description,
    )


def _spec(name, asset, blocking, description):
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description)


@contextmanager
def retry_when_unavailable():
    try:
        yield
    except LLMUnavailableError as exc:
        raise dg.RetryRequested(max_retries=LLM_STEP_RETRIES, seconds_to_wait=LLM_RETRY_WAIT_S) from exc


def _of_run(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return df[df["restaurant_id"].isin(keys)].reset_index(drop=True)


EXTRACTION_CHECKS = [
    _spec(
        "sentiments_match_schema",
        "sentiments",
        True,
        "Labels are from the schema's values; confidences (where the engine gives log-probabilities) in [0, 1].",
    ),
    _spec("sentiment_ratios_sum_to_one", "sentiments", True, "Per restaurant, weighted label shares sum to 1."),
    _spec(
        "sentiment_agrees_with_ratings",
        "sentiments",
        False,
        "Agreement between LLM labels and star ratings is above the threshold (weak models show here).",
    ),
    _spec(
        "quotes_are_substrings",
        "aspect_mentions",
        True,
        "Every quote is copied from its review and every aspect is from the vocabulary.",
    ),
]


@dg.multi_asset(
    outs={
        "sentiments": _out(
            "Overall label (positive/negative/neutral), its probability and the sample weight of each review "
            "the LLM read (a stratified sample per restaurant, or all reviews).",
            {"vllm", "duckdb"},
        ),
        "aspect_mentions": _out(
            "One row per review x aspect mentioned: polarity (lexicon, else LLM, else "
            "undecided) and the quote it rests on.",
            {"vllm", "duckdb"},
        ),
    },
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    check_specs=EXTRACTION_CHECKS,
    can_subset=False,
)
def review_extractions(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    llm: LLMEngineResource,
    analysis_settings: AnalysisSettings,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev = _of_run(reviews, keys)
    size = analysis_settings.llm_sample_size()
    context.log.info(
        f"extracting {len(rev):,} reviews of {rev['restaurant_id'].nunique()} restaurant(s) with "
        f"{llm.model_name} (prompt {PROMPT_VERSION}); LLM scope: "
        f"{'all reviews' if size is None else f'a stratified sample of {size} per restaurant'}"
    )
    t0 = time.perf_counter()
    calibration = llm.label_calibration()
    with retry_when_unavailable():
        out = analyse_reviews(
            rev,
            size,
            llm.run,
            LLMCache(analysis_settings.llm_cache_path),
            llm.model_name,
            chunk_size=analysis_settings.llm_chunk_size,
            progress=context.log.info,
            calibration=calibration,
        )
    usage = {
        **llm.usage(out.jobs.results, time.perf_counter() - t0),
        "prompt_version": PROMPT_VERSION,
        "cache_hits": out.jobs.cache_hits,
        "llm_calls": out.jobs.llm_calls,
        "llm_chunks": out.jobs.chunks,
    }
    context.log.info(f"cache hits {out.jobs.cache_hits}, LLM calls {out.jobs.llm_calls}")
    s, m = out.sentiments, out.aspect_mentions
    ratios = sentiment_ratios(s, out.review_counts)
    rated = s["agrees_with_rating"].dropna()
    agreement = float(rated.astype(bool).mean()) if len(rated) else None
    yield dg.Output(
        s,
        output_name="sentiments",
        metadata=frame_metadata(
            s[["restaurant_id", "review_id", "label", "confidence", "rating", "weight"]],
            per_restaurant=preview(ratios.round(3), rows=50),
            sentiment_chart=bar_chart(
                ratios["restaurant_id"].tolist(),
                {lab: ratios[f"{lab}_ratio"].tolist() for lab in LABELS},
                "Sentiment share (weighted sample)",
                "share",
            ),
            llm_scope="all" if size is None else f"sample of {size}",
            reviews_in_scope=len(s),
            label_calibration=str(calibration) if calibration else "none (generated label)",
            agreement_with_ratings=agreement if agreement is not None else float("nan"),
            **usage,
        ),
    )
    by_source = m["polarity_source"].value_counts().to_dict()
    yield dg.Output(
        m,
        output_name="aspect_mentions",
        metadata=frame_metadata(
            m[["restaurant_id", "review_id", "aspect", "polarity", "polarity_source", "quote"]],
            mentions_by_source=dg.MetadataValue.json({k: int(v) for k, v in by_source.items()}),
            dropped_quotes=out.dropped_quotes,
            reviews_read=len(rev),
            **usage,
        ),
    )

    bad_schema = s[~s["label"].isin(LABELS) | (s["confidence"].notna() & ~s["confidence"].between(0, 1))]
    yield dg.AssetCheckResult(
        asset_key="sentiments",
        check_name="sentiments_match_schema",
        passed=bad_schema.empty,
        metadata={"bad_rows": len(bad_schema), "rows": len(s)},
    )
    sums = ratios[["positive_ratio", "negative_ratio", "neutral_ratio"]].sum(axis=1)
    off = ratios[(sums - 1).abs() > 1e-9]
    missing = sorted(set(rev["restaurant_id"]) - set(ratios["restaurant_id"]))
    yield dg.AssetCheckResult(
        asset_key="sentiments",
        check_name="sentiment_ratios_sum_to_one",
        passed=off.empty and not missing,
        metadata={
            "restaurants": len(ratios),
            "off": str(off["restaurant_id"].tolist()[:10]),
            "without_sentiments": str(missing[:10]),
        },
    )
    yield dg.AssetCheckResult(
        asset_key="sentiments",
        check_name="sentiment_agrees_with_ratings",
        severity=dg.AssetCheckSeverity.WARN,
        passed=agreement is None or agreement >= analysis_settings.agreement_threshold,
        metadata={
            "agreement": agreement if agreement is not None else float("nan"),
            "threshold": analysis_settings.agreement_threshold,
            "rated_reviews": len(rated),
            "model": llm.model_name,
        },
    )
    text_by = dict(zip(rev["review_id"], rev["text"].fillna("")))
    bad = m[
        [
            not (isinstance(q, str) and q and q in text_by.get(r, "")) or a not in ASPECTS
            for r, a, q in zip(m["review_id"], m["aspect"], m["quote"])
        ]
    ]
    yield dg.AssetCheckResult(
        asset_key="aspect_mentions",
        check_name="quotes_are_substrings",
        passed=bad.empty,
        metadata={
            "bad_rows": len(bad),
            "rows": len(m),
            "examples": str(bad[["review_id", "aspect", "quote"]].head(5).values.tolist()),
        },
    )


HIGHLIGHT_CHECKS = [
    _spec(
        "strengths_follow_counts",
        "strengths",
        True,
        "Every strength/weakness cites reviews whose mention of the aspect has that polarity, and its prevalence "
        "equals the aspect_prevalence counts.",
    ),
]


@dg.multi_asset(
    outs={
        "aspect_prevalence": _out(
            "Per restaurant and aspect: mentions over all reviews, positive / negative / "
            "neutral / undecided counts and shares, the derived status and evidence review "
            "ids.",
            {"python", "duckdb"},
            WITH_IDS,
        ),
        "strengths": _out(
            "Strengths and weaknesses derived from aspect_prevalence by a documented rule, each with "
            "its prevalence, evidence review ids and a representative quote.",
            {"python", "duckdb"},
            WITH_IDS,
        ),
    },
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    check_specs=HIGHLIGHT_CHECKS,
    can_subset=False,
)
def aspect_highlights(
    context: dg.AssetExecutionContext,
    aspect_mentions: pd.DataFrame,
    reviews: pd.DataFrame,
    top_k_contexts: pd.DataFrame,
    analysis_settings: AnalysisSettings,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev, men, top = _of_run(reviews, keys), _of_run(aspect_mentions, keys), _of_run(top_k_contexts, keys)
    rule = analysis_settings.highlight_rule()
    counts = rev.groupby("restaurant_id").size().to_dict()
    prev = aspect_prevalence(men, counts, rule)
    langs = {
        restaurant_id: language_of(g["text"].fillna("").head(50).tolist())
        for restaurant_id, g in rev.groupby("restaurant_id")
    }
    hl = highlights(prev, men, dict(zip(top["review_id"], top["rank"])), langs)
    yield dg.Output(
        prev,
        output_name="aspect_prevalence",
        metadata=frame_metadata(
            prev[["restaurant_id", "aspect", "mentions", "positive", "negative", "neutral", "undecided", "status"]],
            rule=str(rule),
            restaurants=len(counts),
        ),
    )
    md = "\n\n".join(highlights_markdown(hl, restaurant_id) for restaurant_id in sorted(counts)[:20])
    yield dg.Output(
        hl,
        output_name="strengths",
        metadata=frame_metadata(
            hl[["restaurant_id", "polarity", "aspect", "prevalence"]],
            highlights=dg.MetadataValue.md(md or "_none_"),
            strengths=int((hl["polarity"] == "strength").sum()),
            weaknesses=int((hl["polarity"] == "weakness").sum()),
            restaurants_without_weakness=len(set(counts) - set(hl.loc[hl["polarity"] == "weakness", "restaurant_id"])),
            rule=str(rule),
        ),
    )
    problems = []
    pol_of = {(r.review_id, r.aspect): r.polarity for r in men.itertuples()}
    want = {"strength": "positive", "weakness": "negative"}
    prev_by = prev.set_index(["restaurant_id", "aspect"])
    for r in hl.itertuples():
        if not len(r.review_ids) or any(pol_of.get((i, r.aspect)) != want[r.polarity] for i in r.review_ids):
            problems.append(f"{r.restaurant_id}/{r.aspect}: evidence")
        p = prev_by.loc[(r.restaurant_id, r.aspect)]
        if p["status"] != r.polarity or int(p[want[r.polarity]]) != r.supporting or int(p["decided"]) != r.decided:
            problems.append(f"{r.restaurant_id}/{r.aspect}: counts")
    yield dg.AssetCheckResult(
        asset_key="strengths",
        check_name="strengths_follow_counts",
        passed=not problems,
        metadata={"problems": str(problems[:10]), "items": len(hl)},
    )


SUMMARY_CHECKS = [
    _spec(
        "summaries_grounded",
        "summaries",
        True,
        "Every cited review id is a review of the restaurant, and an LLM-written summary cites at least one.",
    ),
    _spec(
        "summaries_agree_with_counts",
        "summaries",
        True,
        "No summary describes an aspect with the polarity opposite to aspect_prevalence, or an aspect no review "
        "mentions.",
    ),
    _spec("summaries_distinct", "summaries", False, "No two restaurants share the same overall summary."),
    _spec("summaries_not_copied", "summaries", False, "No summary copies a review verbatim."),
]


@dg.asset(
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    io_manager_key="warehouse_io_manager",
    metadata=WITH_IDS,
    group_name="analysis",
    kinds={"vllm", "duckdb"},
    owners=OWNERS,
    automation_condition=EAGER,
    check_specs=SUMMARY_CHECKS,
)
def summaries(
    context: dg.AssetExecutionContext,
    aspect_prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    sentiments: pd.DataFrame,
    top_k_contexts: pd.DataFrame,
    reviews: pd.DataFrame,
    llm: LLMEngineResource,
    analysis_settings: AnalysisSettings,
):
    """Overall (LLM, written from the counts and quotes, replaced by a template if it contradicts
    them), positive and negative (from strengths / weaknesses with their prevalence)."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev, prev, hl = _of_run(reviews, keys), _of_run(aspect_prevalence, keys), _of_run(strengths, keys)
    counts = rev.groupby("restaurant_id").size().to_dict()
    briefs = build_briefs(
        prev, hl, _of_run(top_k_contexts, keys), counts, sentiment_ratios(_of_run(sentiments, keys), counts)
    )
    t0 = time.perf_counter()
    with retry_when_unavailable():
        out = write_summaries(
            briefs,
            prev,
            hl,
            llm.run,
            LLMCache(analysis_settings.llm_cache_path),
            llm.model_name,
            chunk_size=analysis_settings.llm_chunk_size,
            progress=context.log.info,
        )
    usage = {
        **llm.usage(out.jobs.results, time.perf_counter() - t0),
        "prompt_version": PROMPT_VERSION,
        "cache_hits": out.jobs.cache_hits,
        "llm_calls": out.jobs.llm_calls,
    }
    s = out.summaries
    for restaurant_id, why in out.replaced.items():
        context.log.warning(f"{restaurant_id}: LLM summary replaced by the template: {'; '.join(why)}")
    yield dg.Output(
        s,
        metadata=frame_metadata(
            s[["restaurant_id", "kind", "source", "text"]],
            replaced_by_template=len(out.replaced),
            replaced=dg.MetadataValue.json({k: v for k, v in list(out.replaced.items())[:20]}),
            **usage,
        ),
    )

    ids_of = rev.groupby("restaurant_id")["review_id"].apply(set).to_dict()
    bad = [
        f"{r.restaurant_id}/{r.kind}"
        for r in s.itertuples()
        if not set(r.review_ids) <= ids_of.get(r.restaurant_id, set()) or (r.source == "llm" and not len(r.review_ids))
    ]
    yield dg.AssetCheckResult(
        check_name="summaries_grounded", passed=not bad, metadata={"ungrounded": str(bad[:10]), "summaries": len(s)}
    )
    overall = s[s["kind"] == "overall"]
    wrong = {
        r.restaurant_id: contradictions(r.text, prev[prev["restaurant_id"] == r.restaurant_id])
        for r in overall.itertuples()
    }
    wrong = {k: v for k, v in wrong.items() if v}
    yield dg.AssetCheckResult(
        check_name="summaries_agree_with_counts",
        passed=not wrong,
        metadata={"contradictions": dg.MetadataValue.json(dict(list(wrong.items())[:10]))},
    )
    dup = overall[overall.duplicated("text", keep=False)]
    yield dg.AssetCheckResult(
        check_name="summaries_distinct",
        severity=dg.AssetCheckSeverity.WARN,
        passed=dup.empty,
        metadata={"restaurants_sharing_a_summary": str(sorted(dup["restaurant_id"])[:10])},
    )
    texts = rev.groupby("restaurant_id")["text"].apply(lambda t: t.fillna("").tolist()).to_dict()
    copied = [r.restaurant_id for r in overall.itertuples() if copies_review(r.text, texts.get(r.restaurant_id, []))]
    yield dg.AssetCheckResult(
        check_name="summaries_not_copied",
        severity=dg.AssetCheckSeverity.WARN,
        passed=not copied,
        metadata={"copied": str(copied[:10])},
    )

"""Stage 3: the analyses. Each asset body reads inputs, calls core, returns output, metadata and
check results computed in core (core/analysis/checks.py).

- `aspect_mentions` (no LLM): the lexicon over every review of every restaurant.
- `sentiments` + `llm_aspect_polarities` (one step, the LLM's per-review extraction): the label
  of each review in scope (stratified sample or all) and the LLM's polarity of each aspect the
  lexicon found in it. Restaurants outside the LLM's scope (on a CPU, all but the first few)
  have no rows here.
- `aspect_prevalence` + `strengths` (no LLM): counts per aspect (lexicon, refined by the LLM
  where it read the restaurant), and strengths / weaknesses / complaints derived from them by a
  documented rule, each with its prevalence, evidence and a quote. Every restaurant has them.
- `summaries` (LLM where it read the restaurant, else the counts template): an overall summary
  written from the counts and a few quotes, checked against the counts; positive / negative
  summaries from the strengths / weaknesses / complaints.
"""

import time
from contextlib import contextmanager

import dagster as dg
import pandas as pd

from ..core.analysis.cache import LLMCache
from ..core.analysis.checks import (
    CheckOutcome,
    extraction_checks,
    highlight_checks,
    mention_checks,
    summary_checks,
)
from ..core.analysis.extract import (
    LEXICON_COLUMNS,
    LLM_POLARITY_COLUMNS,
    SENTIMENT_COLUMNS,
    analyse_reviews,
    lexicon_mentions,
    resolve_polarities,
    sentiment_ratios,
)
from ..core.analysis.prevalence import (
    aspect_prevalence,
    highlights,
    highlights_markdown,
    low_rated_reviews,
)
from ..core.analysis.prompts import PROMPT_VERSION, language_of
from ..core.analysis.schemas import LABELS
from ..core.analysis.summarize import build_briefs, write_summaries
from ..core.config import validate_restaurant_ids
from ..core.llm.types import LLMUnavailableError
from .metadata import bar_chart, frame_metadata, preview
from .partitions import (
    EAGER,
    EAGER_PAST_LLM,
    OWNERS,
    PARTITION_EXPR,
    WAREHOUSE_POOL,
    restaurants_partitions,
    single_run,
)
from .resources import AnalysisSettings, LLMEngineResource

#: an LLM server that stays unavailable after the client's own retries (429 / 5xx / timeouts):
#: the step is retried this many times, this long apart; what was committed is not asked again
LLM_STEP_RETRIES, LLM_RETRY_WAIT_S = 2, 60
WITH_IDS = {**PARTITION_EXPR, "list_columns": ["review_ids", "evidence_review_ids"]}


def _out(description: str, kinds: set[str], metadata: dict = PARTITION_EXPR, condition=EAGER) -> dg.AssetOut:
    return dg.AssetOut(
        io_manager_key="warehouse_io_manager",
        metadata=metadata,
        group_name="analysis",
        automation_condition=condition,
        kinds=kinds,
        owners=OWNERS,
        description=description,
    )


def _spec(name, asset, blocking, description):
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description)


def check_results(outcomes: dict[str, CheckOutcome], specs: list[dg.AssetCheckSpec]):
    """Check results from core's outcomes; WARN for the specs that do not block."""
    by_name = {s.name: s for s in specs}
    for name, o in outcomes.items():
        spec = by_name[name]
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=name,
            passed=bool(o.passed),
            severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
            metadata={k: dg.MetadataValue.json(v) if isinstance(v, dict | list) else v for k, v in o.metadata.items()},
        )


@contextmanager
def retry_when_unavailable():
    try:
        yield
    except LLMUnavailableError as exc:
        raise dg.RetryRequested(max_retries=LLM_STEP_RETRIES, seconds_to_wait=LLM_RETRY_WAIT_S) from exc


def _of_run(df: pd.DataFrame, keys: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of this run's restaurants (``columns``: of a table that may not exist yet)."""
    if columns is not None:
        df = df.reindex(columns=list(dict.fromkeys([*columns, *df.columns])))
    return df[df["restaurant_id"].isin(keys)].reset_index(drop=True)


MENTION_CHECKS = [
    _spec(
        "quotes_are_substrings",
        "aspect_mentions",
        True,
        "Every quote is copied from its review and every aspect is from the vocabulary.",
    ),
]


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    io_manager_key="warehouse_io_manager",
    metadata=PARTITION_EXPR,
    group_name="analysis",
    kinds={"python", "duckdb"},
    owners=OWNERS,
    automation_condition=EAGER,
    check_specs=MENTION_CHECKS,
)
def aspect_mentions(context: dg.AssetExecutionContext, reviews: pd.DataFrame):
    """One row per review x aspect the lexicon finds in it, over every review of every restaurant
    (no LLM): polarity where the wording decides it (else undecided: the LLM's to refine) and the
    clause it rests on as the quote."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev = _of_run(reviews, keys)
    t0 = time.perf_counter()
    m, dropped = lexicon_mentions(rev)
    ms = (time.perf_counter() - t0) * 1000
    context.log.info(f"lexicon: {len(m):,} mentions in {len(rev):,} reviews of {len(keys)} restaurant(s), {ms:.0f} ms")
    per_aspect = m.groupby("aspect")["polarity"].agg(mentions="size", decided="count").reset_index()
    yield dg.Output(
        m,
        metadata=frame_metadata(
            m[LEXICON_COLUMNS],
            reviews_read=len(rev),
            restaurants=len(keys),
            undecided_share=float(m["polarity"].isna().mean()) if len(m) else 0.0,
            per_aspect=preview(per_aspect, rows=20),
            dropped_quotes=dropped,
            lexicon_ms_per_1000_reviews=round(ms / max(1, len(rev)) * 1000, 1),
        ),
    )
    yield from check_results(mention_checks(m, rev), MENTION_CHECKS)


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
        "llm_polarities_answer_the_mentions",
        "llm_aspect_polarities",
        True,
        "Every LLM polarity answers an aspect the lexicon found in that review, with a label of the schema.",
    ),
]


@dg.multi_asset(
    pool=WAREHOUSE_POOL,
    outs={
        "sentiments": _out(
            "Overall label (positive/negative/neutral), its probability and the sample weight of each review "
            "the LLM read (a stratified sample per restaurant, or all reviews).",
            {"vllm", "duckdb"},
        ),
        "llm_aspect_polarities": _out(
            "The LLM's polarity of each aspect the lexicon found in a review it read; aspect_prevalence uses "
            "it where the lexicon could not decide.",
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
    aspect_mentions: pd.DataFrame,
    llm: LLMEngineResource,
    analysis_settings: AnalysisSettings,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev, men = _of_run(reviews, keys), _of_run(aspect_mentions, keys, LEXICON_COLUMNS)
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
            LLMCache(analysis_settings.llm_cache_path, analysis_settings.backend()),
            llm.model_name,
            chunk_size=analysis_settings.llm_chunk_size,
            progress=context.log.info,
            calibration=calibration,
            mentions=men,
            aspect_calibration=llm.label_calibration("aspect_calibration"),
        )
    usage = {
        **llm.usage(out.jobs.results, time.perf_counter() - t0),
        "prompt_version": PROMPT_VERSION,
        "cache_hits": out.jobs.cache_hits,
        "llm_calls": out.jobs.llm_calls,
        "llm_chunks": out.jobs.chunks,
    }
    context.log.info(f"cache hits {out.jobs.cache_hits}, LLM calls {out.jobs.llm_calls}")
    s, lp = out.sentiments, out.llm_polarities
    ratios = sentiment_ratios(s, out.review_counts)
    outcomes = extraction_checks(s, ratios, keys, lp, men, analysis_settings.agreement_threshold, llm.model_name)
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
            agreement_with_ratings=outcomes["sentiment_agrees_with_ratings"].metadata["agreement"],
            **usage,
        ),
    )
    refined = out.aspect_mentions
    yield dg.Output(
        lp,
        output_name="llm_aspect_polarities",
        metadata=frame_metadata(
            lp[LLM_POLARITY_COLUMNS[:4]],
            undecided_by_lexicon_in_scope=int((refined["in_scope"] & refined["lexicon_polarity"].isna()).sum()),
            decided_by_llm=int((refined["polarity_source"] == "llm").sum()),
            **usage,
        ),
    )
    yield from check_results(outcomes, EXTRACTION_CHECKS)


HIGHLIGHT_CHECKS = [
    _spec(
        "strengths_follow_counts",
        "strengths",
        True,
        "Every strength/weakness/complaint cites reviews whose mention of the aspect has that polarity, and its "
        "prevalence equals the aspect_prevalence counts.",
    ),
]


@dg.multi_asset(
    pool=WAREHOUSE_POOL,
    outs={
        "aspect_prevalence": _out(
            "Per restaurant and aspect: mentions over all reviews, positive / negative / neutral / undecided "
            "counts and shares, the derived status, how the polarities were decided (lexicon, or lexicon + LLM "
            "over n reviews) and evidence review ids.",
            {"python", "duckdb"},
            WITH_IDS,
            EAGER_PAST_LLM,
        ),
        "strengths": _out(
            "Strengths, weaknesses and complaints (polarity column) derived from aspect_prevalence by a "
            "documented rule, each with its prevalence, evidence review ids and a representative quote.",
            {"python", "duckdb"},
            WITH_IDS,
            EAGER_PAST_LLM,
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
    llm_aspect_polarities: pd.DataFrame,
    sentiments: pd.DataFrame,
    reviews: pd.DataFrame,
    top_k_contexts: pd.DataFrame,
    analysis_settings: AnalysisSettings,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev, top = _of_run(reviews, keys), _of_run(top_k_contexts, keys)
    men = resolve_polarities(
        _of_run(aspect_mentions, keys, LEXICON_COLUMNS), _of_run(llm_aspect_polarities, keys, LLM_POLARITY_COLUMNS)
    )
    llm_read = _of_run(sentiments, keys, SENTIMENT_COLUMNS).groupby("restaurant_id").size().to_dict()
    rule = analysis_settings.highlight_rule()
    counts = rev.groupby("restaurant_id").size().to_dict()
    prev = aspect_prevalence(men, counts, rule, llm_read)
    langs = {
        restaurant_id: language_of(g["text"].fillna("").head(50).tolist())
        for restaurant_id, g in rev.groupby("restaurant_id")
    }
    hl = highlights(prev, men, dict(zip(top["review_id"], top["rank"])), langs, rule, low_rated_reviews(rev))
    yield dg.Output(
        prev,
        output_name="aspect_prevalence",
        metadata=frame_metadata(
            prev[
                [
                    "restaurant_id",
                    "aspect",
                    "mentions",
                    "positive",
                    "negative",
                    "neutral",
                    "undecided",
                    "status",
                    "decided_by",
                ]
            ],
            rule=str(rule),
            restaurants=len(counts),
            restaurants_read_by_llm=len(llm_read),
            undecided_share=float(men["polarity"].isna().mean()) if len(men) else 0.0,
            neutral_share=float((men["polarity"] == "neutral").mean()) if len(men) else 0.0,
        ),
    )
    md = "\n\n".join(highlights_markdown(hl, restaurant_id) for restaurant_id in sorted(counts)[:20])
    kinds = hl["polarity"].value_counts()
    yield dg.Output(
        hl,
        output_name="strengths",
        metadata=frame_metadata(
            hl[["restaurant_id", "polarity", "aspect", "prevalence", "decided_by"]],
            highlights=dg.MetadataValue.md(md or "_none_"),
            strengths=int(kinds.get("strength", 0)),
            weaknesses=int(kinds.get("weakness", 0)),
            complaints=int(kinds.get("complaint", 0)),
            restaurants_without_weakness=len(set(counts) - set(hl.loc[hl["polarity"] == "weakness", "restaurant_id"])),
            rule=str(rule),
        ),
    )
    yield from check_results(highlight_checks(hl, men, prev), HIGHLIGHT_CHECKS)


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
    _spec(
        "summaries_numbers_match_counts",
        "summaries",
        True,
        "Every number and percentage a summary states is a figure of aspect_prevalence for the aspect it is "
        "written next to (or the restaurant's review count).",
    ),
    _spec("summaries_distinct", "summaries", False, "No two restaurants share the same overall summary."),
    _spec("summaries_not_copied", "summaries", False, "No summary copies a review verbatim."),
]


@dg.asset(
    pool=WAREHOUSE_POOL,
    partitions_def=restaurants_partitions,
    backfill_policy=single_run,
    io_manager_key="warehouse_io_manager",
    metadata=WITH_IDS,
    group_name="analysis",
    kinds={"vllm", "duckdb"},
    owners=OWNERS,
    automation_condition=EAGER_PAST_LLM,
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
    """Overall (LLM-written from the counts and quotes where the LLM read the restaurant, replaced
    by the template if it contradicts them or misplaces a figure; the template elsewhere), positive
    and negative (from strengths / weaknesses / complaints with their prevalence)."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev, prev, hl = _of_run(reviews, keys), _of_run(aspect_prevalence, keys), _of_run(strengths, keys)
    sent = _of_run(sentiments, keys, SENTIMENT_COLUMNS)
    counts = rev.groupby("restaurant_id").size().to_dict()
    read = set(sent["restaurant_id"])
    briefs = build_briefs(prev, hl, _of_run(top_k_contexts, keys), counts, sentiment_ratios(sent, counts))
    t0 = time.perf_counter()
    with retry_when_unavailable():
        out = write_summaries(
            briefs,
            prev,
            hl,
            llm.run,
            LLMCache(analysis_settings.llm_cache_path, analysis_settings.backend()),
            llm.model_name,
            chunk_size=analysis_settings.llm_chunk_size,
            progress=context.log.info,
            llm_restaurants=read,
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
    overall = s[s["kind"] == "overall"]
    yield dg.Output(
        s,
        metadata=frame_metadata(
            s[["restaurant_id", "kind", "source", "text"]],
            written_by_llm=int((overall["source"] == "llm").sum()),
            counts_template=int((overall["source"] != "llm").sum()),
            restaurants_read_by_llm=len(read),
            replaced_by_template=len(out.replaced),
            replaced=dg.MetadataValue.json({k: v for k, v in list(out.replaced.items())[:20]}),
            **usage,
        ),
    )
    yield from check_results(summary_checks(s, rev, prev, hl), SUMMARY_CHECKS)

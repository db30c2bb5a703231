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

from ..core.analysis.checks import (
    extraction_checks,
    highlight_checks,
    mention_checks,
    summary_checks,
)
from ..core.analysis.dishes import DISH_COLUMNS
from ..core.analysis.extract import (
    LEXICON_COLUMNS,
    LLM_POLARITY_COLUMNS,
    SENTIMENT_COLUMNS,
    analyse_reviews,
    extraction_figures,
    lexicon_mentions,
    resolve_polarities,
    sentiment_ratios,
)
from ..core.analysis.facts import FACT_COLUMNS
from ..core.analysis.prevalence import HIGHLIGHT_COLUMNS, PREVALENCE_PREVIEW, prevalence_and_highlights
from ..core.analysis.prompts import PROMPT_VERSION
from ..core.analysis.reasons import REASON_COLUMNS
from ..core.analysis.schemas import LABELS
from ..core.analysis.summarize import build_briefs, restaurant_facts, summary_figures, write_summaries
from ..core.analysis.trends import CHANGE_COLUMNS
from ..core.config import validate_restaurant_ids
from ..core.llm.types import LLMUnavailableError
from .common import check_results, check_spec, of_run
from .metadata import bar_chart, frame_metadata, preview
from .partitions import (
    EAGER,
    EAGER_PAST_LLM,
    OWNERS,
    PARTITION_EXPR,
    per_restaurant,
    restaurant_table,
    stage_asset,
    stage_multi_asset,
)
from .resources import AnalysisResource, LLMEngineResource

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


@contextmanager
def retry_when_unavailable():
    try:
        yield
    except LLMUnavailableError as exc:
        raise dg.RetryRequested(max_retries=LLM_STEP_RETRIES, seconds_to_wait=LLM_RETRY_WAIT_S) from exc


MENTION_CHECKS = [
    check_spec(
        "quotes_are_substrings",
        "aspect_mentions",
        True,
        "Every quote is copied from its review and every aspect is from the vocabulary.",
    ),
]


@stage_asset(
    **restaurant_table(
        "analysis",
        {"python", "duckdb"},
        metadata={**PARTITION_EXPR, "list_columns": ["reasons"]},
        check_specs=MENTION_CHECKS,
    )
)
def aspect_mentions(context: dg.AssetExecutionContext, reviews: pd.DataFrame):
    """One row per review x aspect the lexicon finds in it, over every review of every restaurant
    (no LLM): polarity where the wording decides it (else undecided: the LLM's to refine) and the
    clause it rests on as the quote."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev = of_run(reviews, keys)
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
    check_spec(
        "sentiments_match_schema",
        "sentiments",
        True,
        "Labels are from the schema's values; confidences (where the engine gives log-probabilities) in [0, 1].",
    ),
    check_spec("sentiment_ratios_sum_to_one", "sentiments", True, "Per restaurant, weighted label shares sum to 1."),
    check_spec(
        "sentiment_agrees_with_ratings",
        "sentiments",
        False,
        "Agreement between LLM labels and star ratings is above the threshold (weak models show here).",
    ),
    check_spec(
        "llm_polarities_answer_the_mentions",
        "llm_aspect_polarities",
        True,
        "Every LLM polarity answers an aspect the lexicon found in that review, with a label of the schema.",
    ),
]


@stage_multi_asset(
    **per_restaurant(),
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
    check_specs=EXTRACTION_CHECKS,
    can_subset=False,
)
def review_extractions(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    aspect_mentions: pd.DataFrame,
    llm: LLMEngineResource,
    analysis_settings: AnalysisResource,
):
    keys = validate_restaurant_ids(context.partition_keys)
    rev, men = of_run(reviews, keys), of_run(aspect_mentions, keys, LEXICON_COLUMNS)
    size = analysis_settings.llm_subset()
    context.log.info(
        f"extracting {len(rev):,} reviews of {rev['restaurant_id'].nunique()} restaurant(s) with "
        f"{llm.model_name} (prompt {PROMPT_VERSION}); LLM scope: "
        f"{'all reviews' if size is None else f'a stratified subset of {size} per restaurant'}"
    )
    calibration = llm.label_calibration()
    out, usage = _llm_step(
        context,
        llm,
        analysis_settings,
        analyse_reviews,
        rev,
        size,
        calibration=calibration,
        mentions=men,
        aspect_calibration=llm.label_calibration("aspect_calibration"),
    )
    s, lp = out.sentiments, out.llm_polarities
    ratios = sentiment_ratios(s, out.review_counts)
    outcomes = extraction_checks(s, ratios, keys, lp, men, analysis_settings.agreement_threshold, llm.model_name)
    agreement = outcomes["sentiment_agrees_with_ratings"].metadata["agreement"]
    s_figures, lp_figures = extraction_figures(out, size, calibration, agreement)
    yield dg.Output(
        s,
        output_name="sentiments",
        metadata=frame_metadata(
            s[["restaurant_id", "review_id", "label", "confidence", "rating", "weight"]],
            per_restaurant=preview(ratios.round(3), rows=50),
            sentiment_chart=_sentiment_chart(ratios),
            **s_figures,
            **usage,
        ),
    )
    yield dg.Output(
        lp,
        output_name="llm_aspect_polarities",
        metadata=frame_metadata(lp[LLM_POLARITY_COLUMNS[:4]], **lp_figures, **usage),
    )
    yield from check_results(outcomes, EXTRACTION_CHECKS)


def _llm_step(context, llm: LLMEngineResource, settings: AnalysisResource, analysis, *args, **kwargs):
    """``analysis(*args, runner, cache, model, chunk_size=, progress=, **kwargs)`` over the LLM,
    retried while the server is unavailable; (its output, the step's usage for the metadata)."""
    t0 = time.perf_counter()
    with retry_when_unavailable():
        out = analysis(
            *args,
            llm.run,
            settings.llm_cache(),
            llm.model_name,
            chunk_size=settings.llm_chunk_size,
            progress=context.log.info,
            **kwargs,
        )
    return out, llm.jobs_usage(out.jobs, time.perf_counter() - t0)


def _sentiment_chart(ratios: pd.DataFrame):
    return bar_chart(
        ratios["restaurant_id"].tolist(),
        {lab: ratios[f"{lab}_ratio"].tolist() for lab in LABELS},
        "Sentiment share (weighted sample)",
        "share",
    )


HIGHLIGHT_CHECKS = [
    check_spec(
        "highlights_follow_counts",
        "highlights",
        True,
        "Every strength/weakness/complaint cites reviews whose mention of the aspect has that polarity, and its "
        "prevalence equals the aspect_prevalence counts.",
    ),
    check_spec(
        "lexicon_agrees_with_subratings",
        "aspect_prevalence",
        False,
        "Where reviewers gave per-aspect stars (taste, quantity, delivery), a negative mention comes with a "
        "sub-star of at most 2 and a positive one with at least 4, on at least 0.8 of the reviews with both (n shown).",
    ),
]


@stage_multi_asset(
    **per_restaurant(),
    outs={
        "aspect_prevalence": _out(
            "Per restaurant and aspect: mentions over all reviews, positive / negative / neutral / undecided "
            "counts and shares, the derived status, how the polarities were decided (lexicon, or lexicon + LLM "
            "over n reviews) and evidence review ids.",
            {"python", "duckdb"},
            WITH_IDS,
            EAGER_PAST_LLM,
        ),
        "highlights": _out(
            "Strengths, weaknesses and complaints (polarity column) derived from aspect_prevalence by a "
            "documented rule, each with its prevalence, evidence review ids and a representative quote.",
            {"python", "duckdb"},
            WITH_IDS,
            EAGER_PAST_LLM,
        ),
    },
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
    analysis_settings: AnalysisResource,
):
    keys = validate_restaurant_ids(context.partition_keys)
    men = resolve_polarities(
        of_run(aspect_mentions, keys, LEXICON_COLUMNS), of_run(llm_aspect_polarities, keys, LLM_POLARITY_COLUMNS)
    )
    prev, hl, prev_figures, hl_figures = prevalence_and_highlights(
        men,
        of_run(reviews, keys),
        of_run(top_k_contexts, keys),
        of_run(sentiments, keys, SENTIMENT_COLUMNS).groupby("restaurant_id").size().to_dict(),
        analysis_settings.highlight_rule(),
    )
    yield dg.Output(
        prev, output_name="aspect_prevalence", metadata=frame_metadata(prev[PREVALENCE_PREVIEW], **prev_figures)
    )
    md = hl_figures.pop("highlights_markdown")
    yield dg.Output(
        hl,
        output_name="highlights",
        metadata=frame_metadata(
            hl[["restaurant_id", "polarity", "aspect", "prevalence", "decided_by"]],
            highlights=dg.MetadataValue.md(md or "_none_"),
            **hl_figures,
        ),
    )
    yield from check_results(highlight_checks(hl, men, prev, of_run(reviews, keys)), HIGHLIGHT_CHECKS)


@stage_asset(
    **restaurant_table(
        "analysis",
        {"python", "duckdb"},
        EAGER_PAST_LLM,
        {**PARTITION_EXPR, "list_columns": ["figures", "reasons", "evidence", "review_ids"]},
    )
)
def summary_facts(
    context: dg.AssetExecutionContext,
    highlights: pd.DataFrame,
    aspect_reasons: pd.DataFrame,
    dish_insights: pd.DataFrame,
    aspect_changes: pd.DataFrame,
    reviews: pd.DataFrame,
):
    """What a summary may say, per restaurant: ordered facts (the review count and rating, each
    strength / weakness / complaint with its prevalence and top reasons, the complaint shares that rose
    or fell, the dishes that trail or lead the others), each with its figures, evidence quotes and a
    template sentence. The LLM words these facts; every sentence it writes is checked against its fact.
    The comparison group's figures are not facts here: they depend on the other restaurants' counts at
    the time they were read, and a summary must come out the same for the same reviews (the report
    shows the group position)."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev = of_run(reviews, keys)
    out = restaurant_facts(
        rev,
        of_run(highlights, keys, HIGHLIGHT_COLUMNS),
        of_run(aspect_reasons, keys, REASON_COLUMNS),
        of_run(dish_insights, keys, DISH_COLUMNS),
        None,
        of_run(aspect_changes, keys, CHANGE_COLUMNS),
    )
    kinds = out["kind"].value_counts().to_dict() if len(out) else {}
    return dg.Output(
        out,
        metadata=frame_metadata(
            out[["restaurant_id", "fact_id", "kind", "template"]],
            restaurants=len(keys),
            facts_per_kind=kinds,
            facts=preview(out[["restaurant_id", "fact_id", "kind", "template"]], rows=30, max_chars=120),
        ),
    )


SUMMARY_CHECKS = [
    check_spec(
        "summaries_claims_supported",
        "summaries",
        True,
        "Every sentence the LLM wrote is checked again against the fact it words (summary_facts): its aspect, "
        "figures and direction only; no totality word under a 95 % share, no fame or rank no quote states, no "
        "advice but the fact's reason, no first person, no invented dish.",
    ),
    check_spec(
        "summaries_grounded",
        "summaries",
        True,
        "Every cited review id is a review of the restaurant, and an LLM-written summary cites at least one.",
    ),
    check_spec(
        "summaries_agree_with_counts",
        "summaries",
        True,
        "No summary describes an aspect with the polarity opposite to aspect_prevalence, or an aspect no review "
        "mentions.",
    ),
    check_spec(
        "summaries_numbers_match_counts",
        "summaries",
        True,
        "Every number and percentage a summary states is a figure of aspect_prevalence for the aspect it is "
        "written next to (or the restaurant's review count).",
    ),
    check_spec("summaries_distinct", "summaries", False, "No two restaurants share the same overall summary."),
    check_spec("summaries_not_copied", "summaries", False, "No summary copies a review verbatim."),
]


@stage_asset(
    **restaurant_table(
        "analysis",
        {"vllm", "duckdb"},
        EAGER_PAST_LLM,
        {**PARTITION_EXPR, "list_columns": ["review_ids", "fact_ids", "sentences", "sentence_sources"]},
        check_specs=SUMMARY_CHECKS,
    )
)
def summaries(
    context: dg.AssetExecutionContext,
    aspect_prevalence: pd.DataFrame,
    highlights: pd.DataFrame,
    summary_facts: pd.DataFrame,
    sentiments: pd.DataFrame,
    top_k_contexts: pd.DataFrame,
    reviews: pd.DataFrame,
    llm: LLMEngineResource,
    analysis_settings: AnalysisResource,
):
    """Overall (where the LLM read the restaurant: its wording of summary_facts, one sentence per fact,
    each checked against its fact and replaced by the fact's template sentence when it says more; the
    counts template elsewhere), positive and negative (from strengths / weaknesses / complaints with
    their prevalence)."""
    keys = validate_restaurant_ids(context.partition_keys)
    rev, prev, hl = of_run(reviews, keys), of_run(aspect_prevalence, keys), of_run(highlights, keys)
    facts = of_run(summary_facts, keys, FACT_COLUMNS)
    sent = of_run(sentiments, keys, SENTIMENT_COLUMNS)
    counts = rev.groupby("restaurant_id").size().to_dict()
    read = set(sent["restaurant_id"])
    briefs = build_briefs(prev, hl, of_run(top_k_contexts, keys), counts, sentiment_ratios(sent, counts), facts=facts)
    out, usage = _llm_step(context, llm, analysis_settings, write_summaries, briefs, prev, hl, llm_restaurants=read)
    s = out.summaries
    for restaurant_id, why in out.replaced.items():
        context.log.warning(f"{restaurant_id}: LLM summary replaced by the template: {'; '.join(why)}")
    yield dg.Output(
        s,
        metadata=frame_metadata(s[["restaurant_id", "kind", "source", "text"]], **summary_figures(out, read), **usage),
    )
    yield from check_results(summary_checks(s, rev, prev, hl, facts), SUMMARY_CHECKS)

"""Per-review extraction: the review's aspect mentions and, for the reviews the LLM reads, its label.

1. The lexicon (``lexicon.py``, :func:`lexicon_mentions`) reads **every** review of the
   restaurant, with no LLM: it finds the aspects mentioned, a quote for each (the clause, a
   substring of the review) and, where the wording is clear, the polarity. This is the
   `aspect_mentions` asset, materialized for every restaurant.
2. The LLM (:func:`analyse_reviews`) reads the reviews in scope (a stratified sample, or all of
   them, see ``sampling.py``): one short request per review answers the review's overall label,
   and one request per mention the lexicon left undecided answers the polarity of that clause
   about the named aspect (:func:`aspect_request`; decided on the three labels'
   log-probabilities with the preset's calibration). Those answers are the
   `llm_aspect_polarities` asset (rows for the asked mentions only).
3. :func:`resolve_polarities` joins the two: a mention's polarity is the lexicon's where it
   decided one (its cues are explicit words, more reliable than a 1.5B model on this narrow
   question: see docs/analysis.md "Evaluation"), else the LLM's for reviews it read, else it stays
   undecided and is counted as such. Both opinions are kept in columns (``lexicon_polarity``,
   ``llm_polarity``), with ``polarity_source``. Restaurants the LLM did not read are counted on
   the lexicon alone; the counts say so.
Quotes are validated against the review text; a quote that is not a substring is dropped and
counted, never invented or repaired into something the reviewer did not write.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..config import DEFAULT_CHUNK_SIZE
from ..llm.types import LLMRequest
from .cache import LLMCache, cache_key
from .lexicon import detect_many
from .prompts import PROMPT_VERSION, aspect_messages, extract_messages, language_of
from .runner import Job, JobsOutcome, Runner, run_jobs
from .sampling import stratified_sample
from .schemas import LABELS, ExtractOut, extract_schema, extract_validator

SENTIMENT_COLUMNS = [
    "restaurant_id",
    "review_id",
    "label",
    "llm_label",
    "confidence",
    "logprob_positive",
    "logprob_negative",
    "logprob_neutral",
    "rating",
    "rating_label",
    "agrees_with_rating",
    "stratum",
    "weight",
    "model",
    "prompt_version",
    "cached",
]
#: `aspect_mentions`: the lexicon's reading of every review (polarity None = the lexicon could not decide);
#: ``reasons``: the judgements that decided the polarity (a list; empty when undecided)
LEXICON_COLUMNS = ["restaurant_id", "review_id", "aspect", "polarity", "quote", "reasons"]
#: `llm_aspect_polarities`: the LLM's answer per (review it read, aspect the lexicon found)
LLM_POLARITY_COLUMNS = ["restaurant_id", "review_id", "aspect", "llm_polarity", "model", "prompt_version"]
#: the two joined (:func:`resolve_polarities`): what prevalence, strengths and the evaluation count
MENTION_COLUMNS = [
    "restaurant_id",
    "review_id",
    "aspect",
    "polarity",
    "polarity_source",
    "lexicon_polarity",
    "llm_polarity",
    "quote",
    "reasons",
    "in_scope",
    "prompt_version",
]
#: output budget: the label + ~10 tokens per aspect field
BASE_TOKENS, TOKENS_PER_ASPECT = 16, 10


@dataclass(frozen=True)
class LabelCalibration:
    """The review label decided on the label's log-probabilities instead of the generated one.

    Small models lean positive (the `small` model called 27 of 100 negative NSMC development
    reviews positive): ``positive`` only when lp(positive) - lp(negative) > ``bias``, else
    ``negative``; ``neutral`` when lp(neutral) exceeds both by more than ``neutral_margin``.
    The two numbers are tuned per model on development data (see docs/analysis.md "Evaluation").
    """

    bias: float
    neutral_margin: float

    def decide(self, lp: dict[str, float]) -> str:
        if lp["neutral"] - max(lp["positive"], lp["negative"]) > self.neutral_margin:
            return "neutral"
        return "positive" if lp["positive"] - lp["negative"] > self.bias else "negative"


def final_label(obj: ExtractOut, calibration: LabelCalibration | None) -> str:
    if calibration is None or not obj.label_logprobs:
        return obj.label
    return calibration.decide(obj.label_logprobs)


def confidence_of(label: str, lp: dict[str, float] | None) -> float | None:
    """The probability of ``label`` among the three labels, from their log-probabilities."""
    if not lp:
        return None
    z = {k: math.exp(v) for k, v in lp.items()}
    return z[label] / sum(z.values())


def _with_logprobs(obj: ExtractOut, result) -> ExtractOut:
    return obj.model_copy(update={"label_logprobs": result.choice_logprobs})


def rating_label(rating: float | None) -> str | None:
    if rating is None or pd.isna(rating):
        return None
    return "positive" if rating >= 4 else "negative" if rating <= 2 else "neutral"


def extraction_request(request_id: str, text: str, aspects: list[str], tags: dict | None = None) -> LLMRequest:
    return LLMRequest(
        request_id=request_id,
        messages=extract_messages(text, aspects, language_of([text])),
        json_schema=extract_schema(aspects),
        max_tokens=BASE_TOKENS + TOKENS_PER_ASPECT * len(aspects),
        tags=dict(tags or {}),
        choices=LABELS,
    )


@dataclass
class ExtractionOutput:
    sentiments: pd.DataFrame
    llm_polarities: pd.DataFrame
    #: the lexicon's mentions joined with the LLM's answers (:func:`resolve_polarities`)
    aspect_mentions: pd.DataFrame
    review_counts: dict[str, int]
    dropped_quotes: int
    jobs: JobsOutcome


def lexicon_mentions(reviews: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """(`aspect_mentions` rows of every review, quotes dropped). No LLM: milliseconds per restaurant.
    A quote that is not a substring of its review is dropped and counted, never repaired."""
    rows, dropped = [], 0
    texts = reviews["text"].fillna("").tolist()
    for restaurant_id, review_id, text, found in zip(
        reviews["restaurant_id"], reviews["review_id"], texts, detect_many(texts)
    ):
        for m in found:
            if not m.quote or m.quote not in text:
                dropped += 1
                continue
            rows.append((restaurant_id, review_id, m.aspect, m.polarity, m.quote, list(m.reasons)))
    return pd.DataFrame(rows, columns=LEXICON_COLUMNS).astype({"polarity": "object"}), dropped


def reasons_list(values) -> list[list[str]]:
    """The ``reasons`` column as lists: a table written before reasons existed reads as NaN, DuckDB
    gives numpy arrays."""
    return [[str(r) for r in v] if isinstance(v, list | tuple | np.ndarray) else [] for v in values]


def resolve_polarities(mentions: pd.DataFrame, llm_polarities: pd.DataFrame | None = None) -> pd.DataFrame:
    """Each lexicon mention with its final polarity: the lexicon's, else the LLM's (reviews it
    read), else undecided (None). ``in_scope``: the LLM read the review."""
    m = mentions.reindex(columns=LEXICON_COLUMNS).rename(columns={"polarity": "lexicon_polarity"})
    m["reasons"] = reasons_list(m["reasons"])
    llm = (llm_polarities if llm_polarities is not None else pd.DataFrame()).reindex(columns=LLM_POLARITY_COLUMNS)
    llm = llm.drop_duplicates(["review_id", "aspect"])[["review_id", "aspect", "llm_polarity", "prompt_version"]]
    out = m.merge(llm, on=["review_id", "aspect"], how="left", indicator=True)
    lex = out["lexicon_polarity"].where(out["lexicon_polarity"].notna(), None)
    llm_pol = out["llm_polarity"].where(out["llm_polarity"].notna(), None)
    out["in_scope"] = (out.pop("_merge") == "both").astype(bool)
    out["lexicon_polarity"], out["llm_polarity"] = lex.astype(object), llm_pol.astype(object)
    out["polarity"] = lex.where(lex.notna(), llm_pol).astype(object)
    out["polarity_source"] = [
        "lexicon" if a is not None else "llm" if b is not None else "undecided" for a, b in zip(lex, llm_pol)
    ]
    out["prompt_version"] = out["prompt_version"].where(out["prompt_version"].notna(), None).astype(object)
    return out[MENTION_COLUMNS].reset_index(drop=True)


def aspect_request(request_id: str, clause: str, aspect: str, tags: dict | None = None) -> LLMRequest:
    """One clause, one named aspect, one label (log-probabilities of the three labels returned)."""
    return LLMRequest(
        request_id=request_id,
        messages=aspect_messages(clause, aspect, language_of([clause])),
        json_schema=extract_schema([]),
        max_tokens=BASE_TOKENS,
        tags=dict(tags or {}),
        choices=LABELS,
    )


def plan_extraction(
    reviews: pd.DataFrame,
    sample: pd.DataFrame,
    mentions: pd.DataFrame,
    model: str,
    prompt_version: str = PROMPT_VERSION,
) -> list[Job]:
    """One label request per review in scope, and one clause request per mention of those
    reviews that the lexicon left undecided (``mentions``: the lexicon's, with their quotes)."""
    text_by = dict(zip(reviews["review_id"], reviews["text"].fillna("")))
    undecided = mentions[mentions["polarity"].isna() & mentions["review_id"].isin(set(sample["review_id"]))]
    jobs = []
    for r in sample.itertuples():
        text = text_by[r.review_id]
        key = cache_key("extract", model, prompt_version, [(r.review_id, text)])
        jobs.append(
            Job(
                "extract",
                r.restaurant_id,
                key,
                extraction_request(
                    f"extract:{r.restaurant_id}:{r.review_id}",
                    text,
                    [],
                    {"partition": r.restaurant_id, "asset": "sentiments"},
                ),
                extract_validator([]),
                {"review_id": r.review_id},
                attach=_with_logprobs,
            )
        )
    for m in undecided.itertuples():
        # the clause and the aspect are the key: a lexicon change that moves the clause asks again
        key = cache_key("aspect", model, prompt_version, [(m.review_id, m.quote), ("aspect", m.aspect)])
        jobs.append(
            Job(
                "aspect",
                m.restaurant_id,
                key,
                aspect_request(
                    f"aspect:{m.restaurant_id}:{m.review_id}:{m.aspect}",
                    m.quote,
                    m.aspect,
                    {"partition": m.restaurant_id, "asset": "llm_aspect_polarities"},
                ),
                extract_validator([]),
                {"review_id": m.review_id, "aspect": m.aspect},
                attach=_with_logprobs,
            )
        )
    return jobs


def analyse_reviews(
    reviews: pd.DataFrame,
    subset_size: int | None,
    runner: Runner,
    cache: LLMCache | None,
    model: str,
    prompt_version: str = PROMPT_VERSION,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
    calibration: LabelCalibration | None = None,
    mentions: pd.DataFrame | None = None,
    aspect_calibration: LabelCalibration | None = None,
) -> ExtractionOutput:
    """``reviews``: restaurant_id, review_id, text, rating. ``subset_size`` None or <= 0: every review.
    ``mentions``: the lexicon's `aspect_mentions` of these reviews (computed here when None).
    ``calibration`` / ``aspect_calibration``: decide the review label / a clause's polarity on the
    labels' log-probabilities (None: the generated label)."""
    reviews = reviews.reset_index(drop=True)
    dropped = 0
    if mentions is None:
        mentions, dropped = lexicon_mentions(reviews)
    sample = stratified_sample(reviews[["restaurant_id", "review_id", "rating"]], subset_size)
    jobs = plan_extraction(reviews, sample, mentions, model, prompt_version)
    outcome = run_jobs(jobs, runner, cache, model, prompt_version, chunk_size, progress)
    by_review = {j.extra["review_id"]: outcome.parsed[j.request.request_id] for j in jobs if j.task == "extract"}
    llm_rows = []
    for j in jobs:
        if j.task == "aspect":
            obj, _ = outcome.parsed[j.request.request_id]
            polarity = final_label(obj, aspect_calibration)
            llm_rows.append((j.restaurant_id, j.extra["review_id"], j.extra["aspect"], polarity, model, prompt_version))

    rating_by = dict(zip(reviews["review_id"], reviews["rating"]))
    sent = []
    for r in sample.itertuples():
        obj, was_cached = by_review[r.review_id]
        rating = rating_by.get(r.review_id)
        rating = None if rating is None or pd.isna(rating) else float(rating)
        rl = rating_label(rating)
        label = final_label(obj, calibration)
        lp = obj.label_logprobs or {}
        sent.append(
            {
                "restaurant_id": r.restaurant_id,
                "review_id": r.review_id,
                "label": label,
                "llm_label": obj.label,
                "confidence": confidence_of(label, obj.label_logprobs),
                **{f"logprob_{k}": lp.get(k) for k in LABELS},
                "rating": rating,
                "rating_label": rl,
                "agrees_with_rating": None if rl is None else rl == label,
                "stratum": r.stratum,
                "weight": r.weight,
                "model": model,
                "prompt_version": prompt_version,
                "cached": was_cached,
            }
        )
    sent_df = pd.DataFrame(sent, columns=SENTIMENT_COLUMNS).astype(
        {
            "confidence": "float64",
            "rating": "float64",
            "agrees_with_rating": "boolean",
            "weight": "float64",
            **{f"logprob_{k}": "float64" for k in LABELS},
        }
    )
    llm_df = pd.DataFrame(llm_rows, columns=LLM_POLARITY_COLUMNS)
    return ExtractionOutput(
        sent_df,
        llm_df,
        resolve_polarities(mentions, llm_df),
        reviews.groupby("restaurant_id").size().to_dict(),
        dropped,
        outcome,
    )


def sentiment_ratios(sentiments: pd.DataFrame, review_counts: dict[str, int] | None = None) -> pd.DataFrame:
    """Per restaurant: the sample size, the restaurant's review count, and each label's share
    estimated for the whole restaurant (sample weights), plus agreement with star ratings."""
    cols = [
        "restaurant_id",
        "n_sample",
        "n_reviews",
        "positive_ratio",
        "negative_ratio",
        "neutral_ratio",
        "rated",
        "agreement",
    ]
    if sentiments.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for restaurant_id, g in sentiments.groupby("restaurant_id", sort=True):
        w = g["weight"].fillna(1.0)
        total = float(w.sum()) or 1.0
        rated = g.dropna(subset=["rating_label"])
        rows.append(
            {
                "restaurant_id": restaurant_id,
                "n_sample": len(g),
                "n_reviews": int((review_counts or {}).get(restaurant_id, round(total))),
                **{
                    f"{lab}_ratio": float(w[g["label"] == lab].sum()) / total
                    for lab in ("positive", "negative", "neutral")
                },
                "rated": len(rated),
                "agreement": float(rated["agrees_with_rating"].astype(bool).mean()) if len(rated) else None,
            }
        )
    return pd.DataFrame(rows, columns=cols)


def extraction_figures(
    out: ExtractionOutput, size: int | None, calibration: LabelCalibration | None, agreement: float | None
) -> tuple[dict, dict]:
    """What the ``sentiments`` and ``llm_aspect_polarities`` outputs record about themselves."""
    refined = out.aspect_mentions
    sentiments = {
        "llm_scope": "all" if size is None else f"subset of {size}",
        "reviews_in_scope": len(out.sentiments),
        "label_calibration": str(calibration) if calibration else "none (generated label)",
        "agreement_with_ratings": agreement,
    }
    polarities = {
        "undecided_by_lexicon_in_scope": int((refined["in_scope"] & refined["lexicon_polarity"].isna()).sum()),
        "decided_by_llm": int((refined["polarity_source"] == "llm").sum()),
    }
    return sentiments, polarities

"""Sentiment, summary and strength analyses of TOP-K contexts: plan requests, use the cache,
run the misses in ONE engine call (so the scheduler batches across restaurants and tasks),
and turn the outputs into rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import pandas as pd

from ..llm.types import LLMRequest, LLMResult
from .cache import LLMCache, cache_key
from .prompts import PROMPT_VERSION, language_of, sentiment_messages, strength_messages, summary_messages
from .schemas import (CONFIDENCE, SentimentOut, grounded, sentiment_schema, strength_schema, summary_schema)

SENTIMENT_COLUMNS = ["restaurant_id", "review_id", "rank", "label", "confidence", "rating", "rating_label",
                     "agrees_with_rating", "model", "prompt_version", "cached"]
SUMMARY_COLUMNS = ["restaurant_id", "kind", "text", "review_ids", "language", "model", "prompt_version", "cached"]
STRENGTH_COLUMNS = ["restaurant_id", "polarity", "aspect", "text", "review_ids", "model", "prompt_version", "cached"]

#: output budgets: sized so that the schema's longest valid answer fits (texts are bounded by
#: maxLength; ~1 token per Hangul syllable for Qwen's tokenizer)
MAX_TOKENS = {"sentiment": 24, "summary": 1280, "strength": 1024}


@dataclass
class Context:
    restaurant_id: str
    aliases: list[str]
    review_ids: list[str]
    texts: list[str]
    ratings: list[float | None]
    lang: str

    @property
    def alias_to_id(self) -> dict[str, str]:
        return dict(zip(self.aliases, self.review_ids))

    def items(self) -> list[tuple[str, str]]:
        return list(zip(self.aliases, self.texts))

    def fingerprint(self) -> list[tuple[str, str]]:
        return list(zip(self.review_ids, self.texts))


def contexts_from_top_k(top_k: pd.DataFrame) -> dict[str, Context]:
    out = {}
    for rid, g in top_k.sort_values(["restaurant_id", "rank"]).groupby("restaurant_id", sort=True):
        texts = g["text"].fillna("").tolist()
        out[rid] = Context(
            restaurant_id=rid, aliases=[f"R{i}" for i in range(1, len(g) + 1)], review_ids=g["review_id"].tolist(),
            texts=texts, ratings=[None if pd.isna(r) else float(r) for r in g["rating"]], lang=language_of(texts),
        )
    return out


@dataclass
class Job:
    task: str
    restaurant_id: str
    key: str
    request: LLMRequest
    validator: Callable[[Any], Any]
    extra: dict = field(default_factory=dict)


def plan_jobs(contexts: dict[str, Context], model: str, prompt_version: str = PROMPT_VERSION,
              tasks: tuple[str, ...] = ("sentiment", "summary", "strength")) -> list[Job]:
    jobs: list[Job] = []
    for rid, ctx in contexts.items():
        tags = {"partition": rid}
        if "sentiment" in tasks:
            for rank, (review_id, text) in enumerate(zip(ctx.review_ids, ctx.texts), start=1):
                key = cache_key("sentiment", model, prompt_version, [(review_id, text)])
                lang = language_of([text])
                jobs.append(Job("sentiment", rid, key, LLMRequest(
                    request_id=f"sentiment:{rid}:{review_id}", messages=sentiment_messages(text, lang),
                    json_schema=sentiment_schema(), max_tokens=MAX_TOKENS["sentiment"],
                    tags={**tags, "asset": "sentiments"}), SentimentOut.model_validate,
                    {"review_id": review_id, "rank": rank, "rating": ctx.ratings[rank - 1]}))
        if not ctx.aliases:
            continue
        summary_v, strength_v = grounded(ctx.aliases)
        per_restaurant = (("summary", "summaries", summary_messages, summary_schema, summary_v),
                          ("strength", "strengths", strength_messages, strength_schema, strength_v))
        for task, asset, messages, schema, validator in per_restaurant:
            if task not in tasks:
                continue
            key = cache_key(task, model, prompt_version, ctx.fingerprint())
            jobs.append(Job(task, rid, key, LLMRequest(
                request_id=f"{task}:{rid}", messages=messages(ctx.items(), ctx.lang),
                json_schema=schema(ctx.aliases), max_tokens=MAX_TOKENS[task],
                tags={**tags, "asset": asset}), validator))
    return jobs


Runner = Callable[[list[LLMRequest], dict[str, Callable]], tuple[list[LLMResult], dict]]


@dataclass
class AnalysisOutput:
    sentiments: pd.DataFrame
    summaries: pd.DataFrame
    strengths: pd.DataFrame
    cache_hits: dict[str, int]
    llm_calls: dict[str, int]
    usage: dict


def rating_label(rating: float | None) -> str | None:
    if rating is None or pd.isna(rating):
        return None
    return "positive" if rating >= 4 else "negative" if rating <= 2 else "neutral"


def run_analyses(contexts: dict[str, Context], runner: Runner, cache: LLMCache | None, model: str,
                 prompt_version: str = PROMPT_VERSION) -> AnalysisOutput:
    jobs = plan_jobs(contexts, model, prompt_version)
    cached = cache.get_many([j.key for j in jobs]) if cache else {}
    parsed: dict[str, tuple[Any, bool]] = {}
    for j in jobs:
        if j.key in cached:
            parsed[j.request.request_id] = (j.validator(cached[j.key]), True)
    misses = [j for j in jobs if j.request.request_id not in parsed]
    usage: dict = {"llm_requests": 0}
    if misses:
        results, usage = runner([j.request for j in misses], {j.request.request_id: j.validator for j in misses})
        by_id = {r.request_id: r for r in results}
        entries = []
        for j in misses:
            obj = by_id[j.request.request_id].parsed
            parsed[j.request.request_id] = (obj, False)
            entries.append((j.key, j.task, model, prompt_version, obj.model_dump()))
        if cache:
            cache.put_many(entries)
    hits = {t: sum(1 for j in jobs if j.task == t and parsed[j.request.request_id][1]) for t in MAX_TOKENS}
    calls = {t: sum(1 for j in misses if j.task == t) for t in MAX_TOKENS}
    return AnalysisOutput(*_rows(jobs, parsed, contexts, model, prompt_version), hits, calls, usage)


def _rows(jobs, parsed, contexts, model, version):
    sent, summ, stren = [], [], []
    for j in jobs:
        obj, was_cached = parsed[j.request.request_id]
        ctx = contexts[j.restaurant_id]
        common = {"model": model, "prompt_version": version, "cached": was_cached}
        if j.task == "sentiment":
            rl = rating_label(j.extra["rating"])
            sent.append({"restaurant_id": j.restaurant_id, "review_id": j.extra["review_id"], "rank": j.extra["rank"],
                         "label": obj.label, "confidence": CONFIDENCE[obj.confidence], "rating": j.extra["rating"],
                         "rating_label": rl, "agrees_with_rating": None if rl is None else rl == obj.label, **common})
        elif j.task == "summary":
            for kind in ("overall", "positive", "negative"):
                part = getattr(obj, kind)
                summ.append({"restaurant_id": j.restaurant_id, "kind": kind, "text": part.text,
                             "review_ids": [ctx.alias_to_id[a] for a in dict.fromkeys(part.review_ids)],
                             "language": ctx.lang, **common})
        else:
            for polarity, items in (("strength", obj.strengths), ("weakness", obj.weaknesses)):
                for item in items:
                    stren.append({"restaurant_id": j.restaurant_id, "polarity": polarity, "aspect": item.aspect,
                                  "text": item.text.strip(),
                                  "review_ids": [ctx.alias_to_id[a] for a in dict.fromkeys(item.review_ids)], **common})
    # typed even when every value of a partition is missing (no star ratings): see defs/warehouse.py
    sent_df = pd.DataFrame(sent, columns=SENTIMENT_COLUMNS).astype(
        {"rank": "int64", "confidence": "float64", "rating": "float64", "agrees_with_rating": "boolean"})
    return (sent_df, pd.DataFrame(summ, columns=SUMMARY_COLUMNS),
            pd.DataFrame(stren, columns=STRENGTH_COLUMNS))


def sentiment_ratios(sentiments: pd.DataFrame) -> pd.DataFrame:
    """Per restaurant: counts and ratios of each label, and agreement with star ratings."""
    cols = ["restaurant_id", "n", "positive", "negative", "neutral", "positive_ratio", "negative_ratio",
            "neutral_ratio", "rated", "agreement"]
    if sentiments.empty:
        return pd.DataFrame(columns=cols)
    counts = sentiments.pivot_table(index="restaurant_id", columns="label", values="review_id", aggfunc="count",
                                    fill_value=0).reindex(columns=["positive", "negative", "neutral"], fill_value=0)
    counts["n"] = counts.sum(axis=1)
    for lab in ("positive", "negative", "neutral"):
        counts[f"{lab}_ratio"] = counts[lab] / counts["n"]
    rated = sentiments.dropna(subset=["rating_label"])
    agg = rated.groupby("restaurant_id")["agrees_with_rating"].agg(["count", "mean"]).rename(
        columns={"count": "rated", "mean": "agreement"})
    out = counts.join(agg, how="left").reset_index()
    out["rated"] = out["rated"].fillna(0).astype(int)
    return out[cols]

"""The analysis assets' checks, computed from the frames the assets return (no Dagster here).

Each function returns ``{check name: CheckOutcome}``; the asset turns them into check results
with the severity its check spec declares. Same pattern as ``ingest.review_check_failures``.
"""

from __future__ import annotations

import pandas as pd

from ..aspects import ASPECTS
from ..checks import CheckOutcome
from .facts import FACT_COLUMNS, claim_problems, dish_vocabulary, facts_from_frame
from .prevalence import complaint_aspects, highlight_problems
from .schemas import LABELS
from .subratings import subrating_check
from .summarize import fact_counts, model_sentences
from .summary_review import contradictions, copies_review, number_problems


def _bad_quotes(mentions: pd.DataFrame, reviews: pd.DataFrame) -> pd.DataFrame:
    text_by = dict(zip(reviews["review_id"], reviews["text"].fillna("")))
    keep = [
        not (isinstance(q, str) and q and q in text_by.get(r, "")) or a not in ASPECTS
        for r, a, q in zip(mentions["review_id"], mentions["aspect"], mentions["quote"])
    ]
    return mentions[keep]


def mention_checks(mentions: pd.DataFrame, reviews: pd.DataFrame) -> dict[str, CheckOutcome]:
    bad = _bad_quotes(mentions, reviews)
    return {
        "quotes_are_substrings": CheckOutcome(
            bad.empty,
            {
                "bad_rows": len(bad),
                "rows": len(mentions),
                "examples": str(bad[["review_id", "aspect", "quote"]].head(5).values.tolist()),
            },
        )
    }


def extraction_checks(
    sentiments: pd.DataFrame,
    ratios: pd.DataFrame,
    restaurants: list[str],
    llm_polarities: pd.DataFrame,
    mentions: pd.DataFrame,
    agreement_threshold: float,
    model: str,
) -> dict[str, CheckOutcome]:
    s = sentiments
    bad_schema = s[~s["label"].isin(LABELS) | (s["confidence"].notna() & ~s["confidence"].between(0, 1))]
    sums = ratios[["positive_ratio", "negative_ratio", "neutral_ratio"]].sum(axis=1)
    off = ratios[(sums - 1).abs() > 1e-9]
    missing = sorted(set(restaurants) - set(ratios["restaurant_id"]))
    rated = s["agrees_with_rating"].dropna()
    agreement = float(rated.astype(bool).mean()) if len(rated) else None
    asked = set(zip(mentions["review_id"], mentions["aspect"]))
    stray = llm_polarities[
        [
            (r, a) not in asked or (p is not None and p not in LABELS)
            for r, a, p in zip(llm_polarities["review_id"], llm_polarities["aspect"], llm_polarities["llm_polarity"])
        ]
    ]
    return {
        "sentiments_match_schema": CheckOutcome(bad_schema.empty, {"bad_rows": len(bad_schema), "rows": len(s)}),
        "sentiment_ratios_sum_to_one": CheckOutcome(
            off.empty and not missing,
            {
                "restaurants": len(ratios),
                "off": str(off["restaurant_id"].tolist()[:10]),
                "without_sentiments": str(missing[:10]),
            },
        ),
        "sentiment_agrees_with_ratings": CheckOutcome(
            agreement is None or agreement >= agreement_threshold,
            {
                "agreement": agreement if agreement is not None else float("nan"),
                "threshold": agreement_threshold,
                "rated_reviews": len(rated),
                "model": model,
            },
        ),
        "llm_polarities_answer_the_mentions": CheckOutcome(
            stray.empty,
            {"bad_rows": len(stray), "rows": len(llm_polarities), "examples": str(stray.head(5).values.tolist())},
        ),
    }


def highlight_checks(
    hl: pd.DataFrame, mentions: pd.DataFrame, prevalence: pd.DataFrame, reviews: pd.DataFrame | None = None
) -> dict[str, CheckOutcome]:
    problems = highlight_problems(hl, mentions, prevalence)
    out = {"highlights_follow_counts": CheckOutcome(not problems, {"problems": str(problems[:10]), "items": len(hl)})}
    if reviews is not None:
        out["lexicon_agrees_with_subratings"] = subrating_check(reviews, mentions)
    return out


def summary_checks(
    summaries: pd.DataFrame,
    reviews: pd.DataFrame,
    prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    facts: pd.DataFrame | None = None,
) -> dict[str, CheckOutcome]:
    """``facts``: `summary_facts` (the claims check, and the reason / dish counts a summary may state)."""
    s = summaries
    checked = facts is not None  # without the fact sheet (a caller that has none) the claims are not re-checked
    facts = facts if facts is not None else pd.DataFrame(columns=FACT_COLUMNS)
    sheets = {rid: facts_from_frame(g) for rid, g in facts.groupby("restaurant_id")}
    ids_of = reviews.groupby("restaurant_id")["review_id"].apply(set).to_dict()
    ungrounded = [
        f"{r.restaurant_id}/{r.kind}"
        for r in s.itertuples()
        if not set(r.review_ids) <= ids_of.get(r.restaurant_id, set()) or (r.source == "llm" and not len(r.review_ids))
    ]
    overall = s[s["kind"] == "overall"]
    prev_of = {k: g for k, g in prevalence.groupby("restaurant_id")}
    empty = prevalence.iloc[0:0]
    complaints = complaint_aspects(strengths)
    wrong = {
        r.restaurant_id: found
        for r in overall.itertuples()
        if (
            found := contradictions(
                _written(r, sheets.get(r.restaurant_id, [])),
                prev_of.get(r.restaurant_id, empty),
                complaints.get(r.restaurant_id, set()),
            )
        )
    }
    counts = reviews.groupby("restaurant_id").size().to_dict()
    low = {
        restaurant_id: {int(v) for c in ("low_rated_reviews", "low_rated_with_aspect") for v in g[c].dropna()}
        for restaurant_id, g in strengths.groupby("restaurant_id")
    }
    for rid, sheet in sheets.items():
        low[rid] = low.get(rid, set()) | fact_counts(sheet)
    misplaced = {
        f"{r.restaurant_id}/{r.kind}": found
        for r in s.itertuples()
        if not _from_facts(r)  # a fact sheet's sentences: each figure checked against its fact (claims check)
        and (
            found := number_problems(
                r.text,
                prev_of.get(r.restaurant_id, empty),
                counts.get(r.restaurant_id, 0),
                low.get(r.restaurant_id, set()),
            )
        )
    }
    dup = overall[overall.duplicated("text", keep=False)]
    texts = reviews.groupby("restaurant_id")["text"].apply(lambda t: t.fillna("").tolist()).to_dict()
    copied = [r.restaurant_id for r in overall.itertuples() if copies_review(r.text, texts.get(r.restaurant_id, []))]
    unsupported = claims_unsupported(overall, sheets) if checked else {}
    return {
        "summaries_claims_supported": CheckOutcome(
            not unsupported,
            {"unsupported": dict(list(unsupported.items())[:10]), "summaries_with_llm_sentences": _with_llm(overall)},
        ),
        "summaries_grounded": CheckOutcome(not ungrounded, {"ungrounded": str(ungrounded[:10]), "summaries": len(s)}),
        "summaries_agree_with_counts": CheckOutcome(not wrong, {"contradictions": dict(list(wrong.items())[:10])}),
        "summaries_numbers_match_counts": CheckOutcome(
            not misplaced, {"misplaced_figures": dict(list(misplaced.items())[:10]), "summaries": len(s)}
        ),
        "summaries_distinct": CheckOutcome(
            dup.empty, {"restaurants_sharing_a_summary": str(sorted(dup["restaurant_id"])[:10])}
        ),
        "summaries_not_copied": CheckOutcome(not copied, {"copied": str(copied[:10])}),
    }


def _from_facts(r) -> bool:
    v = getattr(r, "sentence_sources", None)
    return v is not None and not isinstance(v, float) and len(v) > 0


def _written(r, sheet: list) -> str:
    """What the model wrote of a summary (:func:`.summarize.model_sentences`), or the whole text of a
    summary not made from a fact sheet: the sheet's template sentences are its facts, not claims."""
    if not _from_facts(r):
        return r.text
    return model_sentences(list(zip(list(r.fact_ids), list(r.sentences), list(r.sentence_sources))), sheet)


def _with_llm(overall: pd.DataFrame) -> int:
    if "sentence_sources" not in overall.columns:
        return 0
    return int(sum("llm" in list(v) for v in overall["sentence_sources"] if v is not None and not isinstance(v, float)))


def claims_unsupported(overall: pd.DataFrame, sheets: dict) -> dict[str, list[str]]:
    """Each stored LLM sentence checked again against its fact (:func:`.facts.claim_problems`): a
    sentence whose fact is gone, or that the check now rejects, is unsupported."""
    out: dict[str, list[str]] = {}
    if "sentences" not in overall.columns:
        return out
    for r in overall.itertuples():
        if r.sentences is None or isinstance(r.sentences, float):
            continue
        by_id = {f.fact_id: f for f in sheets.get(r.restaurant_id, [])}
        vocab = dish_vocabulary([f.item for f in by_id.values() if f.item])
        for fact_id, sentence, source in zip(list(r.fact_ids), list(r.sentences), list(r.sentence_sources)):
            if source != "llm":
                continue
            fact = by_id.get(fact_id)
            problems = ["its fact is not in summary_facts"] if fact is None else claim_problems(sentence, fact, vocab)
            if problems:
                out.setdefault(r.restaurant_id, []).append(f"{fact_id}: {'; '.join(problems)}")
    return out


def trend_checks(changes: pd.DataFrame) -> dict[str, CheckOutcome]:
    from .trends import emerging_complaints

    rising = emerging_complaints(changes)
    return {
        "emerging_complaint": CheckOutcome(
            rising.empty,
            {
                "emerging": [
                    f"{r.restaurant_id}/{r.aspect}: {r.previous_share:.0%} -> {r.recent_share:.0%} of reviews "
                    f"(+{r.change:.0%}, n {r.previous_reviews} -> {r.recent_reviews}, q {r.q_value:.3f})"
                    for r in rising.head(10).itertuples()
                ],
                "restaurants": int(changes["restaurant_id"].nunique()),
            },
        )
    }

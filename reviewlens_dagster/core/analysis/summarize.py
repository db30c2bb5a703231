"""Summaries written from the counts, not from raw reviews.

Per restaurant three rows:
- ``overall``: written by the LLM from the aspect table (strengths, weaknesses and mixed aspects
  with their counts, the estimated sentiment shares) and a few quotes: the representative quote
  of each strength and weakness, taken from the TOP-K context first (so a minority complaint can
  be quoted); the two most representative reviews (TOP-K ranks 1-2) when no aspect stands out. A
  whole review as context invites the model to copy it (seen with the `small` model), so it is
  not added otherwise. The text is then read back (:func:`summary_problems`): if it describes an
  aspect with the polarity opposite to the counts or an aspect nobody mentioned, leaves out every
  weakness, copies a quote or repeats itself, it is replaced by the template below
  (``source = template``, the reason in ``note``), never published as is.
- ``positive`` / ``negative``: deterministic text from the strengths / weaknesses with their
  prevalence, or an explicit "no clear weakness found in N reviews".
Cited review ids are the quotes' reviews.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..llm.types import LLMRequest
from .cache import LLMCache, cache_key
from .lexicon import detect, polarity_of_text
from .prompts import PROMPT_VERSION, language_of, summary_messages
from .runner import DEFAULT_CHUNK_SIZE, Job, JobsOutcome, Runner, run_jobs
from .schemas import MAX_SUMMARY_CHARS, summary_schema, summary_validator

SUMMARY_COLUMNS = [
    "restaurant_id",
    "kind",
    "text",
    "review_ids",
    "language",
    "source",
    "note",
    "model",
    "prompt_version",
    "cached",
]
MAX_TOKENS = 320  # 250 characters of Korean plus the JSON around them
#: without it the `small` model looped in 25 of 32 summaries (the same sentence until max_tokens);
#: with 1.1, 6 of 32 were still replaced by the template (sample data, 2026-11-26)
REPETITION_PENALTY = 1.1
MIN_COPY_CHARS = 20  # a summary containing a review this long, verbatim, copies it
MIN_QUOTE_COPY_CHARS = 12  # ... or one of the quotes it was given


@dataclass
class Brief:
    """What the summary of one restaurant may say: the facts and the quotes it may cite."""

    restaurant_id: str
    lang: str
    n_reviews: int
    facts: str
    quotes: list[tuple[str, str, str]]  # (quote id, review id, text)


def _items(rows: pd.DataFrame, pol: str, lang: str) -> str:
    key = "positive" if pol == "strength" else "negative"
    if lang == "ko":
        word = "긍정" if pol == "strength" else "부정"
        return ", ".join(f"{r.aspect} (언급 {r.decided}개 중 {getattr(r, key)}개 {word})" for r in rows.itertuples())
    return ", ".join(f"{r.aspect} ({getattr(r, key)} of {r.decided} mentions {key})" for r in rows.itertuples())


def facts_text(prev: pd.DataFrame, n_reviews: int, ratios: dict | None, lang: str) -> str:
    """The counts as a few plain lines: strengths, weaknesses and mixed aspects (aspects with too
    few mentions are left out: a summary has no room for them)."""
    rows = prev.sort_values("mentions", ascending=False)
    strengths, weaknesses = rows[rows["status"] == "strength"], rows[rows["status"] == "weakness"]
    mixed = rows[rows["status"] == "mixed"]["aspect"].tolist()
    if lang == "ko":
        lines = [f"리뷰 {n_reviews}개."]
        if ratios:
            lines.append(
                f"전체 평가 (리뷰 {ratios['n_sample']}개 표본으로 추정): 긍정 {ratios['positive_ratio']:.0%}, "
                f"부정 {ratios['negative_ratio']:.0%}, 보통 {ratios['neutral_ratio']:.0%}."
            )
        lines.append("장점: " + (_items(strengths, "strength", lang) or "없음"))
        lines.append("단점: " + (_items(weaknesses, "weakness", lang) or "없음"))
        if mixed:
            lines.append("평가가 엇갈리는 측면: " + ", ".join(mixed))
    else:
        lines = [f"{n_reviews} reviews."]
        if ratios:
            lines.append(
                f"Overall (estimated from a sample of {ratios['n_sample']}): positive "
                f"{ratios['positive_ratio']:.0%}, negative {ratios['negative_ratio']:.0%}, "
                f"neutral {ratios['neutral_ratio']:.0%}."
            )
        lines.append("Strengths: " + (_items(strengths, "strength", lang) or "none"))
        lines.append("Weaknesses: " + (_items(weaknesses, "weakness", lang) or "none"))
        if mixed:
            lines.append("Mixed opinions on: " + ", ".join(mixed))
    return "\n".join(lines)


def build_briefs(
    prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    top_k: pd.DataFrame,
    review_counts: dict[str, int],
    ratios: pd.DataFrame | None = None,
) -> dict[str, Brief]:
    ratio_by = {} if ratios is None or ratios.empty else ratios.set_index("restaurant_id").to_dict("index")
    out = {}
    for restaurant_id in sorted(review_counts):
        prev = prevalence[prevalence["restaurant_id"] == restaurant_id]
        hl = strengths[strengths["restaurant_id"] == restaurant_id]
        tk = top_k[top_k["restaurant_id"] == restaurant_id].sort_values("rank")
        quotes: list[tuple[str, str]] = [(ids[0], q) for ids, q in zip(hl["review_ids"], hl["quote"]) if len(ids)]
        if not quotes:  # nothing stands out: the most representative review gives the prose its context
            quotes = [(r, str(t)[:160]) for r, t in zip(tk["review_id"].head(2), tk["text"].head(2))]
        seen, unique = set(), []
        for review_id, text in quotes:
            if (review_id, text) not in seen and text:
                seen.add((review_id, text))
                unique.append((review_id, text))
        lang = language_of([t for _, t in unique] or tk["text"].fillna("").tolist())
        ratio = ratio_by.get(restaurant_id)
        out[restaurant_id] = Brief(
            restaurant_id,
            lang,
            int(review_counts[restaurant_id]),
            facts_text(
                prev,
                int(review_counts[restaurant_id]),
                {**ratio, "restaurant_id": restaurant_id} if ratio else None,
                lang,
            ),
            [(f"Q{i}", r, t) for i, (r, t) in enumerate(unique, start=1)],
        )
    return out


def template_parts(
    restaurant_id: str, strengths: pd.DataFrame, n_reviews: int, lang: str
) -> dict[str, tuple[str, list[str]]]:
    """kind -> (text, review ids) for the deterministic positive / negative / fallback overall text."""
    g = strengths[strengths["restaurant_id"] == restaurant_id]
    parts = {}
    for pol, kind in (("strength", "positive"), ("weakness", "negative")):
        items = g[g["polarity"] == pol]
        ids = [i for ids in items["review_ids"] for i in list(ids)[:2]]
        if items.empty:
            text = (
                f"리뷰 {n_reviews}개에서 뚜렷한 {'장점' if pol == 'strength' else '단점'}은 확인되지 않았습니다."
                if lang == "ko"
                else f"No clear {pol} found in {n_reviews} reviews."
            )
        else:
            label = (
                ("장점" if pol == "strength" else "단점")
                if lang == "ko"
                else ("Strengths" if pol == "strength" else "Weaknesses")
            )
            text = f"{label}: " + "; ".join(items["prevalence"]) + "."
        parts[kind] = (text[:MAX_SUMMARY_CHARS], ids)
    prefix = f"리뷰 {n_reviews}개 기준. " if lang == "ko" else f"Based on {n_reviews} reviews. "
    parts["overall"] = (
        (prefix + parts["positive"][0] + " " + parts["negative"][0])[:MAX_SUMMARY_CHARS],
        parts["positive"][1] + parts["negative"][1],
    )
    return parts


def contradictions(text: str, prevalence: pd.DataFrame) -> list[str]:
    """Aspects the text describes against the counts (praise of a weakness, complaint about a
    strength) or that no review of the restaurant mentions."""
    status = dict(zip(prevalence["aspect"], prevalence["status"]))
    problems = []
    for aspect, pol in polarity_of_text(text).items():
        if aspect not in status:
            problems.append(f"{aspect} is not mentioned in the reviews")
        elif pol == "positive" and status[aspect] == "weakness":
            problems.append(f"{aspect} is praised but counted as a weakness")
        elif pol == "negative" and status[aspect] == "strength":
            problems.append(f"{aspect} is criticised but counted as a strength")
    return problems


def copied_from(text: str, sources: list[str], min_chars: int = MIN_COPY_CHARS) -> list[str]:
    """The sources (reviews, quotes) of at least ``min_chars`` characters that ``text`` contains verbatim."""
    return [src for src in sources if len(src) >= min_chars and src in text]


def copies_review(text: str, reviews: list[str]) -> bool:
    return bool(copied_from(text, reviews))


def _sentences(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"(?<=[.!?。])\s+", text) if p.strip()]


def summary_problems(text: str, prevalence: pd.DataFrame, quotes: list[str]) -> list[str]:
    """Why an LLM-written overall summary cannot be published: it contradicts the counts, leaves
    out every weakness, copies a quote, or repeats itself."""
    problems = contradictions(text, prevalence)
    weaknesses = set(prevalence.loc[prevalence["status"] == "weakness", "aspect"])
    if weaknesses and not weaknesses & {m.aspect for m in detect(text)}:
        problems.append(f"leaves out the weaknesses {sorted(weaknesses)}")
    copied = copied_from(text, quotes, MIN_QUOTE_COPY_CHARS)
    if copied or text.strip() in quotes:
        problems.append(f"copies a quote: {(copied or [text])[0][:40]}")
    sentences = _sentences(text)
    if any(len(a) >= 15 and a in b for i, a in enumerate(sentences) for j, b in enumerate(sentences) if i != j):
        problems.append("repeats a sentence")
    return problems


@dataclass
class SummaryOutput:
    summaries: pd.DataFrame
    jobs: JobsOutcome
    replaced: dict[str, list[str]]  # restaurant -> reasons its LLM text was replaced


def write_summaries(
    briefs: dict[str, Brief],
    prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    runner: Runner,
    cache: LLMCache | None,
    model: str,
    prompt_version: str = PROMPT_VERSION,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    progress: Callable[[str], None] | None = None,
) -> SummaryOutput:
    jobs = []
    for restaurant_id, b in briefs.items():
        qids = [q for q, _, _ in b.quotes]
        if not qids:
            continue
        messages = summary_messages(b.facts, [(q, t) for q, _, t in b.quotes], b.lang)
        key = cache_key(
            "summary",
            model,
            prompt_version,
            [(b.facts, f"repetition_penalty={REPETITION_PENALTY}")] + [(r, t) for _, r, t in b.quotes],
        )
        jobs.append(
            Job(
                "summary",
                restaurant_id,
                key,
                LLMRequest(
                    request_id=f"summary:{restaurant_id}",
                    messages=messages,
                    json_schema=summary_schema(qids),
                    max_tokens=MAX_TOKENS,
                    repetition_penalty=REPETITION_PENALTY,
                    tags={"partition": restaurant_id, "asset": "summaries"},
                ),
                summary_validator(qids),
            )
        )
    outcome = run_jobs(jobs, runner, cache, model, prompt_version, chunk_size, progress)
    by_restaurant = {j.restaurant_id: outcome.parsed[j.request.request_id] for j in jobs}
    rows, replaced = [], {}
    for restaurant_id, b in briefs.items():
        prev = prevalence[prevalence["restaurant_id"] == restaurant_id]
        tmpl = template_parts(restaurant_id, strengths, b.n_reviews, b.lang)
        common = {"restaurant_id": restaurant_id, "language": b.lang, "model": model, "prompt_version": prompt_version}

        def row(kind: str, text: str, ids, source: str, note: str | None, cached: bool, common=common) -> dict:
            return {
                **common,
                "kind": kind,
                "text": text,
                "review_ids": list(dict.fromkeys(ids)),
                "source": source,
                "note": note,
                "cached": cached,
            }

        if restaurant_id in by_restaurant:
            obj, was_cached = by_restaurant[restaurant_id]
            qmap = {q: r for q, r, _ in b.quotes}
            problems = summary_problems(obj.text, prev, [t for _, _, t in b.quotes])
            if problems:
                replaced[restaurant_id] = problems
                note = "LLM summary replaced: " + "; ".join(problems)
                rows.append(row("overall", *tmpl["overall"], "template", note, was_cached))
            else:
                rows.append(row("overall", obj.text, (qmap[q] for q in obj.quote_ids), "llm", None, was_cached))
        else:
            rows.append(row("overall", *tmpl["overall"], "template", "nothing to quote", False))
        rows += [row(kind, *tmpl[kind], "counts", None, False) for kind in ("positive", "negative")]
    return SummaryOutput(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), outcome, replaced)

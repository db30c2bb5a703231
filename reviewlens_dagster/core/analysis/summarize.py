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
  prevalence; without a weakness the negative text gives the complaints (minority opinions, with
  their share of all reviews), else an explicit "no clear weakness found in N reviews".
Cited review ids are the quotes' reviews.

The LLM writes the overall summary only for restaurants it read (their `sentiments`); the others
get the counts template, ``source = template`` and a note saying why. Every figure a summary
states is checked (:func:`number_problems`): each number and percentage must be a figure of the
counts *of the aspect it is written next to* (or of the restaurant as a whole when no aspect is
named), so "맛은 994개의 리뷰에서 77%가 긍정" fails when 77 % is not taste's share. The brief
hands the model proportions in words with one percentage per aspect, not raw tallies to misplace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from ..config import DEFAULT_CHUNK_SIZE
from ..llm.types import LLMRequest
from .cache import LLMCache, cache_key
from .prevalence import complaint_aspects
from .prompts import PROMPT_VERSION, language_of, summary_messages
from .runner import Job, JobsOutcome, Runner, run_jobs
from .schemas import MAX_SUMMARY_CHARS, summary_schema, summary_validator
from .summary_review import summary_problems

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


@dataclass
class Brief:
    """What the summary of one restaurant may say: the facts and the quotes it may cite."""

    restaurant_id: str
    lang: str
    n_reviews: int
    facts: str
    quotes: list[tuple[str, str, str]]  # (quote id, review id, text)


#: proportion words handed to the model instead of raw tallies (share >= bound -> word)
PROPORTION_WORDS = {
    "ko": ((0.9, "거의 모두"), (0.7, "대부분"), (0.5, "절반 이상"), (0.2, "일부"), (0.0, "소수")),
    "en": ((0.9, "nearly all"), (0.7, "most"), (0.5, "more than half"), (0.2, "some"), (0.0, "a few")),
}


def proportion_word(share: float, lang: str) -> str:
    return next(word for bound, word in PROPORTION_WORDS[lang] if share >= bound)


def _items(rows: pd.DataFrame, pol: str, lang: str) -> str:
    """ "맛 (언급한 리뷰의 대부분이 긍정, 93%)": a word for the proportion and one percentage."""
    key = "positive" if pol == "strength" else "negative"
    out = []
    for r in rows.itertuples():
        share = getattr(r, key) / r.decided if r.decided else 0.0
        word = proportion_word(share, lang)
        if lang == "ko":
            out.append(f"{r.aspect} (언급한 리뷰의 {word}가 {'긍정' if key == 'positive' else '부정'}, {share:.0%})")
        else:
            out.append(f"{r.aspect} ({word} of the reviews that mention it are {key}, {share:.0%})")
    return ", ".join(out)


def _complaint_items(rows: pd.DataFrame, lang: str) -> str:
    """ "배달 (전체 리뷰의 3%)": a minority complaint's share of all reviews."""
    share = [r.negative / r.n_reviews if r.n_reviews else 0.0 for r in rows.itertuples()]
    if lang == "ko":
        return ", ".join(f"{r.aspect} (전체 리뷰의 {s:.0%})" for r, s in zip(rows.itertuples(), share))
    return ", ".join(f"{r.aspect} ({s:.0%} of all reviews)" for r, s in zip(rows.itertuples(), share))


def facts_text(
    prev: pd.DataFrame, n_reviews: int, ratios: dict | None, lang: str, complaints: pd.DataFrame | None = None
) -> str:
    """The counts as a few plain lines: strengths, weaknesses, minority complaints and mixed
    aspects (aspects with too few mentions are left out: a summary has no room for them). The
    overall tone is given in words: its percentages were the figures a model misplaced."""
    rows = prev.sort_values("mentions", ascending=False)
    strengths, weaknesses = rows[rows["status"] == "strength"], rows[rows["status"] == "weakness"]
    mixed = rows[rows["status"] == "mixed"]["aspect"].tolist()
    comp = rows[rows["aspect"].isin(set(complaints["aspect"]))] if complaints is not None else rows.iloc[0:0]
    tone = None
    if ratios:
        tone = max(("positive", "negative", "neutral"), key=lambda k: ratios[f"{k}_ratio"])
    if lang == "ko":
        lines = [f"리뷰 {n_reviews}개."]
        if tone:
            lines.append("전체 평가: 대체로 " + {"positive": "긍정", "negative": "부정", "neutral": "보통"}[tone] + ".")
        lines.append("장점: " + (_items(strengths, "strength", lang) or "없음"))
        lines.append("단점: " + (_items(weaknesses, "weakness", lang) or "없음"))
        if len(comp):
            lines.append("일부 손님의 불만: " + _complaint_items(comp, lang))
        if mixed:
            lines.append("평가가 엇갈리는 측면: " + ", ".join(mixed))
    else:
        lines = [f"{n_reviews} reviews."]
        if tone:
            lines.append(f"Overall: mostly {tone}.")
        lines.append("Strengths: " + (_items(strengths, "strength", lang) or "none"))
        lines.append("Weaknesses: " + (_items(weaknesses, "weakness", lang) or "none"))
        if len(comp):
            lines.append("Complaints of a minority: " + _complaint_items(comp, lang))
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
        main = hl[hl["polarity"] != "complaint"]
        quotes: list[tuple[str, str]] = [(ids[0], q) for ids, q in zip(main["review_ids"], main["quote"]) if len(ids)]
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
                hl[hl["polarity"] == "complaint"],
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
        complaints = g[g["polarity"] == "complaint"]
        ids = [i for ids in items["review_ids"] for i in list(ids)[:2]]
        if items.empty and pol == "weakness" and len(complaints):
            ids = [i for ids in complaints["review_ids"] for i in list(ids)[:2]]
            head = (
                "뚜렷한 단점은 없지만 일부 손님의 불만: "
                if lang == "ko"
                else "No clear weakness; complaints of a minority: "
            )
            text = head + "; ".join(complaints["prevalence"]) + "."
        elif items.empty:
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
        parts[kind] = (clip(text), ids)
    prefix = f"리뷰 {n_reviews}개 기준. " if lang == "ko" else f"Based on {n_reviews} reviews. "
    parts["overall"] = (
        clip(prefix + parts["positive"][0] + " " + parts["negative"][0]),
        parts["positive"][1] + parts["negative"][1],
    )
    return parts


def clip(text: str, limit: int = MAX_SUMMARY_CHARS) -> str:
    """``text`` cut to ``limit`` characters at the last item or sentence boundary (never inside a
    figure: a cut "1,852" would state a number of the counts that is not one)."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    cut = max(head.rfind("; "), head.rfind(". "))
    return (head[:cut] if cut > 0 else head.rsplit(" ", 1)[0]).rstrip(" ;.,") + "…"


def _summary_job(restaurant_id: str, b: Brief, model: str, prompt_version: str) -> Job:
    """The overall summary's request: the brief's facts and quotes, keyed on both."""
    qids = [q for q, _, _ in b.quotes]
    key = cache_key(
        "summary",
        model,
        prompt_version,
        [(b.facts, f"repetition_penalty={REPETITION_PENALTY}")] + [(r, t) for _, r, t in b.quotes],
    )
    request = LLMRequest(
        request_id=f"summary:{restaurant_id}",
        messages=summary_messages(b.facts, [(q, t) for q, _, t in b.quotes], b.lang),
        json_schema=summary_schema(qids),
        max_tokens=MAX_TOKENS,
        repetition_penalty=REPETITION_PENALTY,
        tags={"partition": restaurant_id, "asset": "summaries"},
    )
    return Job("summary", restaurant_id, key, request, summary_validator(qids))


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
    llm_restaurants: set[str] | None = None,
) -> SummaryOutput:
    """``llm_restaurants``: the restaurants the LLM read (None = all of ``briefs``); the others get
    the counts template with no LLM call."""
    jobs = [
        _summary_job(restaurant_id, b, model, prompt_version)
        for restaurant_id, b in briefs.items()
        if b.quotes and (llm_restaurants is None or restaurant_id in llm_restaurants)
    ]
    # a summary the model could not write in the schema (after the repair retry) falls back to the
    # counts template, as one that misstates the counts does; an unavailable server still fails
    outcome = run_jobs(jobs, runner, cache, model, prompt_version, chunk_size, progress, keep_failures=True)
    by_restaurant = {
        j.restaurant_id: outcome.parsed[j.request.request_id] for j in jobs if j.request.request_id in outcome.parsed
    }
    rows, replaced = [], {}
    complaints = complaint_aspects(strengths)
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
            own = complaints.get(restaurant_id, set())
            problems = summary_problems(obj.text, prev, [t for _, _, t in b.quotes], b.n_reviews, own)
            if problems:
                replaced[restaurant_id] = problems
                note = "LLM summary replaced: " + "; ".join(problems)
                rows.append(row("overall", *tmpl["overall"], "template", note, was_cached))
            else:
                rows.append(row("overall", obj.text, (qmap[q] for q in obj.quote_ids), "llm", None, was_cached))
        elif restaurant_id in outcome.failed:
            replaced[restaurant_id] = [outcome.failed[restaurant_id][:300]]
            note = "LLM summary failed: " + outcome.failed[restaurant_id][:300]
            rows.append(row("overall", *tmpl["overall"], "template", note, False))
        else:
            read = llm_restaurants is None or restaurant_id in llm_restaurants
            note = "nothing to quote" if read else "the LLM did not read this restaurant: counts (lexicon) only"
            rows.append(row("overall", *tmpl["overall"], "template", note, False))
        rows += [row(kind, *tmpl[kind], "counts", None, False) for kind in ("positive", "negative")]
    return SummaryOutput(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), outcome, replaced)


def summary_figures(out: SummaryOutput, llm_restaurants: set[str]) -> dict:
    """What the ``summaries`` output records about itself (``llm_restaurants``: those the LLM read)."""
    overall = out.summaries[out.summaries["kind"] == "overall"]
    return {
        "written_by_llm": int((overall["source"] == "llm").sum()),
        "counts_template": int((overall["source"] != "llm").sum()),
        "restaurants_read_by_llm": len(llm_restaurants),
        "replaced_by_template": len(out.replaced),
        "replaced": {k: v for k, v in list(out.replaced.items())[:20]},
    }

"""Summaries written from the counts, not from raw reviews.

Per restaurant three rows:
- ``overall``: where the LLM read the restaurant, the model *words* the restaurant's fact sheet
  (``facts.py``: the review count and rating, each strength / weakness / complaint with its
  prevalence and reasons, the dishes that trail or lead): one sentence per fact, tagged with the
  fact's id (ids constrained to the sheet by the schema), assembled in fact order. Every sentence
  is checked against its fact (:func:`.facts.claim_problems`: its aspect only, its figures only,
  its direction, no totality the share does not reach, no fame no quote states, no advice but the
  fact's reason, no first person, no invented dish); a failing sentence, and a fact the model left
  out, gets the fact's template sentence, and the note says which and why. The model's sentences are
  read back together too (:func:`assembled_problems`: an aspect described against the counts), and
  the whole text for a copied quote or a repeated sentence; if that fails the whole summary is the
  counts template (``source = template``, the reason in ``note``).
  ``fact_ids`` / ``sentences`` / ``sentence_sources`` keep the sentences with their facts, so the
  blocking check `summaries_claims_supported` re-runs the claim check on what was stored.
- ``positive`` / ``negative``: deterministic text from the strengths / weaknesses with their
  prevalence; without a weakness the negative text gives the complaints (minority opinions, with
  their share of all reviews), else an explicit "no clear weakness found in N reviews".
Restaurants the LLM did not read (and those with nothing to word but the review count) get the
counts template, ``source = template`` and a note saying why.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..config import DEFAULT_CHUNK_SIZE
from ..llm.types import LLMRequest
from .cache import LLMCache, cache_key
from .facts import Fact, checked_sentences, dish_vocabulary, fact_sheet, facts_frame, facts_from_frame, figures_in
from .prevalence import complaint_aspects
from .prompts import PROMPT_VERSION, language_of, restaurant_language, summary_messages
from .runner import Job, JobsOutcome, Runner, run_jobs
from .schemas import MAX_SUMMARY_CHARS, summary_schema, summary_validator
from .summary_review import MIN_QUOTE_COPY_CHARS, contradictions, copied_from

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
    "fact_ids",
    "sentences",
    "sentence_sources",
]
#: without it the `small` model looped in 25 of 32 summaries (the same sentence until max_tokens);
#: with 1.1, 6 of 32 were still replaced by the template (sample data, 2026-11-26)
REPETITION_PENALTY = 1.1


@dataclass
class Brief:
    """What the summary of one restaurant may say: its fact sheet (``facts.py``), the quotes it must
    not copy, the dish names a sentence is checked for."""

    restaurant_id: str
    lang: str
    n_reviews: int
    facts: list[Fact]
    quotes: list[tuple[str, str, str]]  # (quote id, review id, text)
    dishes: set[str] = field(default_factory=set)

    @property
    def sheet(self) -> str:
        return "\n".join(f"{f.fact_id}: {f.template}" for f in self.facts)


def build_briefs(
    prevalence: pd.DataFrame,
    strengths: pd.DataFrame,
    top_k: pd.DataFrame,
    review_counts: dict[str, int],
    ratios: pd.DataFrame | None = None,
    reasons: pd.DataFrame | None = None,
    dishes: pd.DataFrame | None = None,
    ratings: dict[str, float] | None = None,
    facts: pd.DataFrame | None = None,
) -> dict[str, Brief]:
    """Each restaurant's fact sheet and the quotes it must not copy. ``facts``: stored `summary_facts`
    (else the sheet is made here from ``strengths``, ``reasons``, ``dishes`` and ``ratings``).
    ``ratios`` is accepted for callers that have the label shares; the sheet states counts only."""
    reasons = reasons if reasons is not None else pd.DataFrame(columns=["restaurant_id"])
    dishes = dishes if dishes is not None else pd.DataFrame(columns=["restaurant_id", "item", "position"])
    stored = {rid: facts_from_frame(g) for rid, g in facts.groupby("restaurant_id")} if facts is not None else None
    out = {}
    for restaurant_id in sorted(review_counts):
        hl = strengths[strengths["restaurant_id"] == restaurant_id]
        tk = top_k[top_k["restaurant_id"] == restaurant_id].sort_values("rank")
        own_dishes = dishes[dishes["restaurant_id"] == restaurant_id]
        quotes = [(ids[0], q) for ids, q in zip(hl["review_ids"], hl["quote"]) if len(ids) and isinstance(q, str)]
        if not quotes:
            quotes = [(r, str(t)[:160]) for r, t in zip(tk["review_id"].head(2), tk["text"].head(2))]
        unique = list(dict.fromkeys((r, t) for r, t in quotes if t))
        lang = language_of([t for _, t in unique] or tk["text"].fillna("").tolist())
        n = int(review_counts[restaurant_id])
        out[restaurant_id] = Brief(
            restaurant_id,
            lang,
            n,
            stored.get(restaurant_id, [])
            if stored is not None
            else fact_sheet(
                restaurant_id,
                n,
                (ratings or {}).get(restaurant_id),
                hl,
                reasons[reasons["restaurant_id"] == restaurant_id],
                own_dishes,
                lang,
            ),
            [(f"Q{i}", r, t) for i, (r, t) in enumerate(unique, start=1)],
            dish_vocabulary([str(x) for x in own_dishes["item"]]),
        )
    return out


def restaurant_facts(
    reviews: pd.DataFrame,
    strengths: pd.DataFrame,
    reasons: pd.DataFrame,
    dishes: pd.DataFrame,
    comparisons: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """`summary_facts` of the restaurants of ``reviews``: each one's fact sheet, in its language."""
    frames = []
    for rid, own in reviews.groupby("restaurant_id", sort=True):
        rating = own["rating"].dropna()
        lang = restaurant_language(own["text"])
        sheet = fact_sheet(
            rid,
            len(own),
            float(rating.mean()) if len(rating) else None,
            strengths[strengths["restaurant_id"] == rid],
            reasons[reasons["restaurant_id"] == rid],
            dishes[dishes["restaurant_id"] == rid],
            lang,
            None if comparisons is None else comparisons[comparisons["restaurant_id"] == rid],
            None if changes is None else changes[changes["restaurant_id"] == rid],
        )
        frames.append(facts_frame(rid, sheet))
    return pd.concat(frames, ignore_index=True) if frames else facts_frame("", [])


def template_parts(
    restaurant_id: str, strengths: pd.DataFrame, n_reviews: int, lang: str, facts: list[Fact] | None = None
) -> dict[str, tuple[str, list[str]]]:
    """kind -> (text, review ids) for the deterministic positive / negative / fallback overall text.
    With the restaurant's ``facts`` each highlight is its fact's template sentence (its prevalence
    and its top reasons), and the overall text is the whole sheet's template sentences, in order."""
    g = strengths[strengths["restaurant_id"] == restaurant_id]
    worded = {(f.kind, f.aspect): f.template.rstrip(".") for f in facts or []}
    parts = {}
    for pol, kind in (("strength", "positive"), ("weakness", "negative")):
        items = g[g["polarity"] == pol]
        complaints = g[g["polarity"] == "complaint"]
        items = items.assign(prevalence=[worded.get((pol, a), p) for a, p in zip(items["aspect"], items["prevalence"])])
        complaints = complaints.assign(
            prevalence=[worded.get(("complaint", a), p) for a, p in zip(complaints["aspect"], complaints["prevalence"])]
        )
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
    if facts:
        parts["overall"] = (" ".join(f.template for f in facts), [i for f in facts for i in f.review_ids])
        return parts
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


#: facts the model words in one request (it must word each: the schema asks for one sentence per fact),
#: the sheet's first after the overall count (a count, nothing to word); the rest keep their template
#: sentence. Each fact costs output tokens: on a CPU (4-9 output tokens/s with `small`) three facts
#: cost about what the free-form summary did
MAX_WORDED_FACTS = 3
#: output budget per fact: one sentence of up to 160 characters with its JSON
TOKENS_PER_FACT = 80
#: the summary request's format, in its cache key (facts worded one by one since 2026-12-04)
SUMMARY_FORMAT = f"fact-sheet-v1; repetition_penalty={REPETITION_PENALTY}"


def _summary_job(restaurant_id: str, b: Brief, model: str, prompt_version: str) -> Job:
    """The overall summary's request: the fact sheet to word, keyed on it."""
    worded = [f for f in b.facts if f.kind != "overall"][:MAX_WORDED_FACTS]
    ids = [f.fact_id for f in worded]
    key = cache_key(
        "summary", model, prompt_version, [("format", SUMMARY_FORMAT)] + [(f.fact_id, f.template) for f in worded]
    )
    request = LLMRequest(
        request_id=f"summary:{restaurant_id}",
        messages=summary_messages([(f.fact_id, f.template, list(f.evidence)) for f in worded], b.lang),
        json_schema=summary_schema(ids),
        max_tokens=24 + TOKENS_PER_FACT * len(worded),
        repetition_penalty=REPETITION_PENALTY,
        tags={"partition": restaurant_id, "asset": "summaries"},
    )
    return Job("summary", restaurant_id, key, request, summary_validator(ids))


def model_sentences(sentences, facts: list[Fact]) -> str:
    """The model's kept sentences that are read back against the counts as a whole: those of aspect
    facts (a dish's sentence names the food's complaints whatever the aspect's status; its figures and
    direction were checked against its own fact)."""
    kind = {f.fact_id: f.kind for f in facts}
    return " ".join(
        t for fact_id, t, src in sentences if src == "llm" and not kind.get(fact_id, "").startswith("dish_")
    )


def assembled_problems(
    text: str, written: str, prevalence: pd.DataFrame, quotes: list[str], complaints: set[str]
) -> list[str]:
    """Why an assembled summary cannot be published: the model's sentences, read together, describe
    an aspect against the counts (each was checked against its own fact, figures included); the
    whole text copies a quote or repeats a sentence."""
    problems = contradictions(written, prevalence, complaints) if written else []
    copied = copied_from(text, quotes, MIN_QUOTE_COPY_CHARS)
    if copied:
        problems.append(f"copies a quote: {copied[0][:40]}")
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text) if len(p.strip()) >= 15]
    if len(parts) != len(set(parts)):
        problems.append("repeats a sentence")
    return problems


def fact_counts(facts: list[Fact]) -> set[int]:
    """The whole numbers the fact sheet states (reason counts, dish counts): figures a summary may repeat."""
    return {int(v) for f in facts for v, _ in figures_in(f.template) if v == int(v)}


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
        if any(f.kind != "overall" for f in b.facts) and (llm_restaurants is None or restaurant_id in llm_restaurants)
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
        tmpl = template_parts(restaurant_id, strengths, b.n_reviews, b.lang, b.facts)
        sheet = [(f.fact_id, f.template, "template") for f in b.facts]
        common = {"restaurant_id": restaurant_id, "language": b.lang, "model": model, "prompt_version": prompt_version}

        def row(
            kind: str, text: str, ids, source: str, note: str | None, cached: bool, sentences=(), common=common
        ) -> dict:
            return {
                **common,
                "kind": kind,
                "text": text,
                "review_ids": list(dict.fromkeys(ids)),
                "source": source,
                "note": note,
                "cached": cached,
                "fact_ids": [f for f, _, _ in sentences],
                "sentences": [t for _, t, _ in sentences],
                "sentence_sources": [src for _, _, src in sentences],
            }

        if restaurant_id in by_restaurant:
            obj, was_cached = by_restaurant[restaurant_id]
            own = complaints.get(restaurant_id, set())
            # every sentence against its fact; a failing one gives way to its fact's template sentence
            sentences, notes = checked_sentences(obj.pairs, b.facts, b.dishes)
            text = " ".join(t for _, t, _ in sentences)
            quotes = [t for _, _, t in b.quotes]
            # the template sentences are the sheet's own facts; what the model wrote is read back as a whole
            written = model_sentences(sentences, b.facts)
            problems = assembled_problems(text, written, prev, quotes, own)
            ids = [i for f in b.facts for i in f.review_ids]
            if notes:
                replaced[restaurant_id] = notes
            if problems:
                replaced[restaurant_id] = notes + problems
                note = "LLM summary replaced: " + "; ".join(problems)
                rows.append(row("overall", *tmpl["overall"], "template", note, was_cached, sheet))
            else:
                source = "llm" if any(src == "llm" for _, _, src in sentences) else "template"
                note = "; ".join(notes) or None
                rows.append(row("overall", text, ids, source, note, was_cached, sentences))
        elif restaurant_id in outcome.failed:
            replaced[restaurant_id] = [outcome.failed[restaurant_id][:300]]
            note = "LLM summary failed: " + outcome.failed[restaurant_id][:300]
            rows.append(row("overall", *tmpl["overall"], "template", note, False, sheet))
        else:
            read = llm_restaurants is None or restaurant_id in llm_restaurants
            note = (
                "nothing stands out to word" if read else "the LLM did not read this restaurant: counts (lexicon) only"
            )
            rows.append(row("overall", *tmpl["overall"], "template", note, False, sheet))
        rows += [row(kind, *tmpl[kind], "counts", None, False) for kind in ("positive", "negative")]
    return SummaryOutput(pd.DataFrame(rows, columns=SUMMARY_COLUMNS), outcome, replaced)


def summary_figures(out: SummaryOutput, llm_restaurants: set[str]) -> dict:
    """What the ``summaries`` output records about itself (``llm_restaurants``: those the LLM read)."""
    overall = out.summaries[out.summaries["kind"] == "overall"]
    sources = [src for v in overall["sentence_sources"] for src in list(v)]
    return {
        "llm_sentences_kept": sources.count("llm"),
        "fact_sentences": len(sources),
        "written_by_llm": int((overall["source"] == "llm").sum()),
        "counts_template": int((overall["source"] != "llm").sum()),
        "restaurants_read_by_llm": len(llm_restaurants),
        "replaced_by_template": len(out.replaced),
        "replaced": {k: v for k, v in list(out.replaced.items())[:20]},
    }

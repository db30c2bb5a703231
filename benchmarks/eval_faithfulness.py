"""The summary claim check (`core/analysis/facts.py: claim_problems`) on a faithfulness set made by code.

From the sample's facts (every restaurant, lexicon only: prevalence -> strengths -> reasons ->
dishes -> fact sheet): **right** sentences (each fact's template and two rewordings of it, as a model
rewords) and **mutated** ones of each kind a model was seen to write: another aspect, the polarity
swapped, a totality word, a fame claim, a wrong number, an invented dish, an invented complaint.
Reports per kind: caught / n; for right sentences: rejected / n (false rejections).

    python benchmarks/eval_faithfulness.py
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = (
    "another aspect",
    "swapped polarity",
    "totality word",
    "fame claim",
    "wrong number",
    "invented dish",
    "invented complaint",
    "names nothing",
)


def sample_facts(seed: int = 7, restaurants: int = 32):
    """(facts of every restaurant, dish vocabulary per restaurant) from the sample, lexicon only."""
    from reviewlens_dagster.core.analysis.dishes import dish_insights
    from reviewlens_dagster.core.analysis.extract import lexicon_mentions, resolve_polarities
    from reviewlens_dagster.core.analysis.facts import dish_vocabulary, facts_from_frame
    from reviewlens_dagster.core.analysis.prevalence import aspect_prevalence, highlights, low_rated_reviews
    from reviewlens_dagster.core.analysis.reasons import aspect_reasons
    from reviewlens_dagster.core.analysis.summarize import restaurant_facts
    from reviewlens_dagster.core.staging import scan_folder

    reviews = scan_folder(ROOT / "data" / "sample").reviews
    men = resolve_polarities(lexicon_mentions(reviews)[0])
    counts = reviews.groupby("restaurant_id").size().to_dict()
    prev = aspect_prevalence(men, counts)
    hl = highlights(prev, men, low_rated=low_rated_reviews(reviews))
    reasons, dishes = aspect_reasons(reviews, men), dish_insights(reviews, men)
    facts = restaurant_facts(reviews, hl, reasons, dishes)
    out = {}
    for rid, rows in facts.groupby("restaurant_id"):
        items = [str(x) for x in dishes.loc[dishes["restaurant_id"] == rid, "item"]]
        out[rid] = (facts_from_frame(rows), dish_vocabulary(items))
    return out


def rewordings(text: str) -> list[str]:
    """Two rewordings of a template sentence that keep its aspect, figures and direction."""
    a = (
        text.replace(": 언급한 리뷰 ", "에 대해 언급한 리뷰 ")
        .replace("개 긍정", "개가 좋게 평가했습니다")
        .replace("개 부정", "개가 불만이었습니다")
        .replace("이유: ", "주로 꼽힌 이유는 ")
        .replace(": mentioned", " was mentioned")
    )
    b = (
        re.sub(r"^([^:]+): ", r"\1 — ", text)
        .replace("개에서 불만", "개 리뷰에서 불만이 나왔고")
        .replace("Reasons: ", "mostly ")
    )
    return [a, b]


def mutate(text: str, fact, kind: str, r: random.Random, vocabulary: set[str]) -> str | None:
    from reviewlens_dagster.core.aspects import ASPECTS

    ko = any("가" <= ch <= "힣" for ch in text)
    others = [a for a in ASPECTS if a != fact.aspect and a not in text]
    if kind == "another aspect":
        if fact.aspect and fact.aspect in text:
            return text.replace(fact.aspect, r.choice(others), 1)
        return None
    if kind == "swapped polarity":
        swaps = [
            ("긍정", "부정"),
            ("부정", "긍정"),
            ("불만", "칭찬"),
            ("positive", "negative"),
            ("negative", "positive"),
        ]
        for old, new in swaps:
            if old in text:
                return text.replace(old, new)
        return None
    if kind == "totality word":
        return ("모든 리뷰에서 " + text) if ko else ("All reviews agree: " + text)
    if kind == "fame claim":
        return text.rstrip(".") + (". 이 집은 이걸로 유명합니다." if ko else ". The place is famous for it.")
    if kind == "wrong number":
        m = re.search(r"\d+", text)
        return text[: m.start()] + str(int(m.group(0)) + 7) + text[m.end() :] if m else None
    if kind == "invented dish":
        foreign = sorted(d for d in vocabulary if len(d) >= 2 and d not in text and d not in " ".join(fact.evidence))
        if not foreign:
            return None
        dish = r.choice(foreign)
        return text.rstrip(".") + (f". 특히 {dish} 이야기가 많습니다." if ko else f". Especially the {dish}.")
    if kind == "invented complaint":
        return text.rstrip(".") + (
            f". 다만 {r.choice(others)}에 대한 불만도 있습니다." if ko else ". Some complained about the parking."
        )
    if kind == "names nothing":  # the fact's figures and direction, its subject left out
        subject = fact.item if fact.kind.startswith("dish_") else fact.aspect
        if not subject or subject not in text:
            return None
        # its reasons go too: a reason may name the aspect itself ("웨이팅 없음", "맛이 변했다")
        bare = re.split(r"\s*(?:이유|Reasons): ", text.replace(subject, "", 1))[0]
        return re.sub(r"^\s*[:,]?\s*", "", bare).rstrip(".") + "."
    raise ValueError(kind)


def main() -> None:
    from reviewlens_dagster.core.analysis.facts import TOTALITY_SHARE, claim_problems
    from reviewlens_dagster.core.analysis.ko_lexicon import FOOD_TERMS

    t0 = time.perf_counter()
    sheets = sample_facts()
    r = random.Random(11)
    caught, n = Counter(), Counter()
    rejected_examples = []
    for _rid, (facts, vocabulary) in sorted(sheets.items()):
        for fact in facts:
            if fact.kind == "overall":
                continue
            for sentence in [fact.template, *rewordings(fact.template)]:
                n["right"] += 1
                problems = claim_problems(sentence, fact, vocabulary)
                if problems:
                    caught["right"] += 1
                    rejected_examples.append((sentence, problems))
            for kind in KINDS:
                if kind == "totality word" and fact.share is not None and fact.share >= TOTALITY_SHARE:
                    continue  # a share this high supports the word: not a mutation
                pool = vocabulary | set(FOOD_TERMS)
                wrong = mutate(fact.template, fact, kind, r, pool)
                if wrong is None:
                    continue
                n[kind] += 1
                caught[kind] += bool(claim_problems(wrong, fact, vocabulary))
    print(
        f"\n## Summary claims: faithfulness set from the sample's facts ({sum(len(f) for f, _ in sheets.values())} "
        f"facts of {len(sheets)} restaurants; {time.strftime('%Y-%m-%d %H:%M')}, {time.perf_counter() - t0:.1f} s)\n"
    )
    print("| sentences | caught (rejected) / n | share |")
    print("|---|---:|---:|")
    for kind in ("right", *KINDS):
        share = caught[kind] / n[kind] if n[kind] else float("nan")
        label = "right sentences (false rejections)" if kind == "right" else f"mutated: {kind}"
        print(f"| {label} | {caught[kind]} / {n[kind]} | {share:.3f} |")
    for sentence, problems in rejected_examples[:5]:
        print(f"- rejected right sentence: {sentence!r}: {'; '.join(problems)}")


if __name__ == "__main__":
    pd.set_option("display.width", 200)
    main()

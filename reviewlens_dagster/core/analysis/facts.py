"""What a summary may say: the restaurant's facts (`summary_facts`) and the check of every sentence
against the fact it words.

**The fact sheet** (:func:`fact_sheet`): ordered facts, each with an id (F1, F2, ...), a kind, its
aspect, the figures it may state, its reasons (where `aspect_reasons` has them), one or two evidence
quotes and a template sentence (Korean, or English for English restaurants):

- ``overall``: the review count and the mean rating;
- ``strength`` / ``weakness`` / ``complaint``: each highlight with its prevalence and its most
  given specific reasons ("배달: 언급한 리뷰 40개 중 36개 긍정 (90%). 이유: 빠르다 21, 따뜻하다 8");
- ``group_top`` / ``group_bottom``: an aspect in the top or bottom quarter of its comparison group
  (`comparisons`, the group's size and median);
- ``change_rose`` / ``change_fell``: a complaint share that rose or fell significantly
  (`aspect_changes`, both windows' n);
- ``dish_trails`` / ``dish_leads``: an item whose food complaints differ from the other items'
  (`dish_insights`, both n).

**The model words facts, it does not choose them**: where the LLM reads the restaurant it gets the
sheet and returns ``{fact_id, sentence}`` pairs, the ids constrained to the sheet by the schema; the
summary is assembled in fact order, one sentence per fact (a fact the model left out gets its
template sentence).

**Every sentence is checked against its fact** (:func:`claim_problems`, no LLM). A sentence may:

- name its fact's aspect (a dish's fact: its item), and only that aspect (other aspects, by the
  lexicon's vocabulary and synonyms, are claims of another fact), and only dishes its fact names;
- state only its fact's figures (a percentage within 1 point);
- judge in its fact's direction (no praise in a complaint, no complaint in a strength);
- use a totality word (모든, 전부, 항상, 다들, 하나같이, all, every, always, never, ...) only when the
  fact's share is at least :data:`TOTALITY_SHARE`;
- claim fame, rank or popularity (유명, 잘 알려진, 인기, 최고, 1위, famous, best, popular, ...) only
  when one of the fact's evidence quotes says so;
- give the owner advice only as the fact's own reason;
- not speak as a reviewer (first person: 저는, 제가, 우리, I, we).
A failing sentence is replaced by its fact's template sentence (not the whole summary); the
summary's note says which and why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

import pandas as pd

from ..aspects import ENGLISH_NAMES, aspect_name
from ..report import percent_text
from .ko_lexicon import ASPECT_TERMS, FOOD_TERMS
from .lexicon import detect
from .reasons import GENERIC, canonical_reason, predicates, reason_name, split_reason_label, top_reasons
from .summary_review import _aspects_named

#: a totality word is supported from this share on
TOTALITY_SHARE = 0.95
#: reasons a fact lists
FACT_REASONS = 3

FACT_COLUMNS = [
    "restaurant_id",
    "fact_id",
    "position",
    "kind",
    "aspect",
    "polarity",
    "share",
    "item",
    "figures",
    "reasons",
    "template",
    "evidence",
    "review_ids",
]

_POLARITY_OF_KIND = {
    "strength": "positive",
    "weakness": "negative",
    "complaint": "negative",
    "dish_trails": "negative",
    "dish_leads": "positive",
    "group_top": "positive",
    "group_bottom": "negative",
    "change_fell": "positive",
    "change_rose": "negative",
}
#: a position in the comparison group is a fact in its top or bottom quarter
GROUP_QUARTER = 0.25


@dataclass(frozen=True)
class Fact:
    fact_id: str
    kind: str
    template: str
    aspect: str | None = None
    polarity: str | None = None
    share: float | None = None
    item: str | None = None
    reasons: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    review_ids: tuple[str, ...] = ()
    figures: tuple[str, ...] = field(default=())


def _with_reasons(text: str, reasons: list[tuple[str, int]], lang: str) -> str:
    """The prevalence sentence, closed, with its reasons if any (the sheet's templates are joined)."""
    if not reasons:
        return f"{text.rstrip('.')}."
    listed = ", ".join(f"{r} {n}" for r, n in reasons)
    return f"{text.rstrip('.')}. " + (f"이유: {listed}." if lang == "ko" else f"Reasons: {listed}.")


def fact_sheet(
    restaurant_id: str,
    n_reviews: int,
    rating: float | None,
    strengths: pd.DataFrame,
    reasons: pd.DataFrame,
    dishes: pd.DataFrame,
    lang: str,
    comparisons: pd.DataFrame | None = None,
    changes: pd.DataFrame | None = None,
) -> list[Fact]:
    """The ordered facts of one restaurant (module docstring); each table holds its rows only."""
    facts: list[Fact] = []

    def add(kind: str, template: str, **kw) -> None:
        facts.append(Fact(f"F{len(facts) + 1}", kind, template, **kw))

    if lang == "ko":
        overall = f"리뷰 {n_reviews:,}개" + (f", 평균 별점 {rating:.1f}점입니다." if rating else "입니다.")
    else:
        overall = f"{n_reviews:,} reviews" + (f", average rating {rating:.1f} of 5." if rating else ".")
    add("overall", overall)
    for kind in ("strength", "weakness", "complaint"):
        for r in strengths[strengths["polarity"] == kind].itertuples():
            pol = _POLARITY_OF_KIND[kind]
            why = top_reasons(reasons, r.aspect, pol, FACT_REASONS, lang=lang) if len(reasons) else []
            share = float(r.share) if r.share == r.share else None
            add(
                kind,
                _with_reasons(str(r.prevalence), why, lang),
                aspect=r.aspect,
                polarity=pol,
                share=share,
                reasons=tuple(x for x, _ in why),
                evidence=tuple(q for q in [r.quote] if isinstance(q, str) and q),
                review_ids=tuple(list(r.review_ids)[:3]),
            )
    for kind, text, r in _group_and_change_facts(comparisons, changes, lang):
        add(kind, text, aspect=r.aspect, polarity=_POLARITY_OF_KIND[kind], share=None)
    for r in dishes[dishes["position"].isin(["trails", "leads"])].itertuples() if len(dishes) else []:
        kind = "dish_trails" if r.position == "trails" else "dish_leads"
        if lang == "ko":
            text = (
                f"{r.item}: 맛·양 불만 {percent_text(r.complaint_share)} (리뷰 {r.reviews}개), "
                f"다른 메뉴 {percent_text(r.others_complaint_share)} (리뷰 {r.others_reviews}개)."
            )
        else:
            text = (
                f"{r.item}: food complaints in {percent_text(r.complaint_share)} of its {r.reviews} reviews, "
                f"the other items {percent_text(r.others_complaint_share)} of {r.others_reviews}."
            )
        add(
            kind,
            text,
            aspect="맛",
            polarity=_POLARITY_OF_KIND[kind],
            share=float(r.complaint_share),
            item=str(r.item),
            reasons=tuple(reason_name(split_reason_label(x)[1], lang) for x in list(r.top_reasons)),
            review_ids=tuple(list(r.review_ids)[:3]),
        )
    return [_with_figures(f) for f in facts]


def _group_and_change_facts(comparisons: pd.DataFrame | None, changes: pd.DataFrame | None, lang: str) -> list:
    """(kind, template, row): the aspects in the top or bottom quarter of their comparison group
    (group size shown), and the complaint shares that rose or fell significantly (both windows' n)."""
    out = []
    if comparisons is not None and len(comparisons) and "percentile" in comparisons.columns:
        for r in comparisons[comparisons["percentile"].notna()].itertuples():
            if GROUP_QUARTER < r.percentile < 1 - GROUP_QUARTER:
                continue
            kind = "group_top" if r.percentile >= 1 - GROUP_QUARTER else "group_bottom"
            name = aspect_name(r.aspect, lang)
            if lang == "ko":
                where = "상위" if kind == "group_top" else "하위"
                text = (
                    f"{name}: 긍정 비율 {percent_text(r.positive_share)}, 비교 그룹(가게 {r.group_size}곳) 중앙값 "
                    f"{percent_text(r.group_median)}, 그룹 내 {where} 25%."
                )
            else:
                where = "top" if kind == "group_top" else "bottom"
                text = (
                    f"{name}: {percent_text(r.positive_share)} positive, comparison group of {r.group_size} "
                    f"restaurants median {percent_text(r.group_median)}, in the group's {where} quarter."
                )
            out.append((kind, text, r))
    if changes is not None and len(changes) and "status" in changes.columns:
        for r in changes[changes["status"].isin(["rose", "fell"])].itertuples():
            kind = "change_rose" if r.status == "rose" else "change_fell"
            name = aspect_name(r.aspect, lang)
            if lang == "ko":
                verb = "늘었습니다" if r.status == "rose" else "줄었습니다"
                text = (
                    f"{name} 불만 비율이 {percent_text(r.previous_share)}(리뷰 {r.previous_reviews}개)에서 "
                    f"{percent_text(r.recent_share)}(최근 리뷰 {r.recent_reviews}개)로 {verb}."
                )
            else:
                verb = "rose" if r.status == "rose" else "fell"
                text = (
                    f"Complaints about {name} {verb} from {percent_text(r.previous_share)} of {r.previous_reviews} "
                    f"reviews to {percent_text(r.recent_share)} of the recent {r.recent_reviews}."
                )
            out.append((kind, text, r))
    return out


def _with_figures(f: Fact) -> Fact:
    return replace(f, figures=tuple(m.group(0) for m in _NUMBER.finditer(f.template)))


def facts_frame(restaurant_id: str, facts: list[Fact]) -> pd.DataFrame:
    """`summary_facts` rows of one restaurant."""
    rows = [
        {
            "restaurant_id": restaurant_id,
            "fact_id": f.fact_id,
            "position": i,
            "kind": f.kind,
            "aspect": f.aspect,
            "polarity": f.polarity,
            "share": f.share,
            "item": f.item,
            "figures": list(f.figures),
            "reasons": list(f.reasons),
            "template": f.template,
            "evidence": list(f.evidence),
            "review_ids": list(f.review_ids),
        }
        for i, f in enumerate(facts)
    ]
    return pd.DataFrame(rows, columns=FACT_COLUMNS).astype({"position": "int64", "share": "float64"})


def facts_from_frame(rows: pd.DataFrame) -> list[Fact]:
    """The facts of stored `summary_facts` rows (one restaurant), in order."""
    out = []
    for r in rows.sort_values("position").itertuples():
        out.append(
            Fact(
                r.fact_id,
                r.kind,
                r.template,
                aspect=r.aspect if isinstance(r.aspect, str) else None,
                polarity=r.polarity if isinstance(r.polarity, str) else None,
                share=None if pd.isna(r.share) else float(r.share),
                item=r.item if isinstance(r.item, str) else None,
                reasons=tuple(_listed(r.reasons)),
                evidence=tuple(_listed(r.evidence)),
                review_ids=tuple(_listed(r.review_ids)),
                figures=tuple(_listed(r.figures)),
            )
        )
    return out


def _listed(v) -> list[str]:
    return [str(x) for x in v] if v is not None and not isinstance(v, float | str) else []


# ---------------------------------------------------------------------------------------- checks
_NUMBER = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})+(?:\.\d+)?|(?<![\w.])\d+(?:\.\d+)?")
TOTALITY = re.compile(
    r"(?<!거의 )(?<!거의)(모든|모두|전부|항상|(?<![가-힣])늘(?![가-힣])|언제나|다들|하나같이|누구나|예외\s*없이|100\s*%)|"
    r"\b(all|every|everyone|everybody|always|never|unanimous(?:ly)?|without exception)\b",
    re.IGNORECASE,
)
FAME = re.compile(
    r"유명|잘\s*알려진|알려져|인기|최고의?\s*(?:맛집|가게|식당)|1위|일등|손꼽히|명소|소문난|입소문|"
    r"\b(famous|well[- ]known|renowned|popular|best in|the best|#1|number one|top[- ]rated|legendary)\b",
    re.IGNORECASE,
)
FIRST_PERSON = re.compile(r"(?<![가-힣])(저는|제가|저희|우리|나는|내가)|\b(I|[Ww]e|[Mm]y|[Oo]ur|[Mm]e|[Uu]s)\b")
ADVICE = re.compile(
    r"개선|보완|필요합니다|필요해|해야|하셔야|하면 좋|하시면 좋|권장|추천드|신경 쓰|"
    r"\b(should|must|need to|needs to|recommend(?:ed)? that|improve|consider)\b",
    re.IGNORECASE,
)
_POSITIVE = re.compile(r"긍정|칭찬|좋게|좋은 평|호평|만족|praise|positive|liked|love", re.IGNORECASE)
_NEGATIVE = re.compile(r"부정|불만|나쁘게|혹평|아쉬|불평|complain|negative|disliked|criticis", re.IGNORECASE)
#: besides each aspect's English name (``aspects.ENGLISH_NAMES``), what a model writes for it
_EN_SYNONYMS = {
    "맛": "food",
    "양": "quantity",
    "가격": "value",
    "서비스": "staff",
    "청결": "hygiene",
    "분위기": "ambience",
}


def _aspects_in(sentence: str, mentions=None) -> set[str]:
    """Aspects a sentence names (:func:`.summary_review._aspects_named`), and what a model writes for
    an aspect besides its name (:data:`_EN_SYNONYMS`: "the food", "the staff")."""
    named = set(_aspects_named(sentence, mentions))
    named |= {a for a, w in _EN_SYNONYMS.items() if re.search(rf"\b{w}\b", sentence, re.IGNORECASE)}
    if re.search(r"\bwait\b", sentence, re.IGNORECASE):
        named.add("대기시간")
    return named


def names_aspect(sentence: str, aspect: str) -> bool:
    """Whether ``sentence`` says in words what it is about: the aspect's name (Korean or English), a
    word a model writes for it, one of the lexicon's nouns of it (배달: 라이더, 포장; taste: a dish).
    A reason alone ("싸다 18") is a reading of the aspect, not its name."""
    words = [aspect, ENGLISH_NAMES.get(aspect, aspect), _EN_SYNONYMS.get(aspect, aspect)]
    words += [t for t, a in ASPECT_TERMS.items() if a == aspect and len(t) >= 2]
    words += sorted(FOOD_TERMS) if aspect == "맛" else []
    english = [w for w in words if w.isascii()]
    return any(w in sentence for w in words if not w.isascii()) or any(
        re.search(rf"\b{re.escape(w)}\b", sentence, re.IGNORECASE) for w in english
    )


#: a model may round a share: 92.6 % written 92 % or 93 %
PERCENT_TOLERANCE = 1.0
_PERCENT_AFTER = re.compile(r"\s*(%|퍼센트|percent)")


def figures_in(text: str) -> list[tuple[float, bool]]:
    """(value, is a percentage) of every number in ``text``."""
    return [
        (float(m.group(0).replace(",", "")), bool(_PERCENT_AFTER.match(text, m.end()))) for m in _NUMBER.finditer(text)
    ]


def claim_problems(sentence: str, fact: Fact, dishes: set[str] = frozenset()) -> list[str]:
    """Why ``sentence`` is not supported by ``fact`` (module docstring); empty when it is.
    ``dishes``: the restaurant's item names and the lexicon's dish words (a dish the fact does not
    name is an invented one)."""
    problems = []
    # a dish's, a group position's and a change's facts compare shares: their words name both sides
    dish = fact.kind.startswith(("dish_", "group_", "change_"))
    allowed_aspects = _aspects_in(fact.template) | ({fact.aspect} if fact.aspect else set())
    if fact.kind.startswith("dish_"):
        allowed_aspects |= {"맛", "양"}
    mentions = detect(sentence, learned=False)  # the lexicon's reading of the sentence, once for every rule below
    named = _aspects_in(sentence, mentions)
    other = sorted(named - allowed_aspects)
    if other:
        problems.append(f"names {', '.join(other)}, which fact {fact.fact_id} is not about")
    # a sentence must say what its fact is about: a share must say what it is a share of ("90% were
    # positive" of nothing is no claim a reader can place); a sentence with no figure may name its aspect
    # by the words that judge it ("간이 너무 짜요" is the taste: the reading finds the fact's aspect in it)
    stated = bool(figures_in(sentence))
    if fact.kind.startswith("dish_") and fact.item and fact.item not in sentence:
        problems.append(f"does not name {fact.item}, the dish of fact {fact.fact_id}")
    elif (
        not fact.kind.startswith("dish_")
        and fact.aspect
        and not names_aspect(sentence, fact.aspect)
        and (stated or fact.aspect not in named)
    ):
        problems.append(
            f"does not name {aspect_name(fact.aspect, 'en')} ({fact.aspect}), the aspect of fact {fact.fact_id}"
            + (", whose figures it states" if stated else "")
        )
    own = figures_in(fact.template)
    for value, percent in figures_in(sentence):
        shares = [v for v, p in own if p]
        if not (
            (percent and any(abs(value - v) <= PERCENT_TOLERANCE for v in shares))
            or (not percent and any(value == v for v, _ in own))
        ):
            problems.append(f"states {value:g}{'%' if percent else ''}, not a figure of fact {fact.fact_id}")
    if fact.polarity == "positive" and not dish and _NEGATIVE.search(sentence):
        problems.append("complains in a fact of praise")
    elif (
        fact.polarity == "negative"
        and not fact.kind.startswith(("group_", "change_"))  # "긍정 비율 42%, 그룹 하위": a share, not praise
        and _POSITIVE.search(sentence)
        and not _NEGATIVE.search(sentence)
    ):
        problems.append("praises in a fact of complaint")
    if fact.aspect and fact.polarity:
        read = {m.aspect: m.polarity for m in mentions if m.polarity in ("positive", "negative")}
        if read.get(fact.aspect) not in (None, fact.polarity) and not dish:
            problems.append(f"reads as {read[fact.aspect]} about {fact.aspect}, the fact is {fact.polarity}")
    # a reason the sentence gives must be one the counts give ("배달이 정확해요": no count says accurate)
    given = {canonical_reason(r) for r in [*fact.reasons, *_template_reasons(fact), *predicates(fact.template)]}
    claimed = {canonical_reason(r) for m in mentions if m.aspect == fact.aspect for r in m.reasons}
    claimed |= {canonical_reason(r) for r in predicates(sentence)}
    unsupported = sorted(claimed - given - GENERIC - PLAIN_PREDICATES)
    if unsupported and fact.kind in ("strength", "weakness", "complaint"):
        problems.append(f"gives the reason {', '.join(unsupported)}, which the counts of fact {fact.fact_id} do not")
    totality = TOTALITY.search(sentence)
    if totality and (fact.share is None or fact.share < TOTALITY_SHARE) and fact.kind != "overall":
        problems.append(f"'{totality.group(0)}' claims a totality the share ({percent_text(fact.share)}) does not")
    fame = FAME.search(sentence)
    if fame and not any(FAME.search(q) for q in fact.evidence):
        problems.append(f"'{fame.group(0)}' claims fame or rank no evidence quote states")
    person = FIRST_PERSON.search(sentence)
    if person:
        problems.append(f"speaks as a reviewer ('{person.group(0)}')")
    advice = ADVICE.search(sentence)
    if advice and not any(_stem(r) in sentence for r in fact.reasons):
        problems.append(f"gives advice ('{advice.group(0)}') that is not the fact's reason")
    named_dishes = {d for d in dishes if d and d in sentence}
    allowed_dishes = {fact.item} if fact.item else set()
    allowed_dishes |= {d for d in named_dishes if d in fact.template or any(d in q for q in fact.evidence)}
    invented = sorted(named_dishes - allowed_dishes)
    if invented:
        problems.append(f"names {', '.join(invented)}, a dish fact {fact.fact_id} does not")
    return problems


#: predicates that state amounts or existence, not a reason ("불만이 많았습니다", "평이 있습니다")
PLAIN_PREDICATES = frozenset({"많다", "있다", "없다", "같다", "좋다", "나쁘다", "높다", "낮다", "다양하다", "이다"})


def _template_reasons(fact: Fact) -> list[str]:
    """The reasons the fact's own template sentence reads as (its wording is supported by definition)."""
    return [r for m in detect(fact.template, learned=False) if m.aspect == fact.aspect for r in m.reasons]


def _stem(reason: str) -> str:
    """The part of a reason a sentence would repeat: 늦다 -> 늦, 불친절하다 -> 불친절, 50분 이상 -> 50분."""
    r = reason.removeprefix("안 ").split(" ")[0]
    for suffix in ("하다", "다"):
        if r.endswith(suffix) and len(r) > len(suffix):
            return r[: -len(suffix)]
    return r


def dish_vocabulary(items: list[str]) -> set[str]:
    """The dish names a sentence is checked for: the restaurant's items and the lexicon's dish words."""
    return set(items) | set(FOOD_TERMS)


def checked_sentences(
    pairs: list[tuple[str, str]], facts: list[Fact], dishes: set[str] = frozenset()
) -> tuple[list[tuple[str, str, str]], list[str]]:
    """The summary's sentences in fact order: (fact id, sentence, source) per fact, ``llm`` where the
    model's sentence holds, ``template`` where it failed or was not written; and the notes saying
    which sentence was replaced and why. ``pairs``: the model's (fact id, sentence)."""
    by_fact: dict[str, str] = {}
    for fact_id, sentence in pairs:
        sentence = " ".join(str(sentence).split())
        if sentence and sentence[-1] not in ".!?":
            sentence += "."  # sentences are joined: each ends as one
        if fact_id not in by_fact and sentence:
            by_fact[fact_id] = sentence
    out, notes = [], []
    for f in facts:
        written = by_fact.get(f.fact_id)
        if written is None:
            out.append((f.fact_id, f.template, "template"))
            continue
        problems = claim_problems(written, f, dishes)
        if problems:
            notes.append(f"{f.fact_id} replaced by its template: " + "; ".join(problems))
            out.append((f.fact_id, f.template, "template"))
        else:
            out.append((f.fact_id, written, "llm"))
    return out, notes

"""Aspect detection with a restaurant-review lexicon: Korean through a morphological analysis
(``morph.py``: lemmas, clause boundaries, negation and contrast from Kiwi), English (and any text
that is not mostly Hangul) through the surface patterns below.

Why a lexicon: a small LLM asked to *list* the aspects of a review returns nothing or invents
aspects (see issue 10: 65 % detection, over-detection of portion / service / atmosphere). A
lexicon is precise, free, and can run over every review of a restaurant, so aspect prevalence is
counted over the whole restaurant, not guessed from a few reviews. The LLM decides what the
lexicon cannot (see ``extract.py``).

How an English review is read (Korean: see ``morph.py``):
1. it is cut into clauses at sentence punctuation, commas, laughter/crying runs (ㅋㅋ, ㅠㅠ),
   emoji and contrastive endings (…지만, …는데), so "맛은 좋은데 양이 적어요" gives two clauses;
2. in each clause, *terms* are matched longest-first: a term names an aspect (가격, 사장님),
   carries a polarity (최고, 별로), or both (불친절 = service, negative);
3. a polarity cue belongs to the nearest aspect mention before it in the clause (Korean puts the
   predicate after its subject: "양도 많고 가격도 착해요"), else to the nearest one after it
   ("친절한 사장님"); a cue right after "안"/"못" or followed by "-지 않" is negated;
4. an aspect's polarity in the clause is the sign of its cues' sum; no cue or cues that cancel
   leave it *undecided* (None), to be decided by the LLM; "보통", "무난" and the like make it
   neutral. Waiting time mentioned together with delivery counts as delivery.

The quote of a mention is its clause, copied from the review (a substring by construction).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ..aspects import ASPECTS
from .morph import analyse_many, korean_spans
from .prompts import language_of

_H = "가-힣"  # Hangul syllables
_NB = f"(?<![{_H}])"  # not preceded by a Hangul syllable (start of a word)

# (regex, aspect or None, polarity: int, or a dict aspect -> polarity with key None as default)
_TERMS: list[tuple[str, str | None, object]] = [
    # ---- taste
    (r"맛없|맛이\s*없|노맛", "맛", -1),
    (r"맛있|맛나|존맛|꿀맛|JMT|jmt|맛집", "맛", +1),
    (r"맛(?!집)", "맛", 0),
    (_NB + r"간(?=[이은도을]\s)", "맛", 0),
    (r"국물|양념|소스|식감|육수|풍미|잡내|누린내", "맛", 0),
    (r"싱겁|싱거|느끼|비리|비린|질기|질겨|질긴|눅눅|퍽퍽|텁텁|밍밍|(?<![진가공])짜(?=[요고서다네게])|짰", "맛", -1),
    (r"담백|고소|쫄깃|바삭|육즙|감칠|촉촉|얼큰|칼칼|진하|진해|진한", "맛", +1),
    (r"\bdelicious\b|\btasty\b|\byummy\b|\bflavorful\b|\bfresh\b|\bjuicy\b|\btender\b|\bcrispy\b", "맛", +1),
    (
        r"\bbland\b|\bsalty\b|\btasteless\b|\bsoggy\b|\bgreasy\b|\bovercooked\b|\bundercooked\b|\bstale\b|"
        r"\bburnt\b|\bdry\b|\binedible\b",
        "맛",
        -1,
    ),
    (
        r"\bfood\b|\btaste\b|\bflavou?rs?\b|\bdish(es)?\b|\bmeals?\b|\bentrees?\b|\bappetizers?\b|\bdesserts?\b|"
        r"\bpizza\b|\bpasta\b|\bsushi\b|\bsteak\b|\bburgers?\b|\bchicken\b|\bfish\b|\bsalad\b|\bsoup\b|"
        r"\bbread\b|\bcuisine\b|\bbrunch\b|\bdinner\b|\blunch\b|\bbreakfast\b|\bwine\b|\bdrinks?\b|\bcocktails?\b",
        "맛",
        0,
    ),
    # ---- portion
    (r"푸짐|넉넉|배\s*터지|배부르|배불러|양이\s*많|양도\s*많|양\s*많", "양", +1),
    (r"양이\s*적|양도\s*적|양\s*적|양이\s*작", "양", -1),
    (_NB + r"양(?=[이은도을만에]|\s|$)|곱빼기|\bportions?\b", "양", 0),
    (r"\bhuge portions?\b|\bgenerous\b", "양", +1),
    (r"\btiny\b", "양", -1),
    # ---- price
    (r"비싸|비싼|비쌈|비쌌|창렬|돈\s*아깝|돈이\s*아깝|돈\s*아까", "가격", -1),
    (r"저렴|혜자|(?<![비])싸(?=[요고서다네])|싼\s*편", "가격", +1),
    (r"가격|가성비|" + _NB + r"값(?=[이은도을]|\s|$)|\bprice\b|\bvalue\b|\bcheap\b", "가격", 0),
    (r"\bexpensive\b|\boverpriced\b|\bpricey\b|\bripoff\b|\brip-off\b", "가격", -1),
    (r"\baffordable\b|\breasonabl[ey]\b|\binexpensive\b|\bbargain\b|\bfair\b", "가격", +1),
    (r"\bprices\b|\bpriced\b|\bbill\b|\bcheck\b|\bcost\b", "가격", 0),
    # ---- service
    (
        r"불친절|퉁명|무뚝뚝|무성의|싸가지|불쾌|\brude\b|\binattentive\b|\bunfriendly\b|\bignored\b|\barrogant\b",
        "서비스",
        -1,
    ),
    (
        r"친절|상냥|서비스로|\bfriendly\b|\battentive\b|\bhelpful\b|\bcourteous\b|\bwelcoming\b|\bprofessional\b",
        "서비스",
        +1,
    ),
    (
        r"서비스|직원|사장님|사장|알바|점원|종업원|응대|매니저|\bstaff\b|\bservice\b|\bwait(er|ress|staff)s?\b|\bservers?\b|"
        r"\bmanager\b|\bhost(ess)?\b|\bbartenders?\b|\bowner\b|\bchef\b",
        "서비스",
        0,
    ),
    # ---- cleanliness
    (r"깨끗|청결하|청결해|청결한|\bclean\b", "청결", +1),
    (r"더럽|더러|지저분|끈적|머리카락|벌레|\bdirty\b", "청결", -1),
    (r"청결|위생|화장실", "청결", 0),
    # ---- atmosphere
    (r"시끄럽|시끄러|시끌|어수선|답답|\bnoisy\b|\bloud\b", "분위기", -1),
    (r"아늑|조용|데이트|\bcozy\b|\blovely atmosphere\b|\bromantic\b|\bcharming\b|\bquiet\b", "분위기", +1),
    (r"\bcramped\b|\bcrowded\b|\bdark\b", "분위기", -1),
    (
        r"분위기|인테리어|" + _NB + r"뷰(?=[가는도]|\s)|음악|\batmosphere\b|\binterior\b|\bambi[ae]nce\b|\bdecor\b|"
        r"\bmusic\b|\bplace\b|\broom\b|\bspace\b|\bseating\b|\btables?\b|\bbar\b|\bvibe\b|\bsetting\b|\bview\b",
        "분위기",
        0,
    ),
    # ---- delivery
    (r"배달|포장|배송|라이더|기사님|\bdelivery\b|\btakeout\b", "배달", 0),
    # ---- waiting time
    (
        r"(웨이팅|대기|기다림|줄)\s*(이|은|도)?\s*없|바로\s*(들어|입장)|금방\s*나|빨리\s*나|\d+\s*분\s*만에|\bno wait",
        "대기시간",
        +1,
    ),
    (
        r"오래\s*걸|한참|늦게\s*나|(\d+|한|두)\s*(분|시간)\s*(넘게|이상|가까이)?\s*걸|\bwaited\b|\btook forever\b",
        "대기시간",
        -1,
    ),
    (r"웨이팅|대기|기다|줄이|줄을|줄\s*서|회전|\bwait", "대기시간", 0),
    # ---- parking
    (r"주차(할|\s*할)?\s*(곳|자리|공간)[이가은도]?\s*없|주차\s*(가|는|도)?\s*(너무\s*)?(불편|어렵|힘들)", "주차", -1),
    (r"주차|발렛|\bparking\b", "주차", 0),
    # ---- polarity only (generic)
    (
        r"나쁘지\s*않|나쁘진\s*않|나쁘지는\s*않|보통|평범|무난|그럭저럭|쏘쏘|그냥\s*그|비슷|\baverage\b|\bokay\b",
        None,
        "neutral",
    ),
    (
        r"좋|최고|훌륭|만족|굿|짱|추천|대박|괜찮|편하|편해|편리|감동|완벽|예술|인정|강추|따뜻|꼼꼼|깔끔|신선|착하|착해|착한|"
        r"넓|예쁘|이쁘|부드럽|부드러|빠르|빨라|빨리|금방|\bgreat\b|\bgood\b|\blove[ds]?\b|\bbest\b|\bfast\b|\beasy\b|"
        r"\bexcellent\b|\bamazing\b|\bwonderful\b|\bfantastic\b|\bperfect(ly)?\b|\bnice\b|\benjoy(ed)?\b|"
        r"\bdecent\b|\bsuperb\b|\boutstanding\b|\bawesome\b|\bimpeccable\b|\bpleasant\b|\bgenerous\b|"
        r"\bquick(ly)?\b|\bprompt\b|\bbeautiful\b|\brecommend\b|\bfabulous\b|\bincredible\b|\bterrific\b",
        None,
        +1,
    ),
    (
        r"별로|최악|실망|아쉽|아쉬|불편|짜증|엉망|후회|비추|별루|그닥|노답|부족|좁|식어|식었|식은|늦|새서|샜|"
        r"\bbad\b|\bworst\b|\bslow\b|\bimpossible\b|\bterrible\b|\bawful\b|\bhorrible\b|\bpoor(ly)?\b|"
        r"\bdisappoint(ing|ed|ment)\b|\bmediocre\b|\bcold\b|\blukewarm\b|\bnoisy\b|\bloud\b|\bdirty\b|"
        r"\bunacceptable\b|\brushed\b|\bforgot\b|\bcomplain(ed|t)?\b|\bnever again\b|\bwaste\b|\bsad\b",
        None,
        -1,
    ),
    (r"많", None, {"양": +1, "대기시간": -1, "분위기": -1, None: 0}),
    (r"적(?=[어었고은다네])", None, {"양": -1, "대기시간": +1, None: 0}),
    (r"없", None, {"대기시간": +1, None: 0}),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), a, pol) for p, a, pol in _TERMS]

# clause boundaries: punctuation, laughter / crying runs, emoji, contrastive endings (kept in the left clause)
_SPLIT = re.compile(
    r"[.!?…~\n;,]+|ㅋ{2,}|ㅎ{2,}|ㅠ+|ㅜ+|[\U0001F300-\U0001FAFF\u2600-\u27BF]+|"
    r"(?<=지만)\s|(?<=[는은인던]데)\s|(?<=는데요)\s|\bbut\b"
)
_NEG_AFTER = re.compile(r"^[가-힣]{0,3}?(지\s*않|지않|진\s*않|지는\s*않|지도\s*않|지\s*못)")
_NEG_BEFORE = re.compile(r"(?<![가-힣])(안|못)\s?$")
MAX_QUOTE_CHARS = 80


@dataclass(frozen=True)
class Mention:
    """One aspect in one clause of a review. ``polarity`` None = undecided (the LLM decides)."""

    aspect: str
    polarity: str | None
    quote: str
    start: int  # offset of the quote in the review text
    #: the judgements that decided the polarity (a lemma with its negation, a duration's bucket, a
    #: phrase), each once, in order; none when undecided
    reasons: tuple[str, ...] = ()


def clauses(text: str) -> list[tuple[int, str]]:
    """(offset, clause) pairs; clauses are stripped substrings of ``text``."""
    out, pos = [], 0
    for m in list(_SPLIT.finditer(text)) + [None]:
        end = m.start() if m else len(text)
        piece = text[pos:end]
        stripped = piece.strip()
        if stripped:
            out.append((pos + piece.index(stripped), stripped))
        pos = m.end() if m else len(text)
    return out


def _matches(clause: str) -> list[tuple[int, int, str | None, object]]:
    """Non-overlapping term matches (start, end, aspect, polarity), earlier terms win overlaps."""
    taken: list[tuple[int, int, str | None, object]] = []
    for rx, aspect, pol in _COMPILED:
        for m in rx.finditer(clause):
            if m.end() == m.start():
                continue
            if any(m.start() < e and s < m.end() for s, e, _, _ in taken):
                continue
            taken.append((m.start(), m.end(), aspect, pol))
    return sorted(taken)


def _negated(clause: str, start: int, end: int) -> bool:
    return bool(_NEG_AFTER.match(clause[end:]) or _NEG_BEFORE.search(clause[:start]))


def _sign(pol, aspect: str) -> int | str:
    if isinstance(pol, dict):
        return pol.get(aspect, pol.get(None, 0))
    return pol


def clause_mentions(clause: str) -> dict[str, str | None]:
    """aspect -> polarity (positive / negative / neutral / None) for one clause."""
    return {a: pol for a, (pol, _) in _clause_reading(clause).items()}


def _clause_reading(clause: str) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """aspect -> (polarity, reasons: the matched terms of that sign, "not " when negated)."""
    ms = _matches(clause)
    aspect_pos = [(s, a) for s, _, a, _ in ms if a]
    if not aspect_pos:
        return {}
    score: dict[str, int] = {a: 0 for _, a in aspect_pos}
    cues: dict[str, int] = {a: 0 for _, a in aspect_pos}
    neutral: set[str] = set()
    reasons: dict[str, list[tuple[int, str]]] = {}
    for s, e, a, pol in ms:
        if a is None:
            before = [x for x in aspect_pos if x[0] <= s]
            target = before[-1][1] if before else min(aspect_pos, key=lambda x: x[0] - s)[1]
        else:
            target = a
        sign = _sign(pol, target)
        term = " ".join(clause[s:e].lower().split())
        if sign == "neutral":
            neutral.add(target)
            reasons.setdefault(target, []).append((0, term))
            continue
        if not sign:
            continue
        if _negated(clause, s, e):
            sign = -sign
            term = f"not {term}"
        score[target] += sign
        cues[target] += 1
        reasons.setdefault(target, []).append((sign, term))
    if "배달" in score and "대기시간" in score:  # "배달이 한 시간 걸렸어요": the wait is the delivery's
        score["배달"] += score.pop("대기시간")
        cues["배달"] += cues.pop("대기시간")
        neutral.discard("대기시간")
        reasons.setdefault("배달", []).extend(reasons.pop("대기시간", []))
    out: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for a, sc in score.items():
        if sc > 0:
            pol, want = "positive", 1
        elif sc < 0:
            pol, want = "negative", -1
        elif a in neutral or (cues[a] == 0 and neutral):
            pol, want = "neutral", 0
        else:
            out[a] = (None, ())
            continue
        out[a] = (pol, tuple(dict.fromkeys(r for sg, r in reasons.get(a, []) if (sg > 0) - (sg < 0) == want)))
    return out


def _clause_found(text: str, analysed=None) -> list[tuple[str, str | None, int, str, bool, tuple[str, ...]]]:
    """(aspect, polarity, offset, clause, after a contrast, reasons) per aspect of each clause, in order."""
    if _is_korean(text):
        return [
            (sp.aspect, sp.polarity, sp.start, text[sp.start : sp.end], sp.after_contrast, sp.reasons)
            for sp in korean_spans(text, analysed)
        ]
    return [
        (a, pol, off, clause, False, reasons)
        for off, clause in clauses(text)
        for a, (pol, reasons) in _clause_reading(clause).items()
    ]


def _is_korean(text: str) -> bool:
    return language_of([text]) == "ko" and any("가" <= ch <= "힣" for ch in text)


def detect(text: str, analysed=None) -> list[Mention]:
    """Aspect mentions of a review: at most one per aspect. A decided clause wins over an
    undecided one, a positive or negative one over a neutral one, and the clause after a
    contrastive ending over the one before it ("소스는 맛있었지만 고기가 퍽퍽했어요"); two other
    decided clauses that disagree make the aspect undecided. ``analysed``: Kiwi's tokens of
    ``text`` when the caller analysed a batch (:func:`detect_many`)."""
    found: dict[str, Mention] = {}
    for aspect, pol, offset, clause, after_contrast, reasons in _clause_found(text or "", analysed):
        quote = clause if len(clause) <= MAX_QUOTE_CHARS else clause[:MAX_QUOTE_CHARS]
        prev = found.get(aspect)
        if prev is None or (prev.polarity is None and pol is not None):
            found[aspect] = Mention(aspect, pol, quote, offset, reasons)
        elif pol is None:
            continue
        elif pol == prev.polarity:  # another clause with the same judgement: its reasons count too
            found[aspect] = replace(prev, reasons=tuple(dict.fromkeys(prev.reasons + reasons)))
        elif prev.polarity == "neutral" or after_contrast:
            found[aspect] = Mention(aspect, pol, quote, offset, reasons)
        elif pol != "neutral":
            found[aspect] = Mention(aspect, None, prev.quote, prev.start)
    return sorted(found.values(), key=lambda m: ASPECTS.index(m.aspect))


def detect_many(texts: list[str]) -> list[list[Mention]]:
    """:func:`detect` of many texts, the Korean ones analysed in one Kiwi call."""
    korean = [i for i, t in enumerate(texts) if _is_korean(t or "")]
    analysed = dict(zip(korean, analyse_many([texts[i] for i in korean]))) if korean else {}
    return [detect(t or "", analysed.get(i)) for i, t in enumerate(texts)]


def polarity_of_text(text: str) -> dict[str, str]:
    """aspect -> decided polarity over a whole text (used to check summaries against counts)."""
    return {m.aspect: m.polarity for m in detect(text) if m.polarity is not None}

"""Korean aspect mentions from a morphological analysis (Kiwi), not from surface strings.

Why: a polarity word is a stem in any of its conjugations ("빨랐어요", "빠르게 왔어요" are 빠르/VA),
spelling slips are corrected by the analyzer ("맛잇어요" -> 맛있/VA, Kiwi's ``typos="basic"``), and
clause boundaries, negation and contrast come from the analysis (endings -지만/-는데/-으나, 안/못,
-지 않다/-지 못하다, "... 편은 아니다").

How a review is read (:func:`korean_mentions`):
1. Kiwi splits it into morphemes; a **clause** ends at sentence punctuation or a sentence-final
   ending (a ``sentence`` boundary), a contrastive ending (``contrast``: -지만, -는데, -으나, ...)
   or another connective ending (``link``: -고, -어서, -니까, ...).
2. Aspect terms are lemmas (nouns, and a few verbs such as 기다리): :data:`ASPECT_TERMS`.
   Some predicates carry their aspect (친절 = 서비스, 푸짐 = 양, 비싸 = 가격): :data:`CUES`.
3. A polarity cue (a lemma of :data:`CUES`; its sign may depend on the aspect: 많 is good for
   양, bad for 대기시간) belongs to the nearest aspect before it in the clause that is its
   subject or topic (the noun carries 이/가/은/는/도: "양이 가격에 비해 적어요" is about 양), else
   the nearest before it, else the nearest after it ("친절한 사장님"), else the last aspect of the
   previous clause when the two are joined by a non-contrastive ending ("배달이 늦어서 다 식었어요").
   A cue right after 안/못, or followed by -지 않/-지 못 or "... 편/것 + 아니", is negated.
4. Durations are cues for 배달 / 대기시간 (:data:`SLOW_MINUTES`): 50 minutes or more ("1시간 10분
   만에", "80분이나 걸렸어요") is negative, a duration stressed with 이나 is negative, 30 minutes or
   less followed by 만에 or 컷 is positive, a plain duration in between is neutral; waiting in the
   restaurant (대기시간: 웨이팅, 기다리다, 나오다) has its own bounds (:data:`WAIT_SLOW_MINUTES`: 30
   and 10 minutes). A time word
   with no aspect in a review about a delivery (오다, 받다, 도착) is the delivery's ("생각보다 빨리
   도착했어요").
5. **Neutral** (README "Neutral, defined"): a judgement of the middle (보통, 평범, 무난, 적당,
   그럭저럭, 쏘쏘, 나쁘지 않다) with no positive or negative cue for the same aspect. A mention with no
   judgement at all ("가격은 2만원이에요") is **undecided** (the LLM's to decide), not neutral.
6. The polarity of an aspect in a clause is the sign of the sum of its cues; cues that cancel,
   or none, leave it undecided.

The quote of a mention is its clause, cut from the review (a substring by construction).
Cost: ~0.3-0.5 ms per review on this machine (`make eval` prints it).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

#: lemma -> aspect (nouns, and verbs that name the aspect itself)
ASPECT_TERMS: dict[str, str] = {
    **dict.fromkeys(
        [
            "맛",
            "간",
            "국물",
            "양념",
            "소스",
            "식감",
            "육수",
            "풍미",
            "음식",
            "요리",
            "육즙",
            "튀김옷",
            "간맛",
            "재료",
            "불맛",
        ],
        "맛",
    ),
    **dict.fromkeys(["양", "곱빼기", "양도"], "양"),
    **dict.fromkeys(["가격", "가성비", "값", "가격대", "금액", "돈", "가격대비", "혜자"], "가격"),
    **dict.fromkeys(
        ["서비스", "직원", "사장", "사장님", "알바", "점원", "종업원", "응대", "매니저", "직원분", "이모님"], "서비스"
    ),
    **dict.fromkeys(["청결", "위생", "화장실", "청소", "주방"], "청결"),
    **dict.fromkeys(["분위기", "인테리어", "뷰", "음악", "매장", "조명", "간격"], "분위기"),
    **dict.fromkeys(["배달", "포장", "배송", "라이더", "기사", "기사님", "배달원", "용기"], "배달"),
    **dict.fromkeys(["웨이팅", "대기", "줄", "기다림", "기다리", "회전"], "대기시간"),
    **dict.fromkeys(["주차", "발렛", "주차장"], "주차"),
}
NEUTRAL = "neutral"
#: lemma -> sign (+1 / -1 / "neutral"), or (aspect it names, sign), or {aspect: sign, None: default}
CUES: dict[str, object] = {
    # generic praise
    **dict.fromkeys(
        [
            "좋",
            "최고",
            "훌륭",
            "만족",
            "굿",
            "짱",
            "추천",
            "대박",
            "괜찮",
            "편하",
            "편리",
            "감동",
            "완벽",
            "예술",
            "기막히",
            "인정",
            "강추",
            "따뜻",
            "꼼꼼",
            "깔끔",
            "신선",
            "착하",
            "넓",
            "예쁘",
            "이쁘",
            "부드럽",
            "감사",
            "최강",
            "신속",
            "세심",
            "친절하",
            "빠르",
            "금방",
            "든든",
            "알차",
            "훈훈",
        ],
        +1,
    ),
    # generic complaints
    **dict.fromkeys(
        [
            "별로",
            "별루",
            "최악",
            "실망",
            "아쉽",
            "불편",
            "짜증",
            "엉망",
            "후회",
            "비추",
            "그닥",
            "노답",
            "부족",
            "좁",
            "늦",
            "느리",
            "불만",
            "애매",
            "엉터리",
            "성의없",
            "차갑",
            "미지근",
            "엉성",
            "실수",
            "누락",
            "쏟",
            "터지",
        ],
        -1,
    ),
    # the middle: neutral (README "Neutral, defined")
    **dict.fromkeys(["보통", "평범", "무난", "그럭저럭", "쏘쏘", "적당", "그냥저냥", "평타"], NEUTRAL),
    # predicates that name their aspect
    **{
        w: ("맛", +1)
        for w in [
            "존맛",
            "존맛탱",
            "JMT",
            "jmt",
            "꿀맛",
            "맛있",
            "맛나",
            "고소",
            "담백",
            "바삭",
            "촉촉",
            "쫄깃",
            "얼큰",
            "칼칼",
            "진하",
            "감칠맛",
            "풍부",
        ]
    },
    **{
        w: ("맛", -1)
        for w in [
            "맛없",
            "노맛",
            "싱겁",
            "느끼",
            "비리",
            "질기",
            "눅눅",
            "퍽퍽",
            "텁텁",
            "밍밍",
            "짜",
            "짭짤하",
            "식",
            "붇",
            "불",
            "잡내",
            "누린내",
            "비린내",
            "기름지",
            "딱딱",
            "마르",
        ]
    },
    **{w: ("양", +1) for w in ["푸짐", "넉넉", "배부르", "두둑"]},
    **{w: ("가격", +1) for w in ["저렴", "싸", "혜자"]},
    **{w: ("가격", -1) for w in ["비싸", "창렬", "아깝"]},
    **{w: ("서비스", +1) for w in ["친절", "상냥"]},
    **{w: ("서비스", -1) for w in ["불친절", "퉁명", "무뚝뚝", "불쾌", "무성의", "싸가지"]},
    **{w: ("청결", +1) for w in ["깨끗"]},
    **{w: ("청결", -1) for w in ["더럽", "지저분", "끈적", "찝찝", "머리카락", "벌레"]},
    **{w: ("분위기", +1) for w in ["아늑", "조용"]},
    **{w: ("분위기", -1) for w in ["시끄럽", "어수선", "답답"]},
    # signs that depend on the aspect
    "많": {"양": +1, "대기시간": -1, "분위기": -1, None: 0},
    "적": {"양": -1, "대기시간": +1, None: 0},
    "작": {"양": -1, None: 0},
    "없": {"대기시간": +1, "맛": -1, "주차": -1, None: 0},
    "없이": {"대기시간": +1, None: 0},
    "있": {"맛": +1, "주차": +1, None: 0},
    "오래": {"대기시간": -1, "배달": -1, None: 0},
    "한참": {"대기시간": -1, "배달": -1, None: -1},
    "나쁘": -1,
    "쎄": {"가격": -1, None: 0},
    "세": {"가격": -1, "맛": -1, None: 0},
    "사악": {"가격": -1, None: -1},
    "부담": {"가격": -1, None: -1},
    "부담스럽": {"가격": -1, None: -1},
    "줄": {"양": -1, "대기시간": 0, None: 0},
    "오르": {"가격": -1, None: 0},
    "미치": {"가격": +1, "맛": +1, "양": +1, None: 0},
    "갑": {"가격": +1, "맛": +1, "양": +1, None: 0},
    "꽝": -1,
    "실하": {"양": +1, None: +1},
    "총알": {"배달": +1, None: 0},
    "빨리": +1,
    "일찍": +1,
    "지연": -1,
    "늦게": -1,
    "합리": {"가격": +1, None: +1},
    "합리적": {"가격": +1, None: +1},
    "비슷": NEUTRAL,
    "평균": NEUTRAL,
    "컷": {"배달": +1, "대기시간": +1, None: 0},
    "크": {"분위기": -1, "양": +1, None: 0},
    "제대로": +1,
    "걱정": -1,
    "떠들": -1,
    "챙기": +1,
    "지키": +1,
    "채우": +1,
    "사고": {"배달": -1, None: 0},
    "찢어지": -1,
    "터지": -1,
    "조금": {"양": -1, None: 0},
    "길": {"대기시간": -1, "배달": -1, None: 0},
    "맞": {"맛": +1, None: 0},
    "충분": {"양": +1, None: +1},
    "뒷전": -1,
    "어둡": {"분위기": -1, None: 0},
    "새": {"배달": -1, None: 0},
    "빠지": {"배달": -1, None: 0},
    "청결하": ("청결", +1),
    "위생적": ("청결", +1),
    "미지근": -1,
    "끝내주": +1,
    "생각나": +1,
    "멀쩡": +1,
    "튼튼": +1,
    "자국": ("청결", -1),
}
#: cues only with these tags (불 "불어서" is a verb, 불맛's 불 is not)
CUE_TAGS = {
    "불": {"VV"},
    "식": {"VV"},
    "짜": {"VA"},
    "싸": {"VA"},
    "적": {"VA"},
    "작": {"VA"},
    "줄": {"VV"},
    "세": {"VA"},
}
#: slang Kiwi splits or misreads, matched on the clause's surface before the analysis's lemmas
SURFACE_CUES: dict[str, object] = {
    "평타": NEUTRAL,
    "존맛": ("맛", +1),
    "노맛": ("맛", -1),
    "꿀맛": ("맛", +1),
    "괜춘": +1,
    "ㄱㅊ": +1,
    "가성비 갑": ("가격", +1),
    "창렬": ("가격", -1),
    "성의 없": -1,
    "성의없": -1,
    "기가 막히": +1,
    "기가 막혀": +1,
    "예전 같지 않": -1,
    "예전만 못": -1,
    "잘 되": +1,
    "잘 돼": +1,
    "무성의": ("서비스", -1),
    "반밖에": ("양", -1),
}
#: cues that name no aspect: the delivery's in a review about a delivery (오다/받다/도착) — its
#: time, and what goes wrong on the way (spilt, torn, missing) — or, with 나오다 ("음식이 금방
#: 나왔어요"), the restaurant's waiting time
_TIME_CUES = {"빠르", "빨리", "일찍", "금방", "늦", "늦게", "느리", "오래", "한참", "지연", "총알", "바로"}
_MISHAP_CUES = {"새", "쏟", "터지", "찢어지", "빠지", "누락"}
#: temperature: the delivery's when the clause (or the one it continues) is about the delivery
_TEMPERATURE_CUES = {"식", "미지근", "차갑", "따뜻"}
_DELIVERY_VERBS = {"오", "받", "도착", "배달"}
#: delivery or waiting time at or above this many minutes is a complaint; at or below
#: ``QUICK_MINUTES`` followed by 만에 ("30분 만에 왔어요") it is praise
SLOW_MINUTES, QUICK_MINUTES = 50, 30
#: waiting for a table or for the food in the restaurant: shorter bounds
WAIT_SLOW_MINUTES, WAIT_QUICK_MINUTES = 30, 10
_TIME_ASPECTS = ("배달", "대기시간")
#: aspects whose subject takes a predicate that names another aspect: the rider's manner
#: ("기사님이 친절하세요") is the delivery's, the parking space's size ("주차 공간이 넉넉해요") the parking's
_SUBJECT_TAKES = {"배달", "주차"}
_CONTRAST = {"지만", "는데", "은데", "ㄴ데", "던데", "으나", "나", "는데요", "지마는", "으며", "되"}
_CONTRAST_RE = re.compile(r"(지만|는데|은데|ㄴ데|던데|으나|건만|더니)$")
_SUBJECT_PARTICLES = {"JKS", "JX", "JKC"}  # 이/가, 은/는/도/만, ...
_BREAK_TAGS = {"SF", "SE"}
_LAUGH = re.compile(r"^[ㅋㅎㅠㅜ]+$")
_NUM_WORDS = {"한": 1, "두": 2, "세": 3, "네": 4, "반": 0.5}
MAX_QUOTE_CHARS = 80


@dataclass(frozen=True)
class _Tok:
    form: str
    tag: str
    start: int
    end: int


#: nouns the analyzer should keep whole besides the aspect terms
USER_WORDS = ("존맛탱", "가성비", "혜자", "창렬", "웨이팅", "발렛", "가격대비")
_LOCK = threading.Lock()
_KIWI = None


def kiwi():
    """The analyzer, loaded once per process (~1 s; the model ships in `kiwipiepy-model`)."""
    global _KIWI
    with _LOCK:
        if _KIWI is None:
            from kiwipiepy import Kiwi

            k = Kiwi()
            # the lexicon's own words stay whole (the analyzer splits loanwords and slang: 발+렛)
            for word in {*ASPECT_TERMS, *USER_WORDS}:
                if len(word) > 1 and not word.isascii():
                    k.add_user_word(word, "NNG", 0.0)
            _KIWI = k
        return _KIWI


_PREFIXES = {"존", "노", "꿀", "불"}  # 존+맛, 노+맛, 꿀+맛: one word the analyzer splits
_INTENSIFIERS = {"개", "핵", "존나", "졸라"}  # 개+존맛, 개+적음: intensity only


def _tokens(analysed) -> list[_Tok]:
    toks = [_Tok(t.form, t.tag.split("-")[0], t.start, t.start + t.len) for t in analysed]
    out: list[_Tok] = []
    for t in toks:
        if out and out[-1].form in _PREFIXES and t.form == "맛" and out[-1].end == t.start:
            prev = out.pop()
            out.append(_Tok(prev.form + "맛", "NNG", prev.start, t.end))
            continue
        if out and out[-1].form in _INTENSIFIERS and out[-1].end == t.start and out[-1].tag in ("NNG", "MAG", "XPN"):
            out.pop()  # 개존맛 -> 존맛, 개적음 -> 적음
        out.append(t)
    return out


def _clauses(toks: list[_Tok]) -> list[tuple[list[_Tok], str]]:
    """(tokens, boundary that ends the clause: sentence / contrast / link)."""
    out, cur = [], []
    for i, t in enumerate(toks):
        cur.append(t)
        boundary = None
        if t.tag in _BREAK_TAGS or t.tag == "EF" or (t.tag == "SW" and _LAUGH.match(t.form)) or t.tag == "SP":
            boundary = "sentence" if t.tag != "SP" else "link"
        elif t.tag == "EC":
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            # -지 (않다/못하다) is part of a negated predicate, not a boundary
            if t.form == "지" and nxt is not None:
                after = [x for x in toks[i + 1 : i + 3] if x.tag != "JX"]
                if after and after[0].form in ("않", "못", "못하", "말"):
                    continue
            if t.form in ("게", "도", "어", "아", "서") and nxt is not None and nxt.tag.startswith("V"):
                continue  # 빠르게 왔어요, 먹어 보다: one predicate
            boundary = "contrast" if (t.form in _CONTRAST or _CONTRAST_RE.search(t.form)) else "link"
        if boundary:
            out.append((cur, boundary))
            cur = []
    if cur:
        out.append((cur, "sentence"))
    return out


def _negated(toks: list[_Tok], i: int) -> bool:
    """A cue at ``i`` negated by 안/못 before it, or -지 않/못 or "... 편/것/거 + 아니" after it."""
    if i > 0 and toks[i - 1].form in ("안", "못") and toks[i - 1].tag == "MAG":
        return True
    if i > 1 and toks[i - 1].tag == "MAG" and toks[i - 2].form in ("안", "못"):
        return True  # 안 너무 ... (rare), 못 잘 ...
    if i > 0 and toks[i - 1].tag == "XPN" and toks[i - 1].form in ("불", "비", "무", "미"):
        return True  # 불+친절, 비+위생
    if toks[i].tag == "MAG" and i + 2 < len(toks) and toks[i + 1].form in ("안", "못") and toks[i + 2].tag == "VV":
        return True  # 오래 안 기다렸어요
    after = toks[i + 1 : i + 6]
    for j, t in enumerate(after):
        if t.tag == "EC" and t.form == "지":
            rest = [x for x in after[j + 1 : j + 3] if x.tag != "JX"]  # 많지는 않다, 많진 않다
            if rest and rest[0].form in ("않", "못", "못하"):
                return True
        if t.tag == "VCN" and t.form == "아니":
            return True
        if t.tag in ("EF", "SF", "VA", "VV", "NNG", "XR", "MAG", "NNP") or (t.tag == "EC" and t.form != "지"):
            return False  # the negation after this belongs to another predicate
    return False


def _number(form: str) -> float | None:
    try:
        return float(form.replace(",", ""))
    except ValueError:  # "1.2.3", a version number: not a quantity
        return None


def _minutes(toks: list[_Tok]) -> list[tuple[int, float, bool, bool]]:
    """(index, minutes, stressed with 이나, followed by 만에) of each duration in a clause."""
    out, i = [], 0
    while i < len(toks):
        total, j = 0.0, i
        while j + 1 < len(toks) and (toks[j].tag == "SN" or toks[j].form in _NUM_WORDS):
            n = _number(toks[j].form) if toks[j].tag == "SN" else _NUM_WORDS[toks[j].form]
            if n is None:
                break
            unit = toks[j + 1].form
            if unit == "시간":
                total += 60 * n
            elif unit == "분":
                total += n
            else:
                break
            j += 2
        if total:
            rest = [t.form for t in toks[j : j + 2]]
            out.append((i, total, "이나" in rest, "만" in rest))
            i = j
        else:
            i += 1
    return out


def _lookup(table: dict, form: str):
    """``table``'s entry for a lemma, also when the analyzer kept a derivational suffix on it
    (느끼하, 저렴하, 끈적거리, 부담스럽, 실망스럽 -> 느끼, 저렴, 끈적, 부담, 실망)."""
    if form in table:
        return table[form]
    for suffix in ("하", "거리", "스럽", "대", "되"):
        if form.endswith(suffix) and len(form) > len(suffix) and form[: -len(suffix)] in table:
            return table[form[: -len(suffix)]]
    return None


def _sign(cue, aspect: str | None):
    if isinstance(cue, dict):
        return cue.get(aspect, cue.get(None, 0))
    if isinstance(cue, tuple):
        return cue[1]
    return cue


def _clause_mentions(
    toks: list[_Tok], carried: str | None, surface: str = "", delivery: bool = False
) -> tuple[dict[str, str | None], str | None]:
    """(aspect -> polarity or None, the clause's last aspect) for one clause. ``surface``: the
    clause's text (slang the analyzer splits); ``delivery``: the review is about a delivery."""
    aspects: list[tuple[int, str, bool]] = []  # (token index, aspect, subject/topic)
    for i, t in enumerate(toks):
        a = ASPECT_TERMS.get(t.form) if t.tag in ("NNG", "NNP", "NNB", "VV", "XR", "SL") else None
        own = a is not None
        if a is None and t.tag in ("NNG", "XR", "SL", "IC", "VA", "VV", "MAG"):
            cue = _lookup(CUES, t.form)
            a = cue[0] if isinstance(cue, tuple) else None
        if a is not None:
            j = i + 1
            # a compound names the same aspect: 주차 공간이, 배달 시간은, 직원분들이
            while own and j < len(toks) and toks[j].tag in ("NNG", "NNB", "XSN") and toks[j].form not in ASPECT_TERMS:
                j += 1
            nxt = toks[j] if j < len(toks) else None
            aspects.append((i, a, own and bool(nxt and nxt.tag in _SUBJECT_PARTICLES)))
    for word, cue in SURFACE_CUES.items():
        if word in surface and isinstance(cue, tuple) and cue[0] not in [a for _, a, _ in aspects]:
            aspects.append((len(toks), cue[0], False))
    score: dict[str, int] = {a: 0 for _, a, _ in aspects}
    cues_of: dict[str, int] = {a: 0 for _, a, _ in aspects}
    neutral: set[str] = set()

    def target_of(i: int, cue) -> str | None:
        before = [x for x in aspects if x[0] < i]
        if isinstance(cue, tuple):
            # a predicate that names an aspect judges the subject before it when that is an aspect
            # ("기사님이 친절하세요" is the delivery's, "주차 공간이 넉넉해요" the parking's), else its own
            subjects = [x for x in before if x[2] and x[1] in _SUBJECT_TAKES]
            return subjects[-1][1] if subjects else cue[0]
        subjects = [x for x in before if x[2]]
        if subjects:
            return subjects[-1][1]
        if before:
            return before[-1][1]
        after = [x for x in aspects if x[0] > i]
        if after:
            return after[0][1]
        if carried is not None:
            return carried
        if toks[i].form in _TIME_CUES and any(t.form == "나오" for t in toks):
            return "대기시간"
        if delivery and (toks[i].form in _TIME_CUES or toks[i].form in _MISHAP_CUES):
            return "배달"
        return None

    for i, t in enumerate(toks):
        if t.tag not in ("VA", "VV", "XR", "NNG", "MAG", "IC", "SL", "VX", "NNP"):
            continue
        cue = _lookup(CUES, t.form)
        if i + 1 < len(toks) and toks[i + 1].tag == "XSA" and (t.form + "하") in CUES:
            cue = CUES[t.form + "하"]  # 청결+하다: the predicate, not the noun
        if cue is None or (t.form in CUE_TAGS and t.tag not in CUE_TAGS[t.form]):
            continue
        target = target_of(i, cue)
        if t.form in _TIME_CUES and target not in (*_TIME_ASPECTS, None):
            # "음식이 금방 나와요": how fast is about the wait (or the delivery), not the food
            target = "대기시간" if any(x.form == "나오" for x in toks) else "배달" if delivery else None
            if target is None:
                continue
        if t.form in _TEMPERATURE_CUES and ("배달" in [a for _, a, _ in aspects] or carried == "배달"):
            target = "배달"  # "배달 와서 다 식어 있었어요": arrived cold
        if target is None:
            continue
        sign = _sign(cue, target)
        negated = _negated(toks, i)
        prefixed = i > 0 and toks[i - 1].tag == "XPN" and toks[i - 1].form in ("불", "비", "무", "미")
        if prefixed and negated and _negated(toks[i:], 0):  # 불친절하지 않다: the middle
            score.setdefault(target, 0)
            neutral.add(target)
            continue
        if sign == NEUTRAL:
            score.setdefault(target, 0)
            neutral.add(target)
            continue
        if t.form == "나쁘" and negated:  # 나쁘지 않다: the middle, not praise
            score.setdefault(target, 0)
            neutral.add(target)
            continue
        if not sign:
            continue
        # "맛도 양도 가격도 다 만족": a generic judgement after aspects joined by 도 judges each of them
        joined = [a for j, a, _ in aspects if j < i and j + 1 < len(toks) and toks[j + 1].form == "도"]
        for a in joined if len(joined) >= 2 and not isinstance(cue, tuple) else [target]:
            score[a] = score.get(a, 0) + (-sign if negated else sign)
            cues_of[a] = cues_of.get(a, 0) + 1
    for i, t in enumerate(toks):  # 그냥 그렇다, 그저 그렇다: the middle
        if t.form == "그렇" and i > 0 and toks[i - 1].form in ("그냥", "그저"):
            target = target_of(i, 0)
            if target is not None:
                score.setdefault(target, 0)
                neutral.add(target)
    for word, cue in SURFACE_CUES.items():
        if word in surface:
            target = cue[0] if isinstance(cue, tuple) else target_of(len(toks) - 1, cue)
            if target is None:
                continue
            if cue == NEUTRAL:
                score.setdefault(target, 0)
                neutral.add(target)
            else:
                score[target] = score.get(target, 0) + _sign(cue, target)
                cues_of[target] = cues_of.get(target, 0) + 1
    for _i, minutes, stressed, within in _minutes(toks):
        target = next((a for _, a, _ in aspects if a in _TIME_ASPECTS), None) or (
            carried if carried in _TIME_ASPECTS else None
        )
        if target is None and any(t.form in ("나오", "기다리") for t in toks):
            target = "대기시간"
        if target is None and (delivery or any(t.form in ("오", "받", "도착", "걸리") for t in toks)):
            target = "배달"
        if target is None:
            continue
        cues_of[target] = cues_of.get(target, 0) + 1
        slow, quick = (SLOW_MINUTES, QUICK_MINUTES) if target == "배달" else (WAIT_SLOW_MINUTES, WAIT_QUICK_MINUTES)
        if minutes >= slow or stressed:
            score[target] = score.get(target, 0) - 1
        elif within and minutes <= quick:
            score[target] = score.get(target, 0) + 1
        else:  # a plain duration between the two: the middle
            score.setdefault(target, 0)
            neutral.add(target)
    out: dict[str, str | None] = {}
    named = {a for j, a, _ in aspects if toks[j].form in ASPECT_TERMS} if aspects else set()
    for a, sc in score.items():
        if a not in named and not sc and a not in neutral and not cues_of.get(a):
            continue  # an anchor of a predicate that judged another aspect: not a mention
        # cues that cancel ("많지도 적지도 않아요") are the middle too
        middle = a in neutral or cues_of.get(a, 0) >= 2
        out[a] = "positive" if sc > 0 else "negative" if sc < 0 else NEUTRAL if middle else None
    last = aspects[-1][1] if aspects else None
    return out, last


@dataclass(frozen=True)
class Span:
    """One aspect in one clause: polarity (None = undecided) and the clause's offsets in the text."""

    aspect: str
    polarity: str | None
    start: int
    end: int
    #: the clause follows a contrastive ending (-지만, -는데): its judgement is the one that stands
    after_contrast: bool = False


def korean_spans(text: str, analysed=None) -> list[Span]:
    """Aspect mentions of each clause of a Korean review, in order (``analysed``: Kiwi's tokens of
    ``text``, when the caller analysed a batch)."""
    toks = _tokens(analysed if analysed is not None else kiwi().tokenize(text, typos="basic"))
    delivery = any(t.form in _DELIVERY_VERBS and t.tag in ("VV", "NNG") for t in toks)
    received = any(t.form in ("받", "도착", "배달") for t in toks)
    spans: list[Span] = []
    carried: str | None = None
    after_contrast = False
    for clause, boundary in _clauses(toks):
        if clause:
            start, end = clause[0].start, clause[-1].end
            found, last = _clause_mentions(clause, carried, text[start:end], delivery)
            # the clause as the reviewer wrote it: trailing punctuation and laughter are not the quote
            while end > start and not text[end - 1].isalnum():
                end -= 1
            for aspect, pol in found.items():
                if aspect == "대기시간" and received:  # "두 시간 기다려서 받았어요": the delivery's wait
                    aspect = "배달"
                spans.append(Span(aspect, pol, start, max(end, start + 1), after_contrast))
        else:
            last = None
        # "배달 왔는데 아직 따뜻했어요": a -는데 clause that only sets the scene (no judgement) is continued
        scene = boundary == "contrast" and last is not None and found.get(last) is None
        carried = (last or carried) if boundary == "link" or scene else None
        after_contrast = boundary == "contrast" and not scene
    return spans


def analyse_many(texts: list[str]):
    """Kiwi's tokens of many texts at once (faster than one call each)."""
    return list(kiwi().tokenize(texts, typos="basic"))

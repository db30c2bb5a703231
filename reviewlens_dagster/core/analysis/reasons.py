"""Why: the reasons behind each aspect's counts, per restaurant (`aspect_reasons`).

Every decided mention carries the judgements that decided it (``reasons`` in `aspect_mentions`: a
cue's lemma with its negation, 늦다 / 안 맵다 / 불친절하다, a duration's bucket, 50분 이상, a phrase).
Here they are merged and counted:

- **merged** by one table of synonyms (:data:`SYNONYMS`, declared once): 느리다, 오래, 한참 and "took
  forever" are all 늦다; 저렴하다, 착하다 and 혜자 are 싸다. A table, not the embedder with a threshold:
  the reasons are short lemmas whose embeddings put antonyms close (빠르다 / 느리다 are near each other
  in a sentence encoder), and a table is exact, free and reviewable. Reasons it does not list count
  as themselves.
- **generic** reasons (좋다, 최고, 별로, great: :data:`GENERIC`) say *that*, not *why*; they are
  counted and flagged (``generic``) so that reports lead with the specific ones.
- a mention the LLM decided (the reading found no judgement in its clause) gets the adjectives of
  its clause as reasons (미지근했어요 -> 미지근하다, merged into 식다), or none;
- counted per (restaurant, aspect, polarity): ``count`` mentions give the reason, ``share`` of that
  aspect-and-polarity's mentions (``mentions``; a mention may give no reason, so the shares of one
  aspect and polarity may sum to less than 1), the review ids, and a **whole
  sentence** of one review as evidence with the clause that gave the reason marked in it
  (``evidence_start`` / ``evidence_end``: character offsets in ``evidence``).
"""

from __future__ import annotations

import re

import pandas as pd

from ..aspects import aspect_name
from .en_reading import describing_words
from .extract import reasons_list
from .ko_tokens import kiwi

#: canonical reason -> what reviewers write for the same judgement (Korean lemmas and English terms)
SYNONYMS: dict[str, tuple[str, ...]] = {
    "늦다": ("느리다", "오래", "오래 걸리다", "한참", "길다", "지연되다", "took forever", "slow", "waited"),
    "빠르다": ("빨리", "금방", "일찍", "신속하다", "안 오래", "안 늦다", "fast", "quick", "quickly", "prompt"),
    "웨이팅 없음": ("없이", "no wait"),
    "식다": ("차갑다", "미지근하다", "안 따뜻하다", "cold", "lukewarm"),
    "따뜻하다": ("뜨겁다", "따끈하다", "뜨끈하다", "안 식다", "hot", "warm"),
    "새다": ("터지다", "흐르다", "쏟아지다", "흘리다"),
    "누락되다": ("빠지다", "누락", "안 오다"),
    "적다": ("반밖에", "부족하다", "작다", "안 많다", "tiny"),
    "많다": ("푸짐하다", "넉넉하다", "배부르다", "충분하다", "generous", "huge portions"),
    "비싸다": ("아깝다", "창렬", "expensive", "overpriced", "pricey"),
    "싸다": ("저렴하다", "착하다", "혜자", "cheap", "affordable", "reasonable", "inexpensive"),
    "친절하다": ("상냥하다", "친절", "friendly", "attentive", "courteous", "welcoming"),
    "불친절하다": ("퉁명스럽다", "무성의", "무뚝뚝하다", "안 친절하다", "rude", "unfriendly", "not friendly"),
    "맛있다": ("존맛", "존맛탱", "꿀맛", "맛나다", "끝내주다", "jmt", "delicious", "tasty", "yummy"),
    "맛없다": ("노맛", "안 맛있다", "tasteless"),
    "싱겁다": ("밍밍하다", "간이 하나도 안", "bland"),
    "맛이 변했다": ("예전 같지 않", "변하다"),
    "깨끗하다": ("깔끔하다", "청결하다", "잘 되", "clean"),
    "더럽다": ("지저분하다", "끈적거리다", "자국", "dirty"),
    "시끄럽다": ("어수선하다", "noisy", "loud"),
    "조용하다": ("아늑하다", "quiet", "cozy"),
}

#: judgements that say that, not why (counted, flagged, shown after the specific ones)
GENERIC = frozenset(
    {
        "좋다",
        "최고",
        "대박",
        "훌륭하다",
        "괜찮다",
        "만족하다",
        "만족",
        "만족스럽다",
        "불만",
        "불만족",
        "칭찬",
        "칭찬하다",
        "호평",
        "긍정",
        "부정",
        "별로",
        "실망하다",
        "아쉽다",
        "최악",
        "강추",
        "추천",
        "인정",
        "예술",
        "보통",
        "무난하다",
        "평범하다",
        "그럭저럭",
        "비슷하다",
        "그저 그렇다",
        "안 좋다",
        "great",
        "good",
        "nice",
        "bad",
        "amazing",
        "excellent",
        "okay",
        "average",
        "terrible",
        "awful",
        # the English reading's general words (VADER's): a judgement, not a reason
        "positive",
        "negative",
        "praise",
        "praised",
        "complaint",
        "complaints",
        "complained",
        "love",
        "loved",
        "liked",
        "enjoy",
        "enjoyed",
        "best",
        "worst",
        "perfect",
        "fantastic",
        "wonderful",
        "awesome",
        "horrible",
        "disappointing",
        "disappointed",
        "disappointment",
        "recommend",
        "recommended",
        "happy",
        "satisfied",
        "favorite",
        "fine",
        "decent",
        "ok",
        "not good",
        "not great",
        # what a summary calls the counts: no reason of its own
        "complain",
        "complains",
        "complaining",
        "praises",
        "praising",
        "loves",
        "enjoys",
        "dislike",
        "disliked",
        "problem",
        "problems",
        "issue",
        "issues",
        "appreciated",
        "strength",
        "strengths",
        "weakness",
        "weaknesses",
    }
)

#: what an English restaurant's texts, report and CLI block call each canonical reason (the canonical
#: ones are Korean lemmas: a reason is counted once whichever language gave it); each name reads back
#: as its reason (:func:`canonical_reason`), so a summary that repeats it is checked against its count
ENGLISH_REASONS: dict[str, str] = {
    "늦다": "slow",
    "빠르다": "fast",
    "웨이팅 없음": "no wait",
    "식다": "cold",
    "따뜻하다": "hot",
    "새다": "leaking",
    "누락되다": "missing items",
    "적다": "small",
    "많다": "generous",
    "비싸다": "expensive",
    "싸다": "affordable",
    "친절하다": "friendly",
    "불친절하다": "rude",
    "맛있다": "delicious",
    "맛없다": "tasteless",
    "싱겁다": "bland",
    "맛이 변했다": "not as good as before",
    "깨끗하다": "clean",
    "더럽다": "dirty",
    "시끄럽다": "noisy",
    "조용하다": "quiet / cozy",
}
_DURATION = re.compile(r"(\d+)분 이상")
_DURATION_EN = re.compile(r"(\d+)\+ minutes")

_CANONICAL = (
    {v: k for k, vs in SYNONYMS.items() for v in vs}
    | {name: k for k, name in ENGLISH_REASONS.items()}
    | {k: k for k in SYNONYMS}
)

REASON_COLUMNS = [
    "restaurant_id",
    "aspect",
    "polarity",
    "reason",
    "generic",
    "count",
    "mentions",
    "share",
    "variants",
    "review_ids",
    "evidence_review_id",
    "evidence",
    "evidence_start",
    "evidence_end",
]

#: sentences end at these (and at line breaks); a review without any is one sentence
_SENTENCE_END = re.compile(r"(?<=[.!?…~])\s+|\n+|(?<=[.!?])(?=[가-힣A-Z])")
#: evidence longer than this is cut around the marked clause
MAX_EVIDENCE_CHARS = 160


def predicates(sentence: str) -> list[str]:
    """What a sentence or clause says a thing is like: a Korean one's adjectives in dictionary form
    (정확하다, 미지근하다), else its English judging and describing words (spicy, soggy:
    ``en_reading.describing_words``)."""
    if not any("가" <= ch <= "힣" for ch in sentence):
        return describing_words(sentence)
    toks = kiwi().tokenize(sentence, typos="basic")
    out = []
    for i, t in enumerate(toks):
        if t.tag == "VA":
            out.append(t.form + "다")
        elif t.tag in ("XR", "NNG") and i + 1 < len(toks) and toks[i + 1].tag == "XSA":
            out.append(t.form + toks[i + 1].form + "다")
    return out


def mention_reasons(reasons, polarity_source: str | None, quote: str) -> list[str]:
    """A mention's reasons: the reading's, or, for a mention the LLM decided (the reading found no
    judgement), the adjectives of its clause (a span of the clause, or none)."""
    if len(reasons):
        return [str(r) for r in reasons]
    return predicates(quote) if polarity_source == "llm" and isinstance(quote, str) else []


def canonical_reason(reason: str) -> str:
    """The reason a synonym or an English name stands for (:data:`SYNONYMS`, :data:`ENGLISH_REASONS`),
    else the reason itself."""
    r = " ".join(str(reason).split())
    duration = _DURATION_EN.fullmatch(r)
    if duration:
        return f"{duration.group(1)}분 이상"
    return _CANONICAL.get(r, _CANONICAL.get(r.lower(), r))


def reason_name(reason: str, lang: str) -> str:
    """A counted reason as a reader of ``lang`` reads it: its English name for English (늦다 -> slow,
    50분 이상 -> 50+ minutes), itself otherwise and where it has none (a Korean review's own words)."""
    if lang != "en":
        return reason
    duration = _DURATION.fullmatch(reason)
    return f"{duration.group(1)}+ minutes" if duration else ENGLISH_REASONS.get(reason, reason)


def split_reason_label(label: str) -> tuple[str, str, str]:
    """(aspect, reason, count) of a dish's reason as stored (``"맛: 싱겁다 2"``, ``dishes.dish_insights``);
    the aspect or the count empty where the label has none."""
    aspect, sep, rest = str(label).partition(": ")
    if not sep:
        aspect, rest = "", str(label)
    reason, _, count = rest.rpartition(" ")
    return (aspect, reason, count) if count.isdigit() else (aspect, rest, "")


def reason_label(label: str, lang: str) -> str:
    """A dish's reason as stored (``"맛: 싱겁다 2"``) as a reader of ``lang`` reads it (``"taste: bland 2"``)."""
    aspect, reason, count = split_reason_label(label)
    if not aspect or lang != "en":
        return label
    return f"{aspect_name(aspect, lang)}: {reason_name(reason, lang)}" + (f" {count}" if count else "")


def _sentence_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """The sentences holding ``text[start:end]``: Kiwi's sentence splitter for Korean (it finds the
    sentences people write without punctuation: "...따뜻했어요 강추합니다"), punctuation otherwise."""
    if any("가" <= ch <= "힣" for ch in text):
        sents = [(x.start, x.end) for x in kiwi().split_into_sents(text)]
        over = [b for b in sents if b[0] < end and start < b[1]]
        if over:
            return over[0][0], over[-1][1]
    s, e = 0, len(text)
    for m in _SENTENCE_END.finditer(text):
        if m.end() <= start:
            s = m.end()
        elif m.start() >= end:
            e = m.start()
            break
    return s, e


def sentence_around(text: str, start: int, end: int) -> tuple[str, int, int]:
    """(the sentence of ``text`` holding ``text[start:end]``, the span's offsets in it); a sentence
    longer than :data:`MAX_EVIDENCE_CHARS` is cut around the span at word boundaries."""
    s, e = _sentence_bounds(text, start, end)
    s, e = min(s, start), max(e, end)
    if e - s > MAX_EVIDENCE_CHARS:
        room = max(0, MAX_EVIDENCE_CHARS - (end - start)) // 2
        cut_s, cut_e = max(s, start - room), min(e, end + room)
        while cut_s > s and not text[cut_s - 1].isspace():
            cut_s -= 1
        while cut_e < e and not text[cut_e].isspace():
            cut_e += 1
        s, e = cut_s, cut_e
    while s < start and text[s].isspace():
        s += 1
    sentence = text[s:e].rstrip()
    return sentence, start - s, min(end, s + len(sentence)) - s


def aspect_reasons(reviews: pd.DataFrame, mentions: pd.DataFrame) -> pd.DataFrame:
    """`aspect_reasons` rows (module docstring) from the restaurant's reviews (review_id, text) and
    its resolved mentions (aspect, polarity, quote, reasons)."""
    if mentions.empty:
        return _typed(pd.DataFrame(columns=REASON_COLUMNS))
    text_by = dict(zip(reviews["review_id"], reviews["text"].fillna("")))
    decided = mentions[mentions["polarity"].notna()].copy()
    source = decided["polarity_source"] if "polarity_source" in decided.columns else [None] * len(decided)
    decided["reasons"] = [
        mention_reasons(r, src, q) for r, src, q in zip(reasons_list(decided["reasons"]), source, decided["quote"])
    ]
    denominators = decided.groupby(["restaurant_id", "aspect", "polarity"]).size()
    rows = []
    for (rid, aspect, polarity), g in decided.groupby(["restaurant_id", "aspect", "polarity"], sort=True):
        found: dict[str, dict] = {}
        for m in g.itertuples():
            for raw in dict.fromkeys(canonical_reason(r) for r in m.reasons):
                entry = found.setdefault(raw, {"review_ids": [], "variants": set(), "quotes": []})
                entry["review_ids"].append(m.review_id)
                entry["quotes"].append((m.review_id, m.quote))
            for r in m.reasons:
                found[canonical_reason(r)]["variants"].add(" ".join(str(r).split()))
        n = int(denominators[(rid, aspect, polarity)])
        for reason, entry in found.items():
            ids = list(dict.fromkeys(entry["review_ids"]))
            evidence_id, evidence, span = _evidence(entry["quotes"], text_by)
            rows.append(
                {
                    "restaurant_id": rid,
                    "aspect": aspect,
                    "polarity": polarity,
                    "reason": reason,
                    "generic": reason in GENERIC,
                    "count": len(ids),
                    "mentions": n,
                    "share": len(ids) / n,
                    "variants": sorted(entry["variants"]),
                    "review_ids": ids,
                    "evidence_review_id": evidence_id,
                    "evidence": evidence,
                    "evidence_start": span[0],
                    "evidence_end": span[1],
                }
            )
    out = pd.DataFrame(rows, columns=REASON_COLUMNS)
    if len(out):
        out = out.sort_values(
            ["restaurant_id", "aspect", "polarity", "generic", "count", "reason"],
            ascending=[True, True, True, True, False, True],
            kind="stable",
        )
    return _typed(out)


#: the table's types, also when a restaurant has no row (the first write creates the table from them)
REASON_DTYPES = {
    "generic": "bool",
    "count": "int64",
    "mentions": "int64",
    "share": "float64",
    "evidence_start": "int64",
    "evidence_end": "int64",
}


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.astype(REASON_DTYPES).reset_index(drop=True)


#: reviews whose sentence is looked at when choosing a reason's evidence
EVIDENCE_CANDIDATES = 5


def _evidence(quotes: list[tuple[str, str]], text_by: dict) -> tuple[str, str, tuple[int, int]]:
    """One review's whole sentence for a reason: the one of a readable length (12-120 characters)
    closest to 60, ties by review id; the clause marked in it."""
    best = None
    # the sentence splitter runs on a few candidates only: the reviews nearest a readable length first
    found = [(r, q, text_by.get(r, "")) for r, q in quotes if q and q in text_by.get(r, "")]
    found.sort(key=lambda x: (abs(min(len(x[2]), 120) - 60), str(x[0])))
    for review_id, quote, text in found[:EVIDENCE_CANDIDATES]:
        at = text.find(quote)
        sentence, s, e = sentence_around(text, at, at + len(quote))
        key = (not 12 <= len(sentence) <= 120, abs(len(sentence) - 60), str(review_id))
        if best is None or key < best[0]:
            best = (key, review_id, sentence, (s, e))
    if best is None:
        review_id, quote = quotes[0]
        return review_id, quote, (0, len(quote))
    return best[1], best[2], best[3]


def top_reasons(
    reasons: pd.DataFrame, aspect: str, polarity: str, k: int = 3, specific: bool = True, lang: str = "ko"
) -> list:
    """(reason, count) of the ``k`` most given reasons of one aspect and polarity (``reasons``: one
    restaurant's rows); ``specific``: generic ones left out; each reason named as a reader of ``lang``
    reads it (:func:`reason_name`)."""
    if reasons.empty:
        return []
    g = reasons[(reasons["aspect"] == aspect) & (reasons["polarity"] == polarity)]
    if specific:
        g = g[~g["generic"].astype(bool)]
    g = g.sort_values(["count", "reason"], ascending=[False, True], kind="stable").head(k)
    return [(reason_name(r, lang), n) for r, n in zip(g["reason"], g["count"].astype(int))]


def reasons_line(reasons: pd.DataFrame, aspect: str, polarity: str, k: int = 3, lang: str = "ko") -> str:
    """ "늦다 12, 식다 5, 50분 이상 3" (specific reasons first; generic ones when there is no other)."""
    top = top_reasons(reasons, aspect, polarity, k, lang=lang) or top_reasons(
        reasons, aspect, polarity, k, specific=False, lang=lang
    )
    return ", ".join(f"{r} {n}" for r, n in top)


def reasons_markdown(
    reasons: pd.DataFrame, restaurant_ids: list[str], k: int = 3, lang_by: dict[str, str] | None = None
) -> str:
    """Per restaurant, each aspect's top reasons on each side (the metadata shown in the UI), named in
    the restaurant's language (``lang_by``: restaurant -> ko / en; Korean where not given)."""
    blocks = []
    for rid in restaurant_ids:
        g = reasons[reasons["restaurant_id"] == rid]
        if g.empty:
            continue
        lang = (lang_by or {}).get(rid, "ko")
        lines = [f"**{rid}**", "", "| aspect | praised for | complained about |", "|---|---|---|"]
        for aspect in sorted(set(g["aspect"])):
            pos, neg = reasons_line(g, aspect, "positive", k, lang), reasons_line(g, aspect, "negative", k, lang)
            if pos or neg:
                lines.append(f"| {aspect_name(aspect, lang)} | {pos or '-'} | {neg or '-'} |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)

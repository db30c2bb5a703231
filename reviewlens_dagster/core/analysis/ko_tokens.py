"""The morphological analysis the Korean reading stands on (Kiwi, offline): tokens (with
intensified slang re-read), clauses and their boundaries (sentence, contrast, link), negation,
durations, and the lexicon lookups by lemma. What is read from them: :mod:`.morph`."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass

from .ko_lexicon import ASPECT_TERMS, CUE_TAGS, CUES

#: contrastive endings (the analyzer writes the final consonant of -ㄴ데 as a jongseong: ᆫ데, as in 비싼데)
_CONTRAST = {"지만", "는데", "은데", "ㄴ데", "ᆫ데", "던데", "으나", "나", "는데요", "지마는", "으며", "되"}
_CONTRAST_RE = re.compile(r"(지만|는데|은데|ㄴ데|ᆫ데|던데|으나|건만|더니)$")
SUBJECT_PARTICLES = {"JKS", "JX", "JKC"}  # 이/가, 은/는/도/만, ...
_BREAK_TAGS = {"SF", "SE"}
_LAUGH = re.compile(r"^[ㅋㅎㅠㅜ]+$")
_NUM_WORDS = {"한": 1, "두": 2, "세": 3, "네": 4, "반": 0.5}
MAX_QUOTE_CHARS = 80


@dataclass(frozen=True)
class Tok:
    form: str
    tag: str
    start: int
    end: int


#: nouns the analyzer should keep whole besides the aspect terms
USER_WORDS = ("존맛탱", "가성비", "혜자", "창렬", "웨이팅", "발렛", "가격대비", "돈값", "값어치")
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


PREFIXES = {"존", "노", "꿀", "불"}  # 존+맛, 노+맛, 꿀+맛: one word the analyzer splits
INTENSIFIERS = {"개", "핵", "존나", "졸라", "킹"}  # 개+존맛, 개+적음: intensity only


def kiwi_toks(analysed, offset: int = 0) -> list[Tok]:
    return [Tok(t.form, t.tag.split("-")[0], offset + t.start, offset + t.start + t.len) for t in analysed]


def has_cue(toks: list[Tok]) -> bool:
    return any(
        cue_of(CUES, t.form) is not None and t.tag in CUE_TAGS.get(t.form, {t.tag})
        for t in toks
        if t.tag in ("VA", "VV", "NNG", "XR")
    )


def respell(toks: list[Tok], text: str) -> list[Tok]:
    """A word glued to an intensifier ("개비쌈", "개친절", "개적음", "핵노맛") that the analyzer read
    as one noun or as a counter (개/NNB): the word without it, analysed again, when that finds a
    polarity cue the first reading did not ("개인", "개수", "핵심" stay as they are)."""
    out, i = [], 0
    while i < len(toks):
        t = toks[i]
        j, end = i + 1, t.end
        while j < len(toks) and toks[j].start == end:  # the rest of the word
            end, j = toks[j].end, j + 1
        starts_word = i == 0 or toks[i - 1].end < t.start
        word = text[t.start : end]
        if starts_word and len(word) > 2 and word[0] in INTENSIFIERS and not has_cue(toks[i:j]):
            again = kiwi_toks(kiwi().tokenize(word[1:], typos="basic"), t.start + 1)
            if has_cue(again):
                out.extend(again)
                i = j
                continue
        out.append(t)
        i += 1
    return out


def read_tokens(analysed, text: str = "") -> list[Tok]:
    toks = kiwi_toks(analysed)
    if text:
        toks = respell(toks, text)
    out: list[Tok] = []
    for t in toks:
        if out and out[-1].form in PREFIXES and t.form == "맛" and out[-1].end == t.start:
            prev = out.pop()
            out.append(Tok(prev.form + "맛", "NNG", prev.start, t.end))
            continue
        if out and out[-1].form in INTENSIFIERS and out[-1].end == t.start and out[-1].tag in ("NNG", "MAG", "XPN"):
            out.pop()  # 개존맛 -> 존맛, 개적음 -> 적음
        out.append(t)
    return out


_DE_ETM = frozenset({"는", "ᆫ", "은", "던"})


def split_clauses(toks: list[Tok]) -> list[tuple[list[Tok], str]]:
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
                if nxt.form == "도" and paired_negation(toks[i + 2 : i + 8]):
                    continue  # 많지도 적지도 않다: one predicate
            if t.form in ("게", "도", "어", "아", "서") and nxt is not None and nxt.tag.startswith("V"):
                continue  # 빠르게 왔어요, 먹어 보다: one predicate
            if i > 0 and toks[i - 1].form in ("비하", "비교하"):
                continue  # "가격에 비해 적어요": a comparison, not a clause of its own
            boundary = "contrast" if (t.form in _CONTRAST or _CONTRAST_RE.search(t.form)) else "link"
        elif t.tag == "NNB" and t.form == "데" and i > 0 and toks[i - 1].tag == "ETM" and toks[i - 1].form in _DE_ETM:
            # "만족하는데 ..." read as 는/ETM + 데/NNB: the contrastive ending -는데, written attached; the
            # bound noun is written apart ("나오는 데 40분 걸렸어요") or takes a particle ("맛있는 데가 없어요")
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            if toks[i - 1].end == t.start and (nxt is None or not nxt.tag.startswith("J")):
                boundary = "contrast"
        if boundary:
            out.append((cur, boundary))
            cur = []
    if cur:
        out.append((cur, "sentence"))
    return out


def is_negated(toks: list[Tok], i: int) -> bool:
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
    if toks[i].tag == "NNG":
        # a noun cue, its particle if any, then 안/못 + 하다/되다: 만족 못 했어요, 돈값을 못 해요,
        # 반영이 안 됐어요
        rest = after[1:] if after and after[0].tag in ("JKS", "JKO", "JX") else after
        if len(rest) >= 2 and rest[0].form in ("안", "못") and rest[0].tag == "MAG":
            return rest[1].form in ("되", "하")
    for j, t in enumerate(after):
        if t.tag == "EC" and t.form == "지":
            rest = [x for x in after[j + 1 : j + 3] if x.tag != "JX"]  # 많지는 않다, 많진 않다
            if rest and rest[0].form in ("않", "못", "못하"):
                return True
            if j + 1 < len(after) and after[j + 1].form == "도" and paired_negation(toks[i + j + 3 : i + j + 9]):
                return True  # 많지도 적지도 않다: each of the pair is negated
        if t.tag == "VCN" and t.form == "아니":
            return True
        if t.tag in ("EF", "SF", "VA", "VV", "NNG", "XR", "MAG", "NNP") or (t.tag == "EC" and t.form != "지"):
            return False  # the negation after this belongs to another predicate
    return False


def subject_marker(t: Tok) -> bool:
    """이/가, 은/는: what makes the noun before it the subject or topic of the next predicate (도
    marks objects as often: "물도 안 채워 주세요")."""
    return t.tag == "JKS" or (t.tag == "JX" and t.form in ("은", "는", "ᆫ"))


def joined_by_do(toks: list[Tok], j: int) -> bool:
    """The aspect at ``j`` carries 도 ("맛도 양도"; the analyzer keeps 양도 as one noun)."""
    return (j + 1 < len(toks) and toks[j + 1].form == "도") or (len(toks[j].form) > 1 and toks[j].form.endswith("도"))


def paired_negation(toks: list[Tok]) -> bool:
    """The second half of "A지도 B지도 않다": a predicate, 지, 도, then 않/못."""
    for k in range(len(toks) - 2):
        if toks[k].form == "지" and toks[k].tag == "EC" and toks[k + 1].form == "도":
            return toks[k + 2].form in ("않", "못", "못하")
        if toks[k].tag in ("EF", "SF"):
            return False
    return False


def number_of(form: str) -> float | None:
    try:
        return float(form.replace(",", ""))
    except ValueError:  # "1.2.3", a version number: not a quantity
        return None


def durations_in(toks: list[Tok]) -> list[tuple[int, float, bool, bool]]:
    """(index, minutes, stressed with 이나, followed by 만에) of each duration in a clause."""
    out, i = [], 0
    while i < len(toks):
        total, j = 0.0, i
        while j + 1 < len(toks) and (toks[j].tag == "SN" or toks[j].form in _NUM_WORDS):
            n = number_of(toks[j].form) if toks[j].tag == "SN" else _NUM_WORDS[toks[j].form]
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


def cue_of(table: dict, form: str):
    """``table``'s entry for a lemma, also when the analyzer kept a derivational suffix on it
    (느끼하, 저렴하, 끈적거리, 부담스럽, 실망스럽 -> 느끼, 저렴, 끈적, 부담, 실망)."""
    if form in table:
        return table[form]
    for suffix in ("하", "거리", "스럽", "대", "되"):
        if form.endswith(suffix) and len(form) > len(suffix) and form[: -len(suffix)] in table:
            return table[form[: -len(suffix)]]
    return None


def cue_sign(cue, aspect: str | None):
    if isinstance(cue, dict):
        return cue.get(aspect, cue.get(None, 0))
    if isinstance(cue, tuple):
        return cue[1]
    return cue

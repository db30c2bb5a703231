"""Aspect mentions of a review, one reading per language: Korean through a morphological analysis
(``morph.py``: lemmas, clause boundaries, negation and contrast from Kiwi), any other text through
the English reading (``en_reading.py``: pysbd's sentences, VADER's polarity, the domain's aspect
terms and words).

Why a lexicon: a small LLM asked to *list* the aspects of a review returns nothing or invents
aspects (see issue 10: 65 % detection, over-detection of portion / service / atmosphere). A
lexicon is precise, free, and can run over every review of a restaurant, so aspect prevalence is
counted over the whole restaurant, not guessed from a few reviews. The LLM decides what the
lexicon cannot (see ``extract.py``).

Both readings give, per aspect of each clause, a polarity (positive / negative / neutral, or None:
undecided, the LLM's to decide), the clause as its quote (a substring of the review) and the
judgements that decided it (its reasons); :func:`detect` reduces them to one mention per aspect.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..aspects import ASPECTS
from .en_reading import Span, english_spans, rule_spans
from .ko_tokens import MAX_QUOTE_CHARS
from .morph import analyse_many, korean_spans
from .prompts import language_of


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


def _clause_found(text: str, analysed=None, learned: bool = True) -> list[Span]:
    """(aspect, polarity, offset, clause, after a contrast, reasons) per aspect of each clause, in
    order. ``learned``: English read with its learned model too (else by its rules alone)."""
    if _is_korean(text):
        return [
            (sp.aspect, sp.polarity, sp.start, text[sp.start : sp.end], sp.after_contrast, sp.reasons)
            for sp in korean_spans(text, analysed)
        ]
    return english_spans(text) if learned else rule_spans(text)


def _is_korean(text: str) -> bool:
    return language_of([text]) == "ko" and any("가" <= ch <= "힣" for ch in text)


def detect(text: str, analysed=None, learned: bool = True) -> list[Mention]:
    """Aspect mentions of a review: at most one per aspect. A decided clause wins over an
    undecided one, a positive or negative one over a neutral one, and the clause after a
    contrastive ending over the one before it ("소스는 맛있었지만 고기가 퍽퍽했어요"); two other
    decided clauses that disagree make the aspect undecided. ``analysed``: Kiwi's tokens of
    ``text`` when the caller analysed a batch (:func:`detect_many`). ``learned=False``: the
    aspects a text *names* (English by its rules alone, without the model's reading of what a
    sentence speaks of): what the checks of a written summary ask."""
    found: dict[str, Mention] = {}
    for aspect, pol, offset, clause, after_contrast, reasons in _clause_found(text or "", analysed, learned):
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
    """aspect -> decided polarity over a whole text, the aspects it names (used to check summaries
    against counts)."""
    return {m.aspect: m.polarity for m in detect(text, learned=False) if m.polarity is not None}

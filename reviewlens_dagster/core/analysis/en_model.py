"""The English reading's learned part: a multinomial logistic regression over a sentence's words,
trained on MAMS (English restaurant sentences with two or more aspects, each labelled with its
polarity; Apache-2.0, ``benchmarks/train_en_model.py``), shipped as its weights
(``data/en_aspects.json.gz``) and applied here in plain Python (no scikit-learn at run time).

For one sentence and one of the aspects MAMS labels (:data:`MODELLED`: 맛, 서비스, 분위기, 가격 read
coarsely: 가성비 is 가격's, 덤 서비스's) it gives the probabilities of ``absent`` (the sentence does
not speak of the aspect), ``positive``, ``negative`` and ``neutral`` (spoken of, judged neither
way). Its features are the sentence's words with their negation scope (a word after not / no /
never / n't, up to the next punctuation or three words, is read as ``NOT_word``), the same words
crossed with the aspect, the words of the aspect's own stretch that the rule reading found
(``en_reading``: the division and window of the sentence around the aspect's name) and VADER's
score of that stretch, binned. The rule reading's divisions say *where* an aspect is spoken of;
the model says *what* the sentence says of it, including what no lexicon names ("we waited 40
minutes for a table", "they forgot our drinks").
"""

from __future__ import annotations

import gzip
import json
import math
import re
from functools import lru_cache
from pathlib import Path

#: the weights: ``classes``, ``weights`` (feature -> one weight per class), ``bias``, ``provenance``
MODEL_PATH = Path(__file__).with_name("data") / "en_aspects.json.gz"
#: the aspects MAMS labels (its food, service + staff, ambience + place, price), in the coarse vocabulary
MODELLED = ("맛", "서비스", "분위기", "가격")
CLASSES = ("absent", "positive", "negative", "neutral")
#: the features' version: a model trained with another is refused (retrain it)
FEATURES_VERSION = 1

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'-]*|[0-9]+|[.,;:!?()]")
#: the words that negate what follows (with every "n't" form: :func:`negates`), for the model and the rules
NEGATORS = frozenset({"not", "no", "never", "nothing", "hardly", "barely", "without", "nor", "cannot", "neither"})
_PUNCT = frozenset(".,;:!?()")
#: how many words a negation reaches (or up to punctuation)
NEGATION_SCOPE = 3


def negates(word: str) -> bool:
    """Whether a lower-cased ``word`` negates what follows it (:data:`NEGATORS`, or an "n't" form)."""
    return word in NEGATORS or word.endswith("n't")


def tokens(text: str) -> list[str]:
    """Lower-cased words of ``text``, a word in a negation's scope prefixed ``NOT_``; no punctuation."""
    out, scope = [], 0
    for t in _TOKEN.findall(text.lower()):
        if t in _PUNCT:
            scope = 0
            continue
        if negates(t):
            out.append(t)
            scope = NEGATION_SCOPE
            continue
        out.append(f"NOT_{t}" if scope else t)
        scope = max(0, scope - 1)
    return out


def _vader_bin(compound: float | None) -> str:
    if compound is None:
        return "none"
    if compound <= -0.5:
        return "neg2"
    if compound < -0.05:
        return "neg1"
    if compound >= 0.5:
        return "pos2"
    return "pos1" if compound > 0.05 else "zero"


def features(sentence: str, aspect: str, stretches: list[str], vader: float | None) -> list[str]:
    """The features of ``aspect`` in ``sentence`` (module docstring): ``stretches`` are the rule
    reading's quotes of the aspect in the sentence (none: it names the aspect nowhere), ``vader``
    VADER's compound score of the first (None: no stretch)."""
    words = tokens(sentence)
    out = [f"a={aspect}", f"{aspect}|found={bool(stretches)}", f"{aspect}|vader={_vader_bin(vader)}"]
    out += [f"w={w}" for w in words]
    out += [f"{aspect}|w={w}" for w in words]
    out += [f"{aspect}|b={a}_{b}" for a, b in zip(words, words[1:])]
    for stretch in stretches:
        near = tokens(stretch)
        out += [f"s={w}" for w in near]
        out += [f"{aspect}|s={w}" for w in near]
    return out


@lru_cache(maxsize=1)
def model() -> dict:
    """The shipped weights (read once); refused when built for other features."""
    with gzip.open(MODEL_PATH, "rt", encoding="utf-8") as f:
        m = json.load(f)
    if m["features_version"] != FEATURES_VERSION or tuple(m["classes"]) != CLASSES:
        raise ValueError(f"{MODEL_PATH} was trained for other features: run benchmarks/train_en_model.py")
    return m


def probabilities(feats: list[str]) -> dict[str, float]:
    """Each class's probability for one (sentence, aspect)'s features (softmax of the weights' sums)."""
    m = model()
    scores = list(m["bias"])
    weights = m["weights"]
    for f in feats:
        w = weights.get(f)
        if w is not None:
            for i, x in enumerate(w):
                scores[i] += x
    top = max(scores)
    exp = [math.exp(s - top) for s in scores]
    total = sum(exp)
    return {c: e / total for c, e in zip(CLASSES, exp)}

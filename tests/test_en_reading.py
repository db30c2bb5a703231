"""The English reading: its rules (pysbd + VADER + the domain's terms: each judgement on the aspect
it is about) and its learned model (trained on MAMS) on top of them."""

from __future__ import annotations

import gzip
import json

import pytest

from reviewlens_dagster.core.analysis import en_model
from reviewlens_dagster.core.analysis.en_reading import parts, sentences
from reviewlens_dagster.core.analysis.lexicon import detect


def pol(text: str) -> dict:
    """What the rules read (the learned model's part is tested below)."""
    return {m.aspect: m.polarity for m in detect(text, learned=False)}


def read(text: str) -> dict:
    """What the product reads: the rules, then the model."""
    return {m.aspect: m.polarity for m in detect(text)}


@pytest.mark.parametrize(
    "text, expected",
    [
        # a contrast: each side its own aspect
        ("The food was great but the service was slow", {"맛": "positive", "서비스": "negative"}),
        ("The staff were rude but the food was delicious", {"서비스": "negative", "맛": "positive"}),
        # one sentence, two aspects joined by "and" / a comma: divided at the join
        ("Great food and terrible service.", {"맛": "positive", "서비스": "negative"}),
        (
            "Delicious pizza, friendly staff, a bit pricey.",
            {"맛": "positive", "서비스": "positive", "가격": "negative"},
        ),
        # negation, in VADER's window
        ("The waiter was not friendly at all.", {"서비스": "negative"}),
        ("The prices are not bad for the area.", {"가격": "positive"}),
        # the middle
        ("The food was okay, nothing special.", {"맛": "neutral"}),
        # idioms read as what they mean
        ("Our waitress took forever.", {"서비스": "negative"}),
        ("The dessert left much to be desired.", {"맛": "negative"}),
        ("We waited over an hour for the delivery.", {"배달": "negative"}),
        # the words after a comma do not cancel the judgement of the aspect's own phrase
        ("The service was awful, even surely.", {"서비스": "negative"}),
        # an aspect named without a judgement: undecided (the LLM's); a dish named without one: no mention
        ("We asked the waiter about the specials.", {"서비스": None}),
        ("We ordered the pasta and two glasses of wine.", {}),
        # a judgement word that names its aspect
        ("Way overpriced.", {"가격": "negative"}),
        ("Cozy and quiet.", {"분위기": "positive"}),
        # praise and complaints VADER's lexicon lacks, added as the domain's words
        ("The service was impeccable.", {"서비스": "positive"}),
        ("The steak was rubbery.", {"맛": "negative"}),
        # a duration it took is slow, as a wait is
        ("Ordered delivery and it took 70 minutes.", {"배달": "negative"}),
        # adjectives judged by the noun they qualify: a low price is good, a long wait or small portion bad
        ("Low prices for the area.", {"가격": "positive"}),
        ("Be prepared for a long wait.", {"대기시간": "negative"}),
        ("Small portions.", {"양": "negative"}),
        ("Huge portions!", {"양": "positive"}),
        # a word that judges only the food names it where the dish is no term of the lexicon
        ("Al pastor is juicy.", {"맛": "positive"}),
        # expectations let down; food safety
        ("For the price I expected more.", {"가격": "negative"}),
        ("Found a hair in my quesadilla.", {"맛": "negative"}),
        # what the staff failed to do, said without naming them
        ("They messed up our order.", {"서비스": "negative"}),
        ("Nobody greeted us for ten minutes.", {"서비스": "negative"}),
        # the food judged by its time alone is the wait's; its temperature or doneness stays the food's
        ("Our food took forever to come out.", {"대기시간": "negative"}),
        ("The chicken was raw in the middle.", {"맛": "negative"}),
        ("The food was cold by the time it arrived.", {"맛": "negative"}),
        # a verdict on "this place" is the restaurant as a whole, not its room; a judged room stays
        ("Love this place!", {}),
        ("Highly recommend this spot.", {}),
        ("The place is cramped.", {"분위기": "negative"}),
    ],
)
def test_each_judgement_goes_to_its_aspect(text, expected):
    assert pol(text) == expected
    for m in detect(text, learned=False) + detect(text):
        assert text[m.start : m.start + len(m.quote)] == m.quote  # the quote is the review's own text


def test_reasons_are_the_judging_words_with_their_negation():
    text = "The waiter was not friendly. Slow delivery, and the fries were soggy."
    by = {m.aspect: m.reasons for m in detect(text, learned=False)}
    assert by["서비스"] == ("not friendly",)
    assert by["배달"] == ("slow",) and by["맛"] == ("soggy",)


def test_sentences_and_contrast_parts_are_substrings():
    text = "Dr. Kim's place is great! The food, however, was cold; the staff was nice."
    assert [s for _, s in sentences(text)] == [
        "Dr. Kim's place is great!",
        "The food, however, was cold; the staff was nice.",
    ]
    got = parts(text)
    assert all(text[o : o + len(p)] == p for o, p, _ in got)
    assert [after for _, _, after in got] == [False, False, True, True]


def test_a_korean_review_is_still_read_by_the_korean_reading():
    assert pol("맛은 좋은데 배달이 너무 늦었어요") == {"맛": "positive", "배달": "negative"}


def test_the_shipped_model_is_mams_trained_and_gives_probabilities():
    with gzip.open(en_model.MODEL_PATH, "rt", encoding="utf-8") as f:
        meta = json.load(f)["provenance"]
    assert "MAMS ACSA train" in meta["data"] and "sha256" in meta["data"]
    p = en_model.probabilities(en_model.features("The food was great.", "맛", ["The food was great"], 0.6))
    assert set(p) == set(en_model.CLASSES) and abs(sum(p.values()) - 1) < 1e-9
    assert p["positive"] == max(p.values())
    absent = en_model.probabilities(en_model.features("The food was great.", "가격", [], None))
    assert absent["absent"] > 0.5  # a sentence about the food does not speak of the price


def test_negation_reaches_the_next_words_up_to_punctuation():
    assert en_model.tokens("Not good, but the fries weren't soggy at all!") == [
        "not",
        "NOT_good",
        "but",
        "the",
        "fries",
        "weren't",
        "NOT_soggy",
        "NOT_at",
        "NOT_all",
    ]


def test_a_model_built_for_other_features_is_refused(tmp_path, monkeypatch):
    bad = tmp_path / "m.json.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as f:
        json.dump({"features_version": en_model.FEATURES_VERSION + 1, "classes": list(en_model.CLASSES)}, f)
    monkeypatch.setattr(en_model, "MODEL_PATH", bad)
    en_model.model.cache_clear()
    try:
        with pytest.raises(ValueError, match="train_en_model"):
            en_model.model()
    finally:
        en_model.model.cache_clear()


@pytest.mark.parametrize(
    "text, expected",
    [
        # what no lexicon names: the staff's failings said without a judging word of the staff
        ("Our server never checked on us once.", {"서비스": "negative"}),
        # the rules' readings the model agrees with stand
        ("The food was great but the service was slow", {"맛": "positive", "서비스": "negative"}),
        ("Food was okay, nothing special.", {"맛": "neutral"}),
        ("Best burger in town, friendly staff.", {"맛": "positive", "서비스": "positive"}),
        # a wait of the delivery is the delivery's, never also the staff's (en_reading.FOLDED)
        ("We waited over an hour for the delivery.", {"배달": "negative"}),
        # no neutral taste made of a sentence about the staff (NEUTRAL_PRESENT_AT)
        ("Our waitress took forever.", {"서비스": "negative"}),
        # an aspect alone in its sentence keeps the rules' judgement (no other aspect's words to borrow)
        ("Great value for money.", {"가성비": "positive"}),
        ("Way too expensive.", {"가격": "negative"}),
    ],
)
def test_the_learned_model_on_top_of_the_rules(text, expected):
    assert read(text) == expected


def test_a_quote_ends_where_its_phrase_ends():
    """The judged window is a few words around the aspect's name; the quote a reader sees runs to the
    phrase's punctuation when it is near, so evidence is never cut mid-phrase."""
    text = "Great food, cozy room. We waited 25 minutes for a table even with a reservation, which was annoying."
    quotes = {m.aspect: m.quote for m in detect(text)}
    assert quotes["대기시간"] == "We waited 25 minutes for a table even with a reservation"
    assert quotes["맛"] == "Great food" and quotes["분위기"] == "cozy room"  # each aspect its own division

"""The English reading (pysbd + VADER + the domain's terms): each judgement on the aspect it is about."""

from __future__ import annotations

import pytest

from reviewlens_dagster.core.analysis.en_reading import parts, sentences
from reviewlens_dagster.core.analysis.lexicon import detect


def pol(text: str) -> dict:
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
    ],
)
def test_each_judgement_goes_to_its_aspect(text, expected):
    assert pol(text) == expected
    for m in detect(text):
        assert text[m.start : m.start + len(m.quote)] == m.quote  # the quote is the review's own text


def test_reasons_are_the_judging_words_with_their_negation():
    by = {m.aspect: m.reasons for m in detect("The waiter was not friendly. Slow delivery, and the fries were soggy.")}
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

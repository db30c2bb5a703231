"""The aspect lexicon: Korean through Kiwi's morphology (English: tests/test_en_reading.py)."""

import pytest

from reviewlens_dagster.core.analysis.ko_lexicon import SLOW_MINUTES
from reviewlens_dagster.core.analysis.ko_tokens import kiwi
from reviewlens_dagster.core.analysis.lexicon import detect, detect_many


def pol(text: str) -> dict[str, str | None]:
    return {m.aspect: m.polarity for m in detect(text)}


@pytest.mark.parametrize(
    "text, aspect, expected",
    [
        # a stem in any conjugation is one entry
        ("배달이 빨랐어요", "배달", "positive"),
        ("배달 빠르게 왔네요", "배달", "positive"),
        ("배달이 진짜 느렸어요", "배달", "negative"),
        ("튀김이 눅눅해졌어요", "맛", "negative"),
        # spelling slips and colloquial forms
        ("맛잇어요 ㅎㅎ", "맛", "positive"),
        ("존맛 또 시킬게요", "맛", "positive"),
        ("맛이 별루예요", "맛", "negative"),
        # negation from the analysis
        ("양이 많진 않아요", "양", "negative"),
        ("가격이 비싸지 않아서 좋아요", "가격", "positive"),
        ("직원이 친절하지는 않았어요", "서비스", "negative"),
        ("직원분들이 불친절해요", "서비스", "negative"),
        # neutral, defined
        ("가격은 무난해요", "가격", "neutral"),
        ("양은 적당했어요", "양", "neutral"),
        ("맛은 나쁘지 않아요", "맛", "neutral"),
        # durations
        ("배달이 한 시간 넘게 걸렸어요", "배달", "negative"),
        ("주문하고 20분 만에 왔어요", "배달", "positive"),
        # the rider's manner is the delivery's, not the restaurant's service
        ("기사님이 친절하셨어요", "배달", "positive"),
        # a subject takes its predicate: 적다 is about 양, not about the price it is compared with
        ("양이 가격에 비해 적어요", "양", "negative"),
        # English stays on the surface patterns
        ("The staff were rude but the food was delicious", "서비스", "negative"),
    ],
)
def test_korean_morphology_and_english_patterns(text, aspect, expected):
    assert pol(text).get(aspect, "MISSING") == expected


def test_contrast_keeps_each_clause_its_own_aspect_and_the_later_judgement_stands():
    got = pol("서비스는 친절했으나 음식이 별로였어요")
    assert got == {"맛": "negative", "서비스": "positive"}
    assert pol("맛은 좋은데 양이 적어요") == {"맛": "positive", "양": "negative"}
    # the same aspect judged twice across a contrast: the clause after -지만 stands
    assert pol("소스는 맛있었지만 고기가 퍽퍽했어요")["맛"] == "negative"


def test_durations_around_the_threshold_and_a_mention_without_judgement():
    assert pol(f"배달 {SLOW_MINUTES + 10}분 걸렸어요")["배달"] == "negative"
    assert pol("배달은 40분쯤 걸렸어요")["배달"] == "neutral"  # between the bounds: the middle
    # a mention with no judgement is undecided (the LLM's), not neutral
    assert pol("가격은 2만원이에요") == {"가격": None}


def test_quotes_are_substrings_and_batches_equal_single_calls():
    texts = ["사장님이 친절하고 양도 많아요!! ㅋㅋ", "배달이 늦어서 다 식었어요", "Great pizza, slow service", ""]
    batch = detect_many(texts)
    assert batch == [detect(t) for t in texts]
    for text, mentions in zip(texts, batch):
        for m in mentions:
            assert m.quote and m.quote in text and text[m.start : m.start + len(m.quote)] == m.quote


def test_the_analyzer_keeps_the_lexicon_words_whole():
    forms = [t.form for t in kiwi().tokenize("발렛 돼서 편해요", typos="basic")]
    assert "발렛" in forms


def test_any_text_is_read_without_error():
    """Random strings of Hangul, jamo, digits, punctuation and emoji: mentions or none, never a crash."""
    import random

    rng = random.Random(3)
    alphabet = "맛양가격배달서비스친절안못지않는데ㅋㅎㅠ 0123456789,.!?~시간분만에😀abc\n"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60)))
        for m in detect(text):
            assert m.quote in text


@pytest.mark.parametrize(
    "text, expected",
    [
        # a judged dish is the taste's; a dish named without a judgement is no mention
        ("떡볶이가 너무 퍽퍽해요", {"맛": "negative"}),
        ("치킨 두 마리 시켰어요", {}),
        # a quantity predicate of a dish or a sauce is the quantity's
        ("소스가 너무 적게 왔어요", {"양": "negative"}),
        # ... but not of another subject: 많다 is said of 평 here
        ("국물이 맛있다는 평이 많아요", {"맛": "positive"}),
        # what happened to the food on the way is the delivery's
        ("국물이 다 새서 왔어요", {"배달": "negative"}),
        # both halves of "A지도 B지도 않다" are negated: the middle
        ("양이 많지도 적지도 않아요", {"양": "neutral"}),
        ("친절하지도 불친절하지도 않아요", {"서비스": "neutral"}),
        ("맛은 호불호 갈릴 것 같아요", {"맛": "neutral"}),
        # the aspect excepted is the complaint
        ("가격만 빼면 다 좋아요", {"가격": "negative"}),
        # slang glued to an intensifier is read without it; a word that only starts like one is not
        ("가격 개비쌈", {"가격": "negative"}),
        ("개인적으로 맛있어요", {"맛": "positive"}),
        # a noun cue keeps its aspect through 하다 and its negation
        ("친절하지는 않았어요", {"서비스": "negative"}),
        # nothing special, like the others: the middle
        ("서비스는 특별한 건 없었어요", {"서비스": "neutral"}),
        ("가격은 동네 다른 곳이랑 같아요", {"가격": "neutral"}),
        # the judgement after a contrast stands through the clauses linked to it
        ("처음엔 맛있었는데 먹다 보니 느끼해요", {"맛": "negative"}),
        # -ㄴ데 after a vowel (비싼데: the analyzer writes ᆫ데) is a contrast too
        # the price level and the value apart: expensive, and worth it
        ("가격은 비싼데 그만한 가치가 있어요", {"가격": "negative", "가성비": "positive"}),
        # a noun cue, its particle, then 못/안 하다: negated (돈값 못 해요, 만족 못 했어요)
        ("서비스는 만족 못 했어요", {"서비스": "negative"}),
        ("돈값을 못 하네요", {"가성비": "negative"}),  # worth the price: the value's
        ("가격은 있지만 돈값은 해요", {"가격": None, "가성비": "positive"}),
        ("빨리 오긴 했는데 다 식어 있었어요", {"배달": "negative"}),
        # 있다 after a price is not "pricey" unless said of the price
        ("가격도 괜찮고 재방문 의사 있어요", {"가격": "positive"}),
        ("가격이 좀 있어요", {"가격": "negative"}),
    ],
)
def test_general_rules_of_the_korean_reading(text, expected):
    assert pol(text) == expected


@pytest.mark.parametrize(
    "text, aspect, expected",
    [
        # change against an earlier visit: a complaint of the aspect it is said of
        ("요즘 짬뽕 맛이 변했네요", "맛", "negative"),
        ("처음이랑 맛이 너무 달라요", "맛", "negative"),
        ("원래 양이 이게 아니었는데요", "양", "negative"),
        ("맛이 하나도 안 변했어요 여전해요", "맛", "positive"),  # unchanged: negated change
        # meh without a judgement word
        ("양도 그렇네요", "양", "negative"),
        ("짬뽕 국물이 밋밋했어요", "맛", "negative"),
        ("맛은 그냥 그래요", "맛", "neutral"),  # the middle alone stays the middle
        ("맛은 그냥 그래요 재주문은 안 할 듯", "맛", "negative"),  # ... not when followed by no reorder
        # food safety
        ("돈가스 고기가 상했어요", "맛", "negative"),
        ("탕수육에서 비닐이 나왔어요", "맛", "negative"),
        ("만두가 덜 익었어요", "맛", "negative"),
        # a sentence turned by a conjunction stands
        ("배달 빨라요. 근데 국물이 다 새서 왔어요", "배달", "negative"),
        # a surface cue negated on the surface
        ("요청사항 하나도 안 들어주셨어요", "서비스", "negative"),
        # 줄다 is a verb, not the queue; -는데 read as a noun is still a contrast when attached
        ("양이 많이 줄었어요", "대기시간", None),
        ("평소엔 만족하는데 오늘 치킨은 너무 퍽퍽했어요", "맛", "negative"),
        ("음식 나오는 데 10분 만에 나왔어요", "대기시간", "positive"),
        # 서비스 said of something given is the free extra, of the staff otherwise
        ("서비스로 만두 주셨어요", "덤", "positive"),
        ("리뷰이벤트 서비스가 안 왔네요", "덤", "negative"),
        ("서비스가 너무 불친절해요", "서비스", "negative"),
        ("서비스로 만두 주셨어요", "서비스", None),
        # the price as the reference of a comparison is the value, not the price level
        ("가격 대비 구성이 알차요", "가성비", "positive"),
        ("이 가격에 이 맛이면 만족해요", "가격", None),
        ("돈이 아까워요", "가성비", "negative"),
        ("가격이 착해요", "가격", "positive"),
    ],
)
def test_real_complaints_as_mechanisms_of_korean(text, aspect, expected):
    got = pol(text)
    assert got.get(aspect, None) == expected, got

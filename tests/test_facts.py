"""The summary claim check against each kind of unsupported claim seen in real LLM summaries
(issue 27), written as the model wrote them; and the right wordings it must let through."""

import pytest

from reviewlens_dagster.core.analysis.facts import Fact, checked_sentences, claim_problems

TASTE = Fact(
    "F2",
    "strength",
    "맛: 언급한 리뷰 120개 중 103개 긍정 (86%). 이유: 맛있다 60, 바삭하다 12.",
    aspect="맛",
    polarity="positive",
    share=0.86,
    reasons=("맛있다", "바삭하다"),
    evidence=("치킨이 바삭하고 맛있어요",),
)
DELIVERY = Fact(
    "F3",
    "strength",
    "배달: 언급한 리뷰 40개 중 36개 긍정 (90%). 이유: 빠르다 21, 따뜻하다 8.",
    aspect="배달",
    polarity="positive",
    share=0.9,
    reasons=("빠르다", "따뜻하다"),
)
PORTION = Fact(
    "F4",
    "complaint",
    "양: 리뷰 300개 중 12개에서 불만 (4.0%). 이유: 적다 9.",
    aspect="양",
    polarity="negative",
    share=0.04,
    reasons=("적다",),
)
VALUE = Fact(
    "F5",
    "strength",
    "가성비: 언급한 리뷰 22개 중 20개 긍정 (91%). 이유: 싸다 10.",
    aspect="가성비",
    polarity="positive",
    share=0.91,
    reasons=("싸다",),
)
DISHES = {"떡볶이", "양념치킨", "치킨"}
#: an English restaurant's fact: its reasons named in English (counted as 싱겁다 and overcooked)
EN_TASTE = Fact(
    "F3",
    "complaint",
    "taste: complaints in 3 of 12 reviews (25.0%). Reasons: overcooked 2, bland 1.",
    aspect="맛",
    polarity="negative",
    share=0.25,
    reasons=("overcooked", "bland"),
    evidence=("The fish was overcooked and dry",),
)


@pytest.mark.parametrize(
    "fact, sentence, why",
    [
        (TASTE, "맛은 모든 리뷰에서 긍정적인 평가를 받았습니다.", "totality"),
        (TASTE, "All reviews praised the taste.", "totality"),
        (TASTE, "맛은 항상 좋다는 평입니다.", "totality"),
        (TASTE, "맛이 좋지만 가격이 비싸다는 불만도 있습니다.", "names 가격"),
        (TASTE, "맛있고, 웨이팅이 길다는 의견도 있었어요.", "names 대기시간"),
        (TASTE, "맛이 좋고 매장도 깨끗하다는 평가가 많습니다.", "names 청결"),
        (TASTE, "맛으로 잘 알려진 집입니다.", "fame"),
        (TASTE, "This place is well known for its taste.", "fame"),
        (TASTE, "이 동네에서 인기 있는 맛집입니다.", "fame"),
        (DELIVERY, "배달이 정확하다는 평이 많습니다.", "reason"),
        (TASTE, "저희는 떡볶이를 맛있게 먹었어요.", "reviewer"),
        (TASTE, "We ate tasty tteokbokki.", "reviewer"),
        (PORTION, "일부는 양이 너무 많다고 했고, 이는 서비스에 대한 불만을 보여줍니다.", "names 서비스"),
        (TASTE, "맛은 리뷰 120개 중 110개가 긍정이었습니다.", "states 110"),
        (TASTE, "특히 양념치킨이 맛있다는 평이 많아요.", "dish"),
        (PORTION, "양을 늘리도록 개선이 필요합니다.", "advice"),
        (PORTION, "양이 많다는 칭찬이 많습니다.", "praises"),
        (DELIVERY, "언급한 리뷰의 90%가 좋게 평가했습니다.", "does not name"),
        (DELIVERY, "90% of the reviews that mention it are positive.", "does not name"),
        # an English sentence's describing word that no count gives (a real CPU summary's "spicy")
        (EN_TASTE, "The reason is that the food was overcooked, bland, and spicy.", "reason"),
    ],
)
def test_claims_no_count_supports_are_rejected(fact, sentence, why):
    problems = claim_problems(sentence, fact, DISHES)
    assert problems, sentence
    words = {
        "totality": "totality",
        "fame": "fame",
        "reason": "the reason",
        "reviewer": "reviewer",
        "dish": "a dish",
        "advice": "advice",
        "praises": "reads as positive",
    }
    want = words.get(why, why).split(" ")
    assert any(all(w in p for w in want) for p in problems), problems


@pytest.mark.parametrize(
    "fact, sentence",
    [
        (TASTE, "맛은 언급한 리뷰 120개 중 103개가 긍정적이었고(86%), 주로 맛있고 바삭하다는 평입니다."),
        (TASTE, "Most reviews that mention the taste are positive (86%)."),
        (DELIVERY, "배달은 언급한 리뷰의 90%가 좋게 평가했고, 빠르고 따뜻하게 온다는 이유가 많았습니다."),
        (PORTION, "전체 리뷰 300개 중 12개(4%)에서 양이 적다는 불만이 나왔습니다."),
        (PORTION, "양이 적다는 불만이 있으니 양을 늘리는 것을 고려해 볼 만합니다."),
        (DELIVERY, "라이더분들이 빠르고 따뜻하게 가져다준다는 평이 90%입니다."),
        (DELIVERY, "Delivery: 90% of the reviews that mention it are positive, mostly for being fast."),
        # no figure: the aspect may be named by the words that judge it (the reading finds it)
        (VALUE, "완전 혜자예요."),
        (
            EN_TASTE,
            "A quarter of the reviews (25.0%) complain about the taste, mostly that it was overcooked or bland.",
        ),
        (EN_TASTE, "Complaints about the taste come up in 3 of 12 reviews, the food overcooked in 2."),
    ],
)
def test_right_wordings_pass(fact, sentence):
    assert claim_problems(sentence, fact, DISHES) == []


def test_only_the_failing_sentence_gives_way_to_its_template():
    facts = [Fact("F1", "overall", "리뷰 300개입니다."), TASTE, DELIVERY]
    pairs = [("F2", "맛은 모든 리뷰에서 칭찬받았습니다."), ("F3", "배달은 90%가 긍정적이었습니다.")]
    sentences, notes = checked_sentences(pairs, facts, DISHES)
    assert [src for _, _, src in sentences] == ["template", "template", "llm"]  # F1 was not worded: its template
    assert sentences[1][1] == TASTE.template and sentences[2][1] == "배달은 90%가 긍정적이었습니다."
    assert len(notes) == 1 and notes[0].startswith("F2 replaced by its template")


def test_a_summary_with_a_dish_fact_passes_the_read_back_and_the_blocking_checks():
    """Seen in `make run`: the template sentence of a trailing dish ("맛·양 불만 54%") was read back as a
    share of 맛 and replaced the whole summary. The sheet's own sentences are facts, not claims."""
    import json

    import pandas as pd

    from reviewlens_dagster.core.analysis.checks import summary_checks
    from reviewlens_dagster.core.analysis.prevalence import aspect_prevalence, highlights
    from reviewlens_dagster.core.analysis.summarize import build_briefs, restaurant_facts, write_summaries
    from tests.doubles import DoubleBackend, fact_sentences
    from tests.test_analysis_core import _mentions, _runner

    rows = [("r", f"v{i}", "맛", "negative", "짜요") for i in range(8)] + [("r", "v9", "맛", "positive", "맛있어요")]
    men = _mentions(rows)
    prev = aspect_prevalence(men, {"r": 20})
    hl = highlights(prev, men)
    dishes = pd.DataFrame(
        [
            {
                "restaurant_id": "r",
                "item": "김치찌개",
                "reviews": 8,
                "complaint_share": 0.54,
                "others_reviews": 12,
                "others_complaint_share": 0.05,
                "position": "trails",
                "top_reasons": ["맛: 짜다 6"],
                "review_ids": ["v1"],
            }
        ]
    )
    reviews = pd.DataFrame(
        {"restaurant_id": "r", "review_id": [f"v{i}" for i in range(20)], "text": "짜요", "rating": 2.0}
    )
    facts = restaurant_facts(reviews, hl, pd.DataFrame(columns=["restaurant_id"]), dishes)
    assert "김치찌개: 맛·양 불만 54%" in " ".join(facts["template"])
    top = pd.DataFrame({"restaurant_id": ["r"], "rank": [1], "review_id": ["v0"], "text": ["짜요"]})
    briefs = build_briefs(prev, hl, top, {"r": 20}, facts=facts)
    answer = lambda req: json.dumps({"sentences": fact_sentences(req)}, ensure_ascii=False)  # noqa: E731
    out = write_summaries(briefs, prev, hl, _runner(DoubleBackend(answers={"*": answer})), None, "d")
    overall = out.summaries[out.summaries["kind"] == "overall"].iloc[0]
    assert overall["source"] == "llm" and "김치찌개" in overall["text"], overall["note"]
    checks = summary_checks(out.summaries, reviews, prev, hl, facts)
    for name in ("summaries_claims_supported", "summaries_numbers_match_counts", "summaries_agree_with_counts"):
        assert checks[name].passed, (name, checks[name].metadata)


def test_the_group_position_and_a_change_are_facts_with_their_figures():
    import pandas as pd

    from reviewlens_dagster.core.analysis.facts import fact_sheet

    comps = pd.DataFrame(
        [
            {"aspect": "배달", "positive_share": 0.42, "group_median": 0.81, "percentile": 0.1, "group_size": 12},
            {"aspect": "맛", "positive_share": 0.8, "group_median": 0.8, "percentile": 0.5, "group_size": 12},
        ]
    )
    changes = pd.DataFrame(
        [
            {
                "aspect": "배달",
                "status": "rose",
                "previous_share": 0.05,
                "recent_share": 0.3,
                "previous_reviews": 40,
                "recent_reviews": 30,
            }
        ]
    )
    empty = pd.DataFrame(columns=["restaurant_id", "polarity"])
    sheet = fact_sheet("r", 70, 4.1, empty, pd.DataFrame(), pd.DataFrame(), "ko", comps, changes)
    kinds = {f.kind: f for f in sheet}
    assert set(kinds) == {"overall", "group_bottom", "change_rose"}  # 맛 in the middle of its group: no fact
    low = kinds["group_bottom"]
    assert "가게 12곳" in low.template and "하위 25%" in low.template
    assert claim_problems("배달 긍정 비율은 42%로, 비교 그룹 중앙값 81%보다 낮습니다.", low) == []
    assert claim_problems("배달 긍정 비율은 42%로 그룹에서 꼴찌입니다. 주차도 불편합니다.", low)
    rose = kinds["change_rose"]
    assert claim_problems("최근 배달 불만이 5%에서 30%로 늘었습니다.", rose) == []
    assert claim_problems("최근 배달 불만이 5%에서 45%로 늘었습니다.", rose)

"""The aspect vocabulary shared by the sample data, the lexicon, prompts, strengths and evaluation,
with each aspect's name in the restaurant's language (the key is the Korean name).

Which words name each aspect lives in ``analysis/lexicon.py``.
"""

from __future__ import annotations

ASPECTS: tuple[str, ...] = (
    "맛",
    "양",
    "가격",
    "가성비",
    "서비스",
    "덤",
    "청결",
    "분위기",
    "배달",
    "대기시간",
    "주차",
)

#: what each aspect means (docs/analysis.md "Aspects"): 서비스 is the staff, 덤 the free extras the Korean
#: word 서비스 also names ("서비스로 음료 주셨어요"); 가격 is the price level, 가성비 what one gets for it
#: ("가격 대비 맛있어요": the price as the reference of a comparison)
DEFINITIONS: dict[str, str] = {
    "맛": "the food: taste, texture, temperature as served, freshness and food safety",
    "양": "the portion: quantity for one order",
    "가격": "the price level: cheap, expensive, a price rise",
    "가성비": "value for money: what one gets for the price (가성비, 가격 대비, 이 가격에, 돈 아깝다)",
    "서비스": "the staff: kindness, manner, requests handled",
    "덤": "free extras given with the order (서비스로 준 음료, 덤)",
    "청결": "cleanliness and hygiene of the place",
    "분위기": "the place: ambience, interior, noise",
    "배달": "the delivery: time, packaging, what arrived spilled, cold or missing",
    "대기시간": "waiting in the restaurant: queue, time until the food comes",
    "주차": "parking",
}

#: the vocabulary before 가성비 and 덤 were told apart from 가격 and 서비스 (2026-12-04): the sample
#: data's ground truth is written in it, so its evaluation reads each aspect as its coarse one
COARSE: dict[str, str] = {"가성비": "가격", "덤": "서비스"}
SAMPLE_ASPECTS: tuple[str, ...] = ("맛", "양", "가격", "서비스", "청결", "분위기", "배달", "대기시간", "주차")

#: what an English restaurant's texts, report and CLI block call each aspect
ENGLISH_NAMES: dict[str, str] = {
    "맛": "taste",
    "양": "portion",
    "가격": "price",
    "가성비": "value for money",
    "서비스": "service",
    "덤": "freebies",
    "청결": "cleanliness",
    "분위기": "atmosphere",
    "배달": "delivery",
    "대기시간": "waiting time",
    "주차": "parking",
}


def aspect_name(aspect: str, lang: str) -> str:
    """The aspect as a reader of ``lang`` reads it: the Korean key for Korean, its English name for English."""
    return ENGLISH_NAMES.get(aspect, aspect) if lang == "en" else aspect

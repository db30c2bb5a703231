"""The aspect vocabulary shared by the sample data, the lexicon, prompts, strengths and evaluation,
with each aspect's name in the restaurant's language (the key is the Korean name).

Which words name each aspect lives in ``analysis/lexicon.py``.
"""

from __future__ import annotations

ASPECTS: tuple[str, ...] = ("맛", "양", "가격", "서비스", "청결", "분위기", "배달", "대기시간", "주차")

#: what an English restaurant's texts, report and CLI block call each aspect
ENGLISH_NAMES: dict[str, str] = {
    "맛": "taste",
    "양": "portion",
    "가격": "price",
    "서비스": "service",
    "청결": "cleanliness",
    "분위기": "atmosphere",
    "배달": "delivery",
    "대기시간": "waiting time",
    "주차": "parking",
}


def aspect_name(aspect: str, lang: str) -> str:
    """The aspect as a reader of ``lang`` reads it: the Korean key for Korean, its English name for English."""
    return ENGLISH_NAMES.get(aspect, aspect) if lang == "en" else aspect

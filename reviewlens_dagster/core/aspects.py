"""The aspect vocabulary shared by the sample data, prompts, strengths and evaluation."""

from __future__ import annotations

ASPECTS: tuple[str, ...] = ("맛", "양", "가격", "서비스", "청결", "분위기", "배달", "대기시간", "주차")

#: free-text words (Korean and English) mapped to the vocabulary
ASPECT_SYNONYMS: dict[str, str] = {
    "taste": "맛", "flavor": "맛", "food": "맛", "음식": "맛", "맛있": "맛", "국물": "맛",
    "portion": "양", "portions": "양", "quantity": "양", "양이": "양",
    "price": "가격", "value": "가격", "가성비": "가격", "비싸": "가격",
    "service": "서비스", "staff": "서비스", "친절": "서비스", "직원": "서비스", "사장님": "서비스",
    "clean": "청결", "cleanliness": "청결", "hygiene": "청결", "위생": "청결", "깨끗": "청결",
    "atmosphere": "분위기", "ambience": "분위기", "interior": "분위기", "인테리어": "분위기",
    "delivery": "배달", "포장": "배달",
    "wait": "대기시간", "waiting": "대기시간", "웨이팅": "대기시간", "대기": "대기시간", "speed": "대기시간",
    "parking": "주차", "주차장": "주차",
}


def normalize_aspect(value: str) -> str | None:
    """Map a free-text aspect to the vocabulary, or None if nothing matches."""
    v = (value or "").strip().lower()
    if not v:
        return None
    for a in ASPECTS:
        if v == a or a in v:
            return a
    for word, aspect in ASPECT_SYNONYMS.items():
        if word in v:
            return aspect
    return None

"""Output schemas: JSON schema for guided decoding, pydantic models for validation.

Text lengths are bounded in the schema itself, so guided decoding must close every string:
a small model that would ramble until ``max_tokens`` (and emit broken JSON) cannot. The
validators fold whitespace and cap the text again.
Evidence ids are restricted, in the schema itself, to the aliases (R1..Rk) of the restaurant's
TOP-K context, and validated again after decoding: a summary can only cite reviews it was given.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import BaseModel, Field, field_validator

from ..aspects import ASPECTS

LABELS = ("positive", "negative", "neutral")
CONFIDENCE = {"low": 0.5, "medium": 0.75, "high": 0.95}
MAX_SUMMARY_CHARS = 250
MAX_ITEM_CHARS = 80


class SentimentOut(BaseModel):
    label: Literal["positive", "negative", "neutral"]
    confidence: Literal["low", "medium", "high"]


def sentiment_schema() -> dict:
    return {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": list(LABELS)},
                       "confidence": {"type": "string", "enum": list(CONFIDENCE)}},
        "required": ["label", "confidence"], "additionalProperties": False,
    }


def _evidence(aliases: list[str], max_items: int) -> dict:
    return {"type": "array", "items": {"type": "string", "enum": aliases}, "minItems": 1, "maxItems": max_items}


def summary_schema(aliases: list[str]) -> dict:
    part = {"type": "object",
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": MAX_SUMMARY_CHARS},
                           "review_ids": _evidence(aliases, 5)},
            "required": ["text", "review_ids"], "additionalProperties": False}
    return {"type": "object", "properties": {"overall": part, "positive": part, "negative": part},
            "required": ["overall", "positive", "negative"], "additionalProperties": False}


def strength_schema(aliases: list[str]) -> dict:
    item = {"type": "object",
            "properties": {"aspect": {"type": "string", "enum": list(ASPECTS)},
                           "text": {"type": "string", "minLength": 1, "maxLength": MAX_ITEM_CHARS},
                           "review_ids": _evidence(aliases, 4)},
            "required": ["aspect", "text", "review_ids"], "additionalProperties": False}
    arr = {"type": "array", "items": item, "minItems": 1, "maxItems": 3}
    return {"type": "object", "properties": {"strengths": arr, "weaknesses": arr},
            "required": ["strengths", "weaknesses"], "additionalProperties": False}


def _clean(v: str, limit: int) -> str:
    v = " ".join(v.split())
    if not v:
        raise ValueError("empty text")
    return v if len(v) <= limit else v[: limit - 1] + "…"


class _GroundedText(BaseModel):
    """A text with the review ids it rests on; the text is folded and capped at ``max_chars``."""

    max_chars: ClassVar[int] = MAX_SUMMARY_CHARS
    text: str
    review_ids: list[str] = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        return _clean(v, cls.max_chars)


class SummaryPart(_GroundedText):
    max_chars: ClassVar[int] = MAX_SUMMARY_CHARS


class SummaryOut(BaseModel):
    overall: SummaryPart
    positive: SummaryPart
    negative: SummaryPart


class StrengthItem(_GroundedText):
    max_chars: ClassVar[int] = MAX_ITEM_CHARS
    aspect: str


class StrengthOut(BaseModel):
    strengths: list[StrengthItem] = Field(min_length=1, max_length=3)
    weaknesses: list[StrengthItem] = Field(min_length=1, max_length=3)


def grounded(aliases: list[str]):
    """A validator factory: parse with the model, then require every cited id to be an alias."""
    allowed = set(aliases)

    def check_ids(ids: list[str], where: str) -> None:
        bad = [i for i in ids if i not in allowed]
        if bad:
            raise ValueError(f"{where} cites ids {bad} outside the TOP-K context")

    def summary(obj) -> SummaryOut:
        out = SummaryOut.model_validate(obj)
        for name in ("overall", "positive", "negative"):
            check_ids(getattr(out, name).review_ids, name)
        return out

    def strength(obj) -> StrengthOut:
        out = StrengthOut.model_validate(obj)
        for i, item in enumerate(out.strengths + out.weaknesses):
            if item.aspect not in ASPECTS:
                raise ValueError(f"aspect {item.aspect!r} is not in the vocabulary")
            check_ids(item.review_ids, f"item {i}")
        return out

    return summary, strength

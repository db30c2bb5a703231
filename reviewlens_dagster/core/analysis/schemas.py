"""Output schemas: JSON schema for guided decoding, pydantic models for validation.

The extraction schema has one explicit field per aspect the lexicon found in the review (a
small model answers a fixed set of questions far better than it fills a free list), so the
model cannot add aspects and cannot skip one. Text lengths are bounded in the schema itself, so
guided decoding must close every string. Quote ids of a summary are restricted, in the schema
itself, to the quotes it was given, and validated again after decoding.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, field_validator

LABELS = ("positive", "negative", "neutral")
MAX_SUMMARY_CHARS = 250

Polarity = Literal["positive", "negative", "neutral"]


def extract_schema(aspects: list[str]) -> dict:
    # no confidence field: it would cost ~6 output tokens per review, and the label's own
    # log-probabilities give a calibrated one (extract.py)
    props: dict = {"label": {"type": "string", "enum": list(LABELS)}}
    required = ["label"]
    if aspects:
        props["aspects"] = {
            "type": "object",
            "properties": {a: {"type": "string", "enum": list(LABELS)} for a in aspects},
            "required": list(aspects),
            "additionalProperties": False,
        }
        required.append("aspects")
    return {"type": "object", "properties": props, "required": required, "additionalProperties": False}


class ExtractOut(BaseModel):
    label: Polarity
    aspects: dict[str, Polarity] = Field(default_factory=dict)
    #: the engine's log-probabilities of each label where the label was generated (not model output)
    label_logprobs: dict[str, float] | None = None


def extract_validator(aspects: list[str]):
    """Parse with the model, then require exactly the aspects that were asked about."""
    wanted = set(aspects)

    def validate(obj) -> ExtractOut:
        out = ExtractOut.model_validate(obj)
        if set(out.aspects) != wanted:
            raise ValueError(f"aspects {sorted(out.aspects)} differ from the ones asked about {sorted(wanted)}")
        return out

    return validate


def summary_schema(quote_ids: list[str]) -> dict:
    return {
        "type": "object",
        "properties": {
            "text": {"type": "string", "minLength": 1, "maxLength": MAX_SUMMARY_CHARS},
            "quote_ids": {
                "type": "array",
                "items": {"type": "string", "enum": quote_ids},
                "minItems": 1,
                "maxItems": 4,
            },
        },
        "required": ["text", "quote_ids"],
        "additionalProperties": False,
    }


class SummaryOut(BaseModel):
    text: str
    quote_ids: list[str] = Field(min_length=1)

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("empty text")
        return v if len(v) <= MAX_SUMMARY_CHARS else v[: MAX_SUMMARY_CHARS - 1] + "…"


def summary_validator(quote_ids: list[str]):
    allowed = set(quote_ids)

    def validate(obj) -> SummaryOut:
        out = SummaryOut.model_validate(obj)
        bad = [q for q in out.quote_ids if q not in allowed]
        if bad:
            raise ValueError(f"cites quotes {bad} it was not given")
        return out

    return validate

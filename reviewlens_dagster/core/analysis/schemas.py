"""Output schemas: JSON schema for guided decoding, pydantic models for validation.

The extraction schema has one explicit field per aspect the lexicon found in the review (a
small model answers a fixed set of questions far better than it fills a free list), so the
model cannot add aspects and cannot skip one. Text lengths are bounded in the schema itself, so
guided decoding must close every string. The fact ids of a summary's sentences are restricted, in
the schema itself, to the fact sheet it was given, and validated again after decoding.
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


#: one fact's sentence: long enough for a fact with its reasons, short enough to stay one sentence
MAX_SENTENCE_CHARS = 160


def summary_schema(fact_ids: list[str]) -> dict:
    """The summary as the model's wording of the fact sheet: one sentence per fact, each tagged with
    the id of the fact it words (ids restricted to the sheet by the schema)."""
    return {
        "type": "object",
        "properties": {
            "sentences": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "fact_id": {"type": "string", "enum": fact_ids},
                        "sentence": {"type": "string", "minLength": 1, "maxLength": MAX_SENTENCE_CHARS},
                    },
                    "required": ["fact_id", "sentence"],
                    "additionalProperties": False,
                },
                "minItems": len(fact_ids),
                "maxItems": len(fact_ids),
            },
        },
        "required": ["sentences"],
        "additionalProperties": False,
    }


class FactSentence(BaseModel):
    fact_id: str
    sentence: str

    @field_validator("sentence")
    @classmethod
    def _sentence(cls, v: str) -> str:
        v = " ".join(v.split())
        if not v:
            raise ValueError("empty sentence")
        return v


class SummaryOut(BaseModel):
    sentences: list[FactSentence] = Field(min_length=1)

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(s.fact_id, s.sentence) for s in self.sentences]


def summary_validator(fact_ids: list[str]):
    allowed = set(fact_ids)

    def validate(obj) -> SummaryOut:
        out = SummaryOut.model_validate(obj)
        bad = [s.fact_id for s in out.sentences if s.fact_id not in allowed]
        if bad:
            raise ValueError(f"words facts {bad} it was not given")
        return out

    return validate

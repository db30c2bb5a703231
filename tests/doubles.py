"""A small deterministic LLM backend double for scheduler / engine / analysis unit tests.

The real vLLM engine runs in tests/test_llm_real.py and the end-to-end tests.
"""

from __future__ import annotations

import json
import time

from reviewlens_dagster.core.llm.types import LLMRequest, LLMResult


class DoubleBackend:
    model_name = "double"

    def __init__(
        self,
        max_model_len: int = 4096,
        fail_ids: set[str] | None = None,
        fail_times: int = 10**9,
        answers: dict | None = None,
        first_invalid: set[str] | None = None,
        fail_batch_over: int | None = None,
    ):
        self.max_model_len = max_model_len
        self.calls: list[list[tuple[str, int]]] = []
        self.fail_ids = fail_ids or set()
        self.fail_times = fail_times
        self.failures = 0
        self.answers = answers or {}
        self.first_invalid = set(first_invalid or ())
        self.fail_batch_over = fail_batch_over
        self.closed = False

    def count_prompt_tokens(self, messages: list[dict]) -> int:
        return sum(len(m["content"].split()) for m in messages) + 3

    def answer(self, req: LLMRequest) -> str:
        if req.request_id in self.first_invalid and "repair" not in req.tags:
            return '{"label": "positi'
        if callable(self.answers.get("*")):
            return self.answers["*"](req)
        if req.request_id in self.answers:
            return self.answers[req.request_id]
        if req.json_schema:
            return json.dumps({"label": "positive", "confidence": "high"})
        return f"echo {req.request_id}"

    def generate(self, requests: list[LLMRequest], priorities: list[int]) -> list[LLMResult]:
        self.calls.append([(r.request_id, p) for r, p in zip(requests, priorities)])
        if self.fail_batch_over and len(requests) > self.fail_batch_over:
            raise MemoryError(f"out of memory for a batch of {len(requests)}")
        if any(r.request_id in self.fail_ids for r in requests) and self.failures < self.fail_times:
            self.failures += 1
            raise RuntimeError("engine error: injected")
        out = []
        for i, (r, p) in enumerate(zip(requests, priorities)):
            text = self.answer(r)
            out.append(
                LLMResult(
                    r.request_id,
                    text,
                    prompt_tokens=r.prompt_tokens or 0,
                    output_tokens=len(text.split()),
                    queue_ms=float(i),
                    ttft_ms=10.0 + i,
                    tpot_ms=1.0,
                    e2e_ms=20.0 + i,
                    priority=p,
                    model=self.model_name,
                    finish_reason="stop",
                    tags=dict(r.tags),
                )
            )
        return out

    def close(self) -> None:
        self.closed = True


def req(request_id: str, words: int, schema: dict | None = None, age_s: float = 0.0, **kw) -> LLMRequest:
    r = LLMRequest(request_id, [{"role": "user", "content": " ".join(["w"] * words)}], json_schema=schema, **kw)
    r.submitted_at = time.monotonic() - age_s
    return r


#: what the double reads as a complaint ("microwaved": an implicit one, no word of VADER's lexicon)
NEGATIVE_WORDS = ("불친절", "bad", "microwaved")


def analysis_answer(req: LLMRequest) -> str:
    """Schema-valid answers for the analysis tasks: extraction (negative when the review says one of
    :data:`NEGATIVE_WORDS`, every aspect asked about with the review's label) and summary (each fact of the
    sheet worded as its own template sentence: a faithful writer)."""
    if req.request_id.startswith("summary"):
        return json.dumps({"sentences": fact_sentences(req)}, ensure_ascii=False)
    if req.request_id.startswith("aspect:"):
        clause = req.messages[-1]["content"].rsplit("<clause>", 1)[-1]
        bad = any(w in clause.lower() for w in NEGATIVE_WORDS)
        return json.dumps({"label": "negative" if bad else "positive"})
    review = req.messages[-1]["content"].rsplit("<review>", 1)[-1]
    label = "negative" if any(w in review.lower() for w in NEGATIVE_WORDS) else "positive"
    out = {"label": label}
    aspects = req.json_schema.get("properties", {}).get("aspects")
    if aspects:
        out["aspects"] = {a: label for a in aspects["required"]}
    return json.dumps(out, ensure_ascii=False)


def fact_sentences(req: LLMRequest, reword=None) -> list[dict]:
    """The fact sheet of a summary request, each fact "worded" as ``reword(fact_id, template)`` (default:
    the template sentence itself)."""
    import re

    facts = re.findall(r"^(F\d+): (.*)$", req.messages[-1]["content"], flags=re.M)
    return [{"fact_id": f, "sentence": reword(f, t) if reword else t} for f, t in facts]

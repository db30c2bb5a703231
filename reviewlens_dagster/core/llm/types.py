"""Typed request / result objects of the LLM layer."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LLMRequest:
    request_id: str
    messages: list[dict]  # [{"role": "system"|"user"|"assistant", "content": str}]
    json_schema: dict | None = None
    max_tokens: int = 256
    temperature: float = 0.0
    #: > 1 discourages tokens already used (vLLM's repetition_penalty): small models loop in prose
    repetition_penalty: float = 1.0
    tags: dict[str, str] = field(default_factory=dict)  # e.g. asset, partition
    submitted_at: float = field(default_factory=time.monotonic)
    #: filled by the engine: exact prompt token count (the model's tokenizer, chat template applied)
    prompt_tokens: int | None = None
    #: candidate answers (e.g. the labels of an enum) whose log-probabilities are recorded at the
    #: first generated token that starts one of them (for calibrated decisions, see LLMResult)
    choices: tuple[str, ...] = ()


@dataclass
class LLMResult:
    request_id: str
    text: str
    parsed: Any = None
    prompt_tokens: int = 0
    output_tokens: int = 0
    #: prompt tokens served from the engine's prefix cache (vLLM ``num_cached_tokens``; None = unknown)
    cached_prompt_tokens: int | None = None
    queue_ms: float | None = None
    ttft_ms: float | None = None
    tpot_ms: float | None = None
    e2e_ms: float | None = None
    priority: int = 0
    status: str = "ok"  # ok | error
    error: str | None = None
    model: str = ""
    finish_reason: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    attempts: int = 1
    #: log-probability of the first token of each of the request's ``choices`` at the position where
    #: the answer starts (raw logits, before the grammar mask); None when not requested or not found
    choice_logprobs: dict[str, float] | None = None
    #: wall-clock (epoch seconds) when the request was handed to the backend, and when it finished
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def tokens_per_s(self) -> float | None:
        if not self.e2e_ms or self.output_tokens <= 0:
            return None
        return self.output_tokens / (self.e2e_ms / 1000.0)


#: top log-probabilities returned per generated token for requests with ``choices``
TOP_LOGPROBS = 20


class LLMError(RuntimeError):
    """Base class; messages always name the request ids concerned."""

    def __init__(self, message: str, request_ids: list[str] | None = None) -> None:
        super().__init__(message)
        self.request_ids = list(request_ids or [])


class EngineBatchError(LLMError):
    """The engine failed a batch even after splitting and retrying."""


class StructuredOutputError(LLMError):
    """Output did not match the schema after the repair retry (``request_ids``: those requests);
    ``valid``: the batch's other results, valid and usable."""

    def __init__(self, message: str, request_ids: list[str] | None = None, valid: list | None = None) -> None:
        super().__init__(message, request_ids)
        self.valid = list(valid or [])


class EngineOverloadedError(LLMError):
    """More pending requests than the engine's bound."""


class LLMUnavailableError(LLMError):
    """The LLM server did not answer (429 / 5xx / timeouts / connection errors) even after the
    client's own retries: transient, so the Dagster step asks for a retry (committed results are
    kept in the LLM cache, the retry makes only the missing calls)."""


class EngineStartError(LLMError):
    """The in-process engine could not start; the message says what to change."""

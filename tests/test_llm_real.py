"""The real vLLM engine on CPU with the `tiny` preset (SmolLM2-135M from a PyPI package)."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewlens_dagster.core.analysis.schemas import ExtractOut, extract_schema, extract_validator
from reviewlens_dagster.core.config import Settings
from reviewlens_dagster.core.llm.engine import LLMEngine, OpenAIServerBackend, VLLMOfflineBackend
from reviewlens_dagster.core.llm.models import get_preset, resolve_model
from reviewlens_dagster.core.llm.server import vllm_server
from reviewlens_dagster.core.llm.types import EngineStartError, LLMRequest
from reviewlens_dagster.devserver import free_port

pytestmark = pytest.mark.llm

REVIEWS = [
    "The food was delicious and the staff were friendly.",
    "Rude staff and cold food. Never again.",
    "Great value for money!",
    "We waited an hour and the soup was salty.",
]


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    return resolve_model("tiny", Settings.from_env().model_cache_dir)


@pytest.fixture(scope="session")
def tiny_backend(tiny_model_path):
    backend = VLLMOfflineBackend(tiny_model_path, "tiny", max_model_len=2048)
    yield backend
    backend.close()


def _msgs(text: str) -> list[dict]:
    return [{"role": "user", "content": f"Classify the sentiment of this review: {text}"}]


def test_model_conversion_is_cached_and_verified(tiny_model_path):
    p = Path(tiny_model_path)
    assert (p / ".complete").read_text() == get_preset("tiny").sha256
    assert (p / "config.json").exists() and (p / "tokenizer.json").exists()
    assert resolve_model("tiny", Settings.from_env().model_cache_dir) == tiny_model_path  # idempotent


def test_real_engine_structured_outputs_and_metrics(tiny_backend):
    recorded = []
    engine = LLMEngine(tiny_backend, metrics_sink=recorded.extend)
    reqs = [LLMRequest(f"s{i}", _msgs(t), json_schema=extract_schema([]), max_tokens=24) for i, t in enumerate(REVIEWS)]
    reqs.append(LLMRequest("free", [{"role": "user", "content": "Say hello."}], max_tokens=8))
    results = engine.run(reqs, {f"s{i}": extract_validator([]) for i in range(len(REVIEWS))})
    assert [r.request_id for r in results] == [r.request_id for r in reqs]
    for r, q in zip(results, reqs):
        assert r.status == "ok" and r.model == "tiny"
        assert r.prompt_tokens == tiny_backend.count_prompt_tokens(q.messages) == r.priority  # SJF priority
        assert r.output_tokens > 0 and r.ttft_ms > 0 and r.e2e_ms >= r.ttft_ms and r.queue_ms is not None
    for r in results[:-1]:
        assert isinstance(r.parsed, ExtractOut) and r.parsed.label in ("positive", "negative", "neutral")
    assert len(recorded) == len(reqs)


@pytest.mark.slow
def test_openai_server_backend_against_real_vllm_server(tiny_model_path, tmp_path):
    port = free_port()
    # the server `reviewlens serve-llm` starts, with the in-process engine's settings
    with vllm_server(tiny_model_path, "tiny", port, 1024, tmp_path / "server.log", timeout_s=240) as url:
        backend = OpenAIServerBackend(f"{url}/v1", "tiny", concurrency=2, timeout_s=120, max_model_len=1024)
        engine = LLMEngine(backend)
        reqs = [
            LLMRequest(f"s{i}", _msgs(t), json_schema=extract_schema([]), max_tokens=24)
            for i, t in enumerate(REVIEWS[:3])
        ]
        results = engine.run(reqs, {r.request_id: extract_validator([]) for r in reqs})
        assert [r.request_id for r in results] == ["s0", "s1", "s2"]
        for r in results:
            assert isinstance(r.parsed, ExtractOut)
            assert r.prompt_tokens > 0 and r.priority == r.prompt_tokens and r.ttft_ms > 0 and r.output_tokens > 0
        with pytest.raises(Exception, match="HTTP 4"):
            OpenAIServerBackend(url, "no-such-model", max_attempts=1).count_prompt_tokens(_msgs("x"))
        # what build_engine checks first: a vLLM server, serving the configured name
        backend.check_server()
        with pytest.raises(
            EngineStartError, match="serves \\['tiny'\\], not 'no-such-model'.*REVIEWLENS_LLM_SERVED_MODEL"
        ):
            OpenAIServerBackend(url, "no-such-model", max_attempts=1).check_server()
        backend.close()

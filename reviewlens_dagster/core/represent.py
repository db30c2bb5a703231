"""Representative vectors (weighted mean), TOP-K selection with optional MMR, token estimates.

Weights of a review (defaults, all configurable through :class:`WeightConfig`):
- recency: ``0.5 ** (age_days / half_life_days)`` with ``half_life_days = 180``, the age
  measured from the restaurant's newest review (not the wall clock, so re-runs give the same
  vector); reviews without a date get the median weight of the others (1.0 if none has a date);
- text length: ``clip(log1p(chars) / log1p(200), 0.3, 1.0)``: one-word reviews count less;
- helpfulness: ``1 + 0.5 * log1p(helpful_count)``.
The weight is their product; the weighted mean is L2-normalized.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DEFAULT_HALF_LIFE_DAYS
from .embed import l2_normalize


@dataclass(frozen=True)
class WeightConfig:
    half_life_days: float = DEFAULT_HALF_LIFE_DAYS
    length_ref_chars: int = 200
    length_floor: float = 0.3
    helpful_alpha: float = 0.5
    use_recency: bool = True
    use_length: bool = True
    use_helpful: bool = True


def review_weights(df: pd.DataFrame, cfg: WeightConfig = WeightConfig()) -> np.ndarray:
    """Weights for the rows of ``df`` (columns text, created_at, helpful_count)."""
    n = len(df)
    w = np.ones(n, dtype=np.float64)
    if n == 0:
        return w
    if cfg.use_recency and "created_at" in df:
        ts = pd.to_datetime(df["created_at"])
        if ts.notna().any():
            age = (ts.max() - ts).dt.total_seconds().to_numpy() / 86400.0
            rec = np.power(0.5, age / cfg.half_life_days)
            fill = float(np.nanmedian(rec[~np.isnan(rec)]))
            w *= np.where(np.isnan(rec), fill, rec)
    if cfg.use_length and "text" in df:
        lengths = df["text"].fillna("").str.len().to_numpy(dtype=np.float64)
        w *= np.clip(np.log1p(lengths) / math.log1p(cfg.length_ref_chars), cfg.length_floor, 1.0)
    if cfg.use_helpful and "helpful_count" in df:
        helpful = pd.to_numeric(df["helpful_count"], errors="coerce").fillna(0).clip(lower=0).to_numpy()
        w *= 1.0 + cfg.helpful_alpha * np.log1p(helpful)
    return w


def weighted_mean(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    if len(vectors) == 0:
        raise ValueError("no vectors to average")
    weights = np.asarray(weights, dtype=np.float64)
    if weights.sum() <= 0:
        weights = np.ones_like(weights)
    mean = (vectors.astype(np.float64) * weights[:, None]).sum(axis=0) / weights.sum()
    return l2_normalize(mean.astype(np.float32))


def mmr(query: np.ndarray, candidates: np.ndarray, k: int, lam: float = 0.7) -> list[int]:
    """Maximal marginal relevance: indices of ``k`` candidates, trading relevance for diversity.

    ``lam = 1`` is plain nearest-first; lower values penalise similarity to already chosen ones.
    """
    if len(candidates) == 0 or k <= 0:
        return []
    rel = candidates @ query
    sim = candidates @ candidates.T
    chosen: list[int] = [int(np.argmax(rel))]
    remaining = set(range(len(candidates))) - set(chosen)
    while remaining and len(chosen) < k:
        idx = np.array(sorted(remaining))
        penalty = sim[np.ix_(idx, chosen)].max(axis=1)
        scores = lam * rel[idx] - (1 - lam) * penalty
        best = int(idx[int(np.argmax(scores))])
        chosen.append(best)
        remaining.discard(best)
    return chosen


_HANGUL = (0xAC00, 0xD7A3)


def estimate_tokens(text: str) -> int:
    """Rough prompt-token estimate without a tokenizer: one token per Hangul syllable or CJK
    character, one per four other characters. (The LLM stage counts exactly with the model's
    tokenizer; this is for the TOP-K saving estimate.)"""
    wide = sum(1 for ch in text if _HANGUL[0] <= ord(ch) <= _HANGUL[1] or 0x4E00 <= ord(ch) <= 0x9FFF)
    return wide + math.ceil((len(text) - wide) / 4)

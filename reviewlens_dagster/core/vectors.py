"""The vector stage as plain functions: embed reviews into the store, the representative vector of
each restaurant, its TOP-K contexts, and the checks on what the store holds (no Dagster import).

- :func:`embed_reviews`: a restaurant whose reviews (content hashes) and model are unchanged is
  skipped; the others are encoded in chunks of whole restaurants while a writer thread stores the
  previous chunk (the encoder and Qdrant both release the GIL), points replaced per restaurant
  (delete by filter + upsert), one flush per run;
- :func:`check_embeddings`: one point per review, norm 1, the model's dimension;
- :func:`representative_vectors`: weighted mean (recency, length, helpfulness), L2-normalized;
- :func:`top_k_contexts`: the K nearest reviews to it (filtered search), optionally MMR.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .checks import CheckOutcome
from .represent import WeightConfig, estimate_tokens, mmr, review_weights, weighted_mean
from .vectorstore import REVIEWS, VectorPoint, VectorStore

NORM_TOLERANCE = 1e-3
ENCODE_CHUNK = 512  # reviews per encode call: big enough for the encoder, small enough to overlap writes
VECTOR_COLUMNS = [
    "restaurant_id",
    "restaurant_name",
    "category",
    "area",
    "n_reviews",
    "weight_sum",
    "model_id",
    "dim",
    "vector",
]
CONTEXT_COLUMNS = ["restaurant_id", "rank", "review_id", "score", "text", "rating"]

Progress = Callable[[str], None]


def by_restaurant(reviews: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    """Each restaurant's reviews, in ``keys`` order (an empty frame for one without reviews)."""
    groups = dict(tuple(reviews.groupby("restaurant_id", sort=False)))
    return {k: groups.get(k, reviews.iloc[0:0]) for k in keys}


def _payload(row, model_id: str) -> dict:
    created = row.created_at
    return {
        "review_id": row.review_id,
        "rating": None if pd.isna(row.rating) else float(row.rating),
        "created_at": None if pd.isna(created) else pd.Timestamp(created).isoformat(),
        "content_hash": row.content_hash,
        "model_id": model_id,
    }


def _chunks(todo: list[str], groups: dict[str, pd.DataFrame], size: int) -> Iterator[list[str]]:
    """Whole restaurants, about ``size`` reviews per chunk."""
    chunk, n = [], 0
    for restaurant_id in todo:
        chunk.append(restaurant_id)
        n += len(groups[restaurant_id])
        if n >= size:
            yield chunk
            chunk, n = [], 0
    if chunk:
        yield chunk


def _store_chunk(
    store: VectorStore, chunk: list[str], groups: dict[str, pd.DataFrame], vectors: np.ndarray, model_id: str
) -> None:
    offset = 0
    for restaurant_id in chunk:
        df = groups[restaurant_id]
        vecs = vectors[offset : offset + len(df)]
        offset += len(df)
        points = [
            VectorPoint(row.review_id, v, _payload(row, model_id)) for row, v in zip(df.itertuples(index=False), vecs)
        ]
        store.replace_restaurant(REVIEWS, restaurant_id, points, flush=False)


def restaurants_to_embed(store: VectorStore, groups: dict[str, pd.DataFrame], model_id: str) -> list[str]:
    """Restaurants whose stored points differ from their reviews (content hash or model)."""
    todo = []
    for restaurant_id, df in groups.items():
        stored = {
            h.key: (h.payload.get("content_hash"), h.payload.get("model_id"))
            for h in store.fetch(REVIEWS, restaurant_id, with_vectors=False)
        }
        if stored != {r: (h, model_id) for r, h in zip(df["review_id"], df["content_hash"])}:
            todo.append(restaurant_id)
    return todo


@dataclass
class EmbedStats:
    reviews_embedded: int = 0
    restaurants_embedded: int = 0
    encode_s: float = 0.0
    total_s: float = 0.0


def embed_reviews(
    store: VectorStore,
    embedder,
    groups: dict[str, pd.DataFrame],
    todo: list[str],
    progress: Progress = lambda m: None,
    chunk_size: int = ENCODE_CHUNK,
) -> EmbedStats:
    """Encode the reviews of ``todo`` and replace their points; a failed write fails the call."""
    stats = EmbedStats(restaurants_embedded=len(todo))
    total = sum(len(groups[r]) for r in todo)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-writer") as writer:
        pending = []
        for chunk in _chunks(todo, groups, chunk_size):
            for fut in pending:  # stop encoding as soon as a write has failed
                if fut.done() and fut.exception() is not None:
                    fut.result()
            texts = [t for r in chunk for t in groups[r]["text"].tolist()]
            t_enc = time.perf_counter()
            vectors = embedder.encode(texts)
            stats.encode_s += time.perf_counter() - t_enc
            pending.append(writer.submit(_store_chunk, store, chunk, groups, vectors, embedder.model_id))
            stats.reviews_embedded += len(texts)
            progress(f"encoded {stats.reviews_embedded}/{total} reviews")
        for fut in pending:
            fut.result()  # the store's error, if a write failed
        if pending:
            progress(f"stored {len(todo)}/{len(todo)} restaurants")
    store.flush(REVIEWS)
    stats.total_s = time.perf_counter() - t0
    return stats


@dataclass
class EmbeddingCheck:
    mismatched: dict[str, tuple[int, int]] = field(default_factory=dict)  # restaurant -> (points, reviews)
    bad_norm: list[str] = field(default_factory=list)
    bad_dim: list[str] = field(default_factory=list)
    checked: int = 0


def check_embeddings(store: VectorStore, groups: dict[str, pd.DataFrame], dim: int) -> EmbeddingCheck:
    """What the store holds now: one point per review, norm 1 and dimension ``dim``."""
    out = EmbeddingCheck()
    for restaurant_id, df in groups.items():
        points = store.count(REVIEWS, restaurant_id)
        if points != len(df):
            out.mismatched[restaurant_id] = (points, len(df))
        for h in store.fetch(REVIEWS, restaurant_id, with_vectors=True):
            out.checked += 1
            if h.vector.shape[0] != dim:
                out.bad_dim.append(h.key)
            elif abs(float(np.linalg.norm(h.vector)) - 1.0) > NORM_TOLERANCE:
                out.bad_norm.append(h.key)
    return out


def embedding_figures(stats: EmbedStats, groups: dict[str, pd.DataFrame], skipped: int, load_s: float) -> dict:
    """What ``review_embeddings`` records about its run (speeds from the measured times)."""
    n = stats.reviews_embedded
    return {
        "reviews_embedded": n,
        "restaurants_embedded": stats.restaurants_embedded,
        "restaurants_skipped_unchanged": skipped,
        "points_in_partitions": int(sum(len(d) for d in groups.values())),
        "model_load_s": round(load_s, 2),
        "encode_s": round(stats.encode_s, 3),
        "reviews_per_s": round(n / stats.total_s, 1) if n and stats.total_s > 0 else 0.0,
        "encode_only_reviews_per_s": round(n / stats.encode_s, 1) if n and stats.encode_s > 0 else 0.0,
    }


def embedding_check_outcomes(check: EmbeddingCheck, restaurants: int, dim: int) -> dict[str, CheckOutcome]:
    return {
        "embeddings_count_matches_reviews": CheckOutcome(
            not check.mismatched,
            {"mismatched (store, reviews)": str(dict(list(check.mismatched.items())[:10])), "restaurants": restaurants},
        ),
        "embeddings_normalized_with_model_dim": CheckOutcome(
            not check.bad_norm and not check.bad_dim,
            {
                "vectors_checked": check.checked,
                "bad_norm": len(check.bad_norm),
                "bad_dim": len(check.bad_dim),
                "dimension": dim,
            },
        ),
    }


def representative_vectors(
    store: VectorStore, groups: dict[str, pd.DataFrame], weights: WeightConfig, progress: Progress = lambda m: None
) -> tuple[pd.DataFrame, list[str]]:
    """One weighted-mean vector per restaurant; (frame of VECTOR_COLUMNS, restaurants without points)."""
    model_id = (store.collection_info(REVIEWS) or {}).get("model_id")
    rows, missing = [], []
    for n, (restaurant_id, df) in enumerate(groups.items(), start=1):
        hits = {h.key: h.vector for h in store.fetch(REVIEWS, restaurant_id, with_vectors=True)}
        df = df[df["review_id"].isin(hits.keys())]
        if df.empty:
            missing.append(restaurant_id)
            continue
        w = review_weights(df, weights)
        vec = weighted_mean(np.vstack([hits[r] for r in df["review_id"]]), w)
        first = df.iloc[0]
        rows.append(
            {
                "restaurant_id": restaurant_id,
                "restaurant_name": first["restaurant_name"],
                "category": first["category"],
                "area": first["area"],
                "n_reviews": len(df),
                "weight_sum": float(w.sum()),
                "model_id": model_id,
                "dim": int(vec.shape[0]),
                "vector": vec.astype(float).tolist(),
            }
        )
        if n % 10 == 0 or n == len(groups):
            progress(f"representative vectors {n}/{len(groups)}")
    return pd.DataFrame(rows, columns=VECTOR_COLUMNS), missing


@dataclass
class Contexts:
    frame: pd.DataFrame  # CONTEXT_COLUMNS
    problems: dict[str, str]  # restaurant -> what is wrong with its contexts (the check's input)
    tokens_all: int  # estimated prompt tokens of every review
    tokens_top: int  # ... of the contexts


def top_k_contexts(
    store: VectorStore, groups: dict[str, pd.DataFrame], vectors: pd.DataFrame, k: int, mmr_lambda: float = 1.0
) -> Contexts:
    """The ``k`` reviews nearest to each restaurant's vector; MMR-diversified when ``mmr_lambda`` < 1."""
    vec_by = {r.restaurant_id: np.asarray(r.vector, dtype=np.float32) for r in vectors.itertuples()}
    rows, problems = [], {}
    tokens_all = tokens_top = 0
    for restaurant_id, df in groups.items():
        if restaurant_id not in vec_by or df.empty:
            problems[restaurant_id] = "no representative vector"
            continue
        text_by = dict(zip(df["review_id"], df["text"]))
        rating_by = dict(zip(df["review_id"], df["rating"]))
        query = vec_by[restaurant_id]
        if mmr_lambda < 1.0:
            cands = store.search(
                REVIEWS, query, limit=min(len(df), 3 * k), restaurant_id=restaurant_id, with_vectors=True
            )
            order = mmr(query, np.vstack([h.vector for h in cands]), k, mmr_lambda) if cands else []
            hits = [cands[i] for i in order]
        else:
            hits = store.search(REVIEWS, query, limit=k, restaurant_id=restaurant_id)
        rows += [
            {
                "restaurant_id": restaurant_id,
                "rank": rank,
                "review_id": h.key,
                "score": round(h.score, 6),
                "text": text_by.get(h.key),
                "rating": rating_by.get(h.key),
            }
            for rank, h in enumerate(hits, start=1)
        ]
        expected = min(k, len(df))
        if len(hits) != expected:
            problems[restaurant_id] = f"{len(hits)} contexts, expected {expected}"
        tokens_all += sum(estimate_tokens(t) for t in df["text"])
        tokens_top += sum(estimate_tokens(text_by.get(h.key) or "") for h in hits)
    frame = pd.DataFrame(rows, columns=CONTEXT_COLUMNS).astype(
        {"rank": "int64", "score": "float64", "rating": "float64"}
    )
    return Contexts(frame, problems, tokens_all, tokens_top)


def vector_check_outcomes(missing: list[str], restaurants: int) -> dict[str, CheckOutcome]:
    return {
        "representative_vector_exists": CheckOutcome(
            not missing, {"missing": str(missing[:20]), "restaurants": restaurants}
        )
    }


def top_k_check_outcomes(ctx: Contexts, k: int) -> dict[str, CheckOutcome]:
    return {
        "top_k_within_review_count": CheckOutcome(
            not ctx.problems, {"problems": str(dict(list(ctx.problems.items())[:20])), "top_k": k}
        )
    }

"""Stage 2: `review_embeddings` (Qdrant), `restaurant_vectors`, `top_k_contexts`."""

import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import numpy as np
import pandas as pd

from ..core.config import validate_restaurant_ids
from ..core.represent import estimate_tokens, mmr, review_weights, weighted_mean
from ..core.vectorstore import RESTAURANT_VECTORS, REVIEWS, VectorPoint
from .metadata import frame_metadata
from .partitions import EAGER, OWNERS, restaurants_partitions, single_run
from .resources import EmbedderResource, ReviewLensSettings, VectorStoreResource

PARTITIONED = dict(
    partitions_def=restaurants_partitions, backfill_policy=single_run, owners=OWNERS, automation_condition=EAGER
)
STORED = dict(io_manager_key="warehouse_io_manager", metadata={"partition_expr": "restaurant_id"})
NORM_TOLERANCE = 1e-3


def _groups(df: pd.DataFrame, keys: list[str]) -> dict[str, pd.DataFrame]:
    g = {k: v for k, v in df.groupby("restaurant_id", sort=False)}
    return {k: g.get(k, df.iloc[0:0]) for k in keys}


ENCODE_CHUNK = 512  # reviews per encode call: big enough for the encoder, small enough to overlap writes


def _chunks(todo: list[str], groups: dict[str, pd.DataFrame], size: int):
    """Whole restaurants, about ``size`` reviews per chunk."""
    chunk, n = [], 0
    for rid in todo:
        chunk.append(rid)
        n += len(groups[rid])
        if n >= size:
            yield chunk
            chunk, n = [], 0
    if chunk:
        yield chunk


def _store_chunk(store, chunk: list[str], groups: dict[str, pd.DataFrame], vectors: np.ndarray, model_id: str) -> None:
    offset = 0
    for rid in chunk:
        df = groups[rid]
        vecs = vectors[offset : offset + len(df)]
        offset += len(df)
        points = [
            VectorPoint(row.review_id, v, {**_payload(row), "model_id": model_id})
            for row, v in zip(df.itertuples(index=False), vecs)
        ]
        store.replace_restaurant(REVIEWS, rid, points, flush=False)


def _payload(row) -> dict:
    created = row.created_at
    return {
        "review_id": row.review_id,
        "rating": None if pd.isna(row.rating) else float(row.rating),
        "created_at": None if pd.isna(created) else pd.Timestamp(created).isoformat(),
        "content_hash": row.content_hash,
    }


@dg.asset(
    **PARTITIONED,
    group_name="vectors",
    kinds={"python", "qdrant"},
    check_specs=[
        dg.AssetCheckSpec(
            "embeddings_count_matches_reviews",
            asset="review_embeddings",
            blocking=True,
            description="The vector store holds exactly one point per review of the restaurant.",
        ),
        dg.AssetCheckSpec(
            "embeddings_normalized_with_model_dim",
            asset="review_embeddings",
            blocking=True,
            description="Stored vectors have norm 1 and the embedding model's dimension.",
        ),
    ],
)
def review_embeddings(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    vector_store: VectorStoreResource,
    embedder: EmbedderResource,
) -> dg.MaterializeResult:
    """Review embeddings in the Qdrant collection `reviews` (point id = UUIDv5 of review_id).

    A restaurant whose reviews (content hashes) and model are unchanged is skipped; otherwise
    its points are replaced (delete by filter + upsert), so re-runs are idempotent.
    """
    keys = validate_restaurant_ids(context.partition_keys)
    store = vector_store.get()
    t0 = time.perf_counter()
    emb = embedder.get()
    load_s = time.perf_counter() - t0
    store.ensure_collection(REVIEWS, emb.dim, emb.model_id)
    groups = _groups(reviews, keys)
    todo: list[str] = []
    for rid, df in groups.items():
        existing = {
            h.key: (h.payload.get("content_hash"), h.payload.get("model_id"))
            for h in store.fetch(REVIEWS, rid, with_vectors=False)
        }
        wanted = {r: (h, emb.model_id) for r, h in zip(df["review_id"], df["content_hash"])}
        if existing != wanted:
            todo.append(rid)
    skipped = len(keys) - len(todo)
    texts = [t for rid in todo for t in groups[rid]["text"].tolist()]
    context.log.info(
        f"embedding {len(texts)} reviews of {len(todo)}/{len(keys)} restaurant(s) "
        f"({skipped} unchanged, skipped) with {emb.model_id}"
    )
    t1 = time.perf_counter()
    encode_s = 0.0
    done = 0
    # encode chunk i+1 while a writer thread stores chunk i (the encoder and Qdrant both release
    # the GIL); one flush per run instead of one per restaurant
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="qdrant-writer") as writer:
        pending = []
        for chunk in _chunks(todo, groups, ENCODE_CHUNK):
            for fut in pending:  # stop encoding as soon as a write has failed
                if fut.done() and fut.exception() is not None:
                    fut.result()
            texts_chunk = [t for rid in chunk for t in groups[rid]["text"].tolist()]
            t_enc = time.perf_counter()
            vectors = emb.encode(texts_chunk)
            encode_s += time.perf_counter() - t_enc
            pending.append(writer.submit(_store_chunk, store, chunk, groups, vectors, emb.model_id))
            done += len(texts_chunk)
            context.log.info(f"encoded {done}/{len(texts)} reviews")
        for fut in pending:
            fut.result()  # a failed write fails the step, with the store's error
        if pending:
            context.log.info(f"stored {len(todo)}/{len(todo)} restaurants")
    store.flush(REVIEWS)
    total_s = time.perf_counter() - t1

    # checks: count parity and vector sanity, on what the store now holds
    mismatched = {rid: (store.count(REVIEWS, rid), len(df)) for rid, df in groups.items()}
    mismatched = {k: v for k, v in mismatched.items() if v[0] != v[1]}
    bad_norm, bad_dim, checked = [], [], 0
    for rid in keys:
        for h in store.fetch(REVIEWS, rid, with_vectors=True):
            checked += 1
            if h.vector.shape[0] != emb.dim:
                bad_dim.append(h.key)
            elif abs(float(np.linalg.norm(h.vector)) - 1.0) > NORM_TOLERANCE:
                bad_norm.append(h.key)
    return dg.MaterializeResult(
        metadata={
            "reviews_embedded": len(texts),
            "restaurants_embedded": len(todo),
            "restaurants_skipped_unchanged": skipped,
            "points_in_partitions": int(sum(len(d) for d in groups.values())),
            "dimension": emb.dim,
            "model_id": emb.model_id,
            "model_load_s": round(load_s, 2),
            "encode_s": round(encode_s, 3),
            "reviews_per_s": round(len(texts) / total_s, 1) if texts and total_s > 0 else 0.0,
            "encode_only_reviews_per_s": round(len(texts) / encode_s, 1) if texts and encode_s > 0 else 0.0,
        },
        check_results=[
            dg.AssetCheckResult(
                check_name="embeddings_count_matches_reviews",
                passed=not mismatched,
                metadata={
                    "mismatched (store, reviews)": str(dict(list(mismatched.items())[:10])),
                    "restaurants": len(keys),
                },
            ),
            dg.AssetCheckResult(
                check_name="embeddings_normalized_with_model_dim",
                passed=not bad_norm and not bad_dim,
                metadata={
                    "vectors_checked": checked,
                    "bad_norm": len(bad_norm),
                    "bad_dim": len(bad_dim),
                    "dimension": emb.dim,
                },
            ),
        ],
    )


@dg.asset(
    **PARTITIONED,
    **STORED,
    deps=[review_embeddings],
    group_name="vectors",
    kinds={"python", "qdrant", "duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            "representative_vector_exists",
            asset="restaurant_vectors",
            blocking=True,
            description="Every restaurant of the run has a representative vector.",
        )
    ],
)
def restaurant_vectors(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    vector_store: VectorStoreResource,
    settings: ReviewLensSettings,
):
    """Weighted mean of each restaurant's review vectors (recency, length, helpfulness), L2-normalized.

    Stored in Qdrant (collection `restaurant_vectors`) and here as a table.
    """
    keys = validate_restaurant_ids(context.partition_keys)
    store = vector_store.get()
    info = store.collection_info(REVIEWS) or {}
    cfg = settings.weights()
    rows, missing = [], []
    for n, (rid, df) in enumerate(_groups(reviews, keys).items(), start=1):
        hits = {h.key: h.vector for h in store.fetch(REVIEWS, rid, with_vectors=True)}
        df = df[df["review_id"].isin(hits.keys())]
        if df.empty:
            missing.append(rid)
            continue
        vecs = np.vstack([hits[r] for r in df["review_id"]])
        w = review_weights(df, cfg)
        vec = weighted_mean(vecs, w)
        first = df.iloc[0]
        rows.append(
            {
                "restaurant_id": rid,
                "restaurant_name": first["restaurant_name"],
                "category": first["category"],
                "area": first["area"],
                "n_reviews": len(df),
                "weight_sum": float(w.sum()),
                "model_id": info.get("model_id"),
                "dim": int(vec.shape[0]),
                "vector": vec.astype(float).tolist(),
            }
        )
        if n % 10 == 0 or n == len(keys):
            context.log.info(f"representative vectors {n}/{len(keys)}")
    out = pd.DataFrame(
        rows,
        columns=[
            "restaurant_id",
            "restaurant_name",
            "category",
            "area",
            "n_reviews",
            "weight_sum",
            "model_id",
            "dim",
            "vector",
        ],
    )
    if rows:
        store.ensure_collection(RESTAURANT_VECTORS, int(out["dim"].iloc[0]), str(info.get("model_id")))
        for r in rows:
            store.replace_restaurant(
                RESTAURANT_VECTORS,
                r["restaurant_id"],
                [
                    VectorPoint(
                        r["restaurant_id"],
                        np.asarray(r["vector"], dtype=np.float32),
                        {k: r[k] for k in ("restaurant_name", "category", "area", "n_reviews")},
                    )
                ],
            )
    yield dg.Output(out, metadata=frame_metadata(out.drop(columns=["vector"]), restaurants=len(out), weights=str(cfg)))
    yield dg.AssetCheckResult(
        check_name="representative_vector_exists",
        passed=not missing,
        metadata={"missing": str(missing[:20]), "restaurants": len(keys)},
    )


@dg.asset(
    **PARTITIONED,
    **STORED,
    group_name="vectors",
    kinds={"python", "qdrant", "duckdb"},
    check_specs=[
        dg.AssetCheckSpec(
            "top_k_within_review_count",
            asset="top_k_contexts",
            blocking=True,
            description="Each restaurant has min(K, reviews) contexts, never more.",
        )
    ],
)
def top_k_contexts(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    restaurant_vectors: pd.DataFrame,
    vector_store: VectorStoreResource,
    settings: ReviewLensSettings,
):
    """The K reviews nearest to each restaurant's representative vector (filtered search in
    Qdrant), optionally diversified with MMR (`mmr_lambda` < 1). These are the LLM's context."""
    keys = validate_restaurant_ids(context.partition_keys)
    store = vector_store.get()
    k = int(settings.top_k)
    groups = _groups(reviews, keys)
    vec_by = {r.restaurant_id: np.asarray(r.vector, dtype=np.float32) for r in restaurant_vectors.itertuples()}
    rows, bad = [], {}
    tokens_all = tokens_top = 0
    for rid in keys:
        df = groups[rid]
        if rid not in vec_by or df.empty:
            bad[rid] = "no representative vector"
            continue
        text_by = dict(zip(df["review_id"], df["text"]))
        rating_by = dict(zip(df["review_id"], df["rating"]))
        if settings.mmr_lambda < 1.0:
            cands = store.search(REVIEWS, vec_by[rid], limit=min(len(df), 3 * k), restaurant_id=rid, with_vectors=True)
            order = mmr(vec_by[rid], np.vstack([h.vector for h in cands]), k, settings.mmr_lambda) if cands else []
            hits = [cands[i] for i in order]
        else:
            hits = store.search(REVIEWS, vec_by[rid], limit=k, restaurant_id=rid)
        for rank, h in enumerate(hits, start=1):
            rows.append(
                {
                    "restaurant_id": rid,
                    "rank": rank,
                    "review_id": h.key,
                    "score": round(h.score, 6),
                    "text": text_by.get(h.key),
                    "rating": rating_by.get(h.key),
                }
            )
        expected = min(k, len(df))
        if len(hits) != expected:
            bad[rid] = f"{len(hits)} contexts, expected {expected}"
        tokens_all += sum(estimate_tokens(t) for t in df["text"])
        tokens_top += sum(estimate_tokens(text_by.get(h.key) or "") for h in hits)
    out = pd.DataFrame(rows, columns=["restaurant_id", "rank", "review_id", "score", "text", "rating"]).astype(
        {"rank": "int64", "score": "float64", "rating": "float64"}
    )
    saving = 100.0 * (1 - tokens_top / tokens_all) if tokens_all else 0.0
    yield dg.Output(
        out,
        metadata=frame_metadata(
            out,
            top_k=k,
            mmr_lambda=settings.mmr_lambda,
            prompt_tokens_est_top_k=tokens_top,
            prompt_tokens_est_all_reviews=tokens_all,
            prompt_token_saving_pct=round(saving, 1),
        ),
    )
    yield dg.AssetCheckResult(
        check_name="top_k_within_review_count",
        passed=not bad,
        metadata={"problems": str(dict(list(bad.items())[:20])), "top_k": k},
    )

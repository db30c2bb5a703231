"""Stage 2: `review_embeddings` (Qdrant), `restaurant_vectors`, `top_k_contexts` (logic: core/vectors.py)."""

import time

import dagster as dg
import pandas as pd

from ..core import vectors
from ..core.config import validate_restaurant_ids
from ..core.vectorstore import REVIEWS
from .common import check_results, check_spec
from .metadata import frame_metadata
from .partitions import (
    EAGER,
    OWNERS,
    VECTORS,
    per_restaurant,
    restaurant_table,
    stage_asset,
)
from .resources import EmbedderResource, VectorSettings, VectorStoreResource

EMBEDDING_CHECKS = [
    check_spec(
        "embeddings_count_matches_reviews",
        "review_embeddings",
        True,
        "The vector store holds exactly one point per review of the restaurant.",
    ),
    check_spec(
        "embeddings_normalized_with_model_dim",
        "review_embeddings",
        True,
        "Stored vectors have norm 1 and the embedding model's dimension.",
    ),
]

VECTOR_CHECKS = [
    check_spec(
        "representative_vector_exists",
        "restaurant_vectors",
        True,
        "Every restaurant of the run has a representative vector.",
    )
]
TOP_K_CHECKS = [
    check_spec(
        "top_k_within_review_count", "top_k_contexts", True, "Each restaurant has min(K, reviews) contexts, never more."
    )
]


@stage_asset(
    **per_restaurant(
        VECTORS,
        owners=OWNERS,
        automation_condition=EAGER,
        group_name="vectors",
        kinds={"python", "qdrant"},
        check_specs=EMBEDDING_CHECKS,
    )
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
    with vector_store.open() as store:
        t0 = time.perf_counter()
        emb = embedder.get()
        load_s = time.perf_counter() - t0
        store.ensure_collection(REVIEWS, emb.dim, emb.model_id)
        groups = vectors.by_restaurant(reviews, keys)
        todo = vectors.restaurants_to_embed(store, groups, emb.model_id)
        context.log.info(
            f"embedding {sum(len(groups[r]) for r in todo)} reviews of {len(todo)}/{len(keys)} restaurant(s) "
            f"({len(keys) - len(todo)} unchanged, skipped) with {emb.model_id}"
        )
        stats = vectors.embed_reviews(store, emb, groups, todo, progress=context.log.info)
        check = vectors.check_embeddings(store, groups, emb.dim)
    return dg.MaterializeResult(
        metadata={
            **vectors.embedding_figures(stats, groups, len(keys) - len(todo), load_s),
            "dimension": emb.dim,
            "model_id": emb.model_id,
        },
        check_results=list(
            check_results(vectors.embedding_check_outcomes(check, len(keys), emb.dim), EMBEDDING_CHECKS)
        ),
    )


@stage_asset(
    **restaurant_table("vectors", {"python", "qdrant", "duckdb"}, pool=VECTORS),
    deps=["review_embeddings"],
    check_specs=VECTOR_CHECKS,
)
def restaurant_vectors(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    vector_store: VectorStoreResource,
    vector_settings: VectorSettings,
):
    """Weighted mean of each restaurant's review vectors (recency, length, helpfulness), L2-normalized,
    as a table (what `top_k_contexts` and `comparisons` read)."""
    keys = validate_restaurant_ids(context.partition_keys)
    groups = vectors.by_restaurant(reviews, keys)
    weights = vector_settings.weights()
    with vector_store.open() as store:
        out, missing = vectors.representative_vectors(store, groups, weights, progress=context.log.info)
    yield dg.Output(
        out, metadata=frame_metadata(out.drop(columns=["vector"]), restaurants=len(out), weights=str(weights))
    )
    yield from check_results(vectors.vector_check_outcomes(missing, len(keys)), VECTOR_CHECKS)


@stage_asset(
    **restaurant_table("vectors", {"python", "qdrant", "duckdb"}, pool=VECTORS),
    check_specs=TOP_K_CHECKS,
)
def top_k_contexts(
    context: dg.AssetExecutionContext,
    reviews: pd.DataFrame,
    restaurant_vectors: pd.DataFrame,
    vector_store: VectorStoreResource,
    vector_settings: VectorSettings,
):
    """The K reviews nearest to each restaurant's representative vector (filtered search in
    Qdrant), optionally diversified with MMR (`mmr_lambda` < 1). These are the LLM's context."""
    keys = validate_restaurant_ids(context.partition_keys)
    k = int(vector_settings.top_k)
    with vector_store.open() as store:
        ctx = vectors.top_k_contexts(
            store, vectors.by_restaurant(reviews, keys), restaurant_vectors, k, vector_settings.mmr_lambda
        )
    saving = 100.0 * (1 - ctx.tokens_top / ctx.tokens_all) if ctx.tokens_all else 0.0
    yield dg.Output(
        ctx.frame,
        metadata=frame_metadata(
            ctx.frame,
            top_k=k,
            mmr_lambda=vector_settings.mmr_lambda,
            prompt_tokens_est_top_k=ctx.tokens_top,
            prompt_tokens_est_all_reviews=ctx.tokens_all,
            prompt_token_saving_pct=round(saving, 1),
        ),
    )
    yield from check_results(vectors.top_k_check_outcomes(ctx, k), TOP_K_CHECKS)

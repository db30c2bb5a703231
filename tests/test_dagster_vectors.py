"""The vector stage in Dagster: embeddings in Qdrant, representative vectors, TOP-K, checks, re-runs."""

from __future__ import annotations

import dagster as dg
import numpy as np
import pandas as pd

from reviewlens_dagster.core.vectorstore import REVIEWS, EdgeVectorStore
from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags

from .conftest import copy_sample, materialization_metadata, read_table, stage

VECTOR_ASSETS = [dg.AssetKey(k) for k in ("reviews", "review_embeddings", "restaurant_vectors", "top_k_contexts")]


def test_vector_stage_end_to_end(settings, instance, sample_dir):
    copy_sample(sample_dir, settings.incoming_dir, {"r001", "r010", "r014"})
    (settings.incoming_dir / "solo.csv").write_text(
        "review_id,restaurant_id,text,rating\nsolo1,r_solo,혼자 남긴 리뷰,4\n"
    )
    keys = ["r001", "r010", "r014", "r_solo"]
    defs = build_defs(settings)
    stage(defs, instance)
    job = defs.resolve_job_def(PIPELINE_JOB)

    first = job.execute_in_process(instance=instance, tags=range_tags(keys), asset_selection=VECTOR_ASSETS)
    assert first.success
    failed = [e.check_name for e in first.get_asset_check_evaluations() if not e.passed]
    assert failed == []
    names = {e.check_name for e in first.get_asset_check_evaluations()}
    assert {
        "embeddings_count_matches_reviews",
        "embeddings_normalized_with_model_dim",
        "representative_vector_exists",
        "top_k_within_review_count",
    } <= names
    emb_md = materialization_metadata(first, "review_embeddings")
    reviews = read_table(settings, "reviews")
    assert emb_md["reviews_embedded"].value == len(reviews)
    assert emb_md["dimension"].value == 512 and emb_md["reviews_per_s"].value > 0

    top = read_table(settings, "top_k_contexts")
    per = top.groupby("restaurant_id").size()
    n_reviews = reviews.groupby("restaurant_id").size()
    for restaurant_id in keys:
        assert per[restaurant_id] == min(20, n_reviews[restaurant_id])
    assert per["r_solo"] == 1
    assert set(top["review_id"]) <= set(reviews["review_id"])
    # ranks follow scores, and every context belongs to its restaurant
    merged = top.merge(reviews[["review_id", "restaurant_id"]], on="review_id", suffixes=("", "_r"))
    assert (merged["restaurant_id"] == merged["restaurant_id_r"]).all()
    for _, g in top.groupby("restaurant_id"):
        g = g.sort_values("rank")
        assert g["score"].is_monotonic_decreasing
    md = materialization_metadata(first, "top_k_contexts")
    assert 0 < md["prompt_token_saving_pct"].value < 100

    vecs = read_table(settings, "restaurant_vectors")
    assert set(vecs["restaurant_id"]) == set(keys)
    assert all(abs(np.linalg.norm(np.asarray(v)) - 1) < 1e-5 for v in vecs["vector"])

    # re-run: idempotent, and the embedding work is skipped
    second = job.execute_in_process(instance=instance, tags=range_tags(keys), asset_selection=VECTOR_ASSETS)
    assert second.success
    md2 = materialization_metadata(second, "review_embeddings")
    assert md2["restaurants_skipped_unchanged"].value == len(keys) and md2["reviews_embedded"].value == 0
    pd.testing.assert_frame_equal(read_table(settings, "top_k_contexts"), top)
    pd.testing.assert_frame_equal(read_table(settings, "restaurant_vectors"), vecs)

    # a changed review re-embeds only its restaurant; the store keeps one point per review
    extra = "review_id,restaurant_id,text,rating\nnew1,r010,새로 생긴 리뷰: 주차가 편해요,5\n"
    (settings.incoming_dir / "more.csv").write_text(extra)
    stage(defs, instance)
    third = job.execute_in_process(instance=instance, tags=range_tags(keys), asset_selection=VECTOR_ASSETS)
    md3 = materialization_metadata(third, "review_embeddings")
    assert md3["restaurants_embedded"].value == 1 and md3["reviews_embedded"].value == n_reviews["r010"] + 1
    store = EdgeVectorStore(settings.qdrant_path)
    try:
        assert store.count(REVIEWS, "r010") == n_reviews["r010"] + 1
        assert store.count(REVIEWS) == len(reviews) + 1
    finally:
        store.close()


def test_store_failure_in_the_writer_thread_fails_the_step(settings, instance, sample_dir, monkeypatch):
    """A write error raised in the background writer reaches the run (never swallowed)."""
    from reviewlens_dagster.core.vectorstore import VectorStoreError

    copy_sample(sample_dir, settings.incoming_dir, {"r001", "r010"})
    keys = ["r001", "r010"]
    stage(build_defs(settings), instance)

    def broken(self, name, restaurant_id, points, flush=True):
        raise VectorStoreError(f"{name}: replacing points of restaurant {restaurant_id!r} failed: disk full")

    monkeypatch.setattr(EdgeVectorStore, "replace_restaurant", broken)
    job = build_defs(settings).resolve_job_def(PIPELINE_JOB)
    result = job.execute_in_process(
        instance=instance, tags=range_tags(keys), asset_selection=VECTOR_ASSETS, raise_on_error=False
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "disk full" in str(failure.event_specific_data.error)
    assert failure.step_key == "review_embeddings"

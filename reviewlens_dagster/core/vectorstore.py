"""One ``VectorStore`` interface, two Qdrant implementations.

- :class:`EdgeVectorStore` (default): the real Qdrant engine in-process (``qdrant-edge-py``),
  on disk, one shard folder per collection. Single writer process: a second process gets
  :class:`VectorStoreLockedError`.
- :class:`QdrantServerVectorStore`: ``qdrant-client`` against a Qdrant server or cluster URL
  (also accepts ``path=`` for qdrant-client's local mode, used in tests; never the default:
  it is a brute-force Python re-implementation, ~2 s per filtered search at 200k points).

Points are keyed by a UUIDv5 of a string key (the review id for ``reviews``); every point
carries ``restaurant_id`` in its payload, indexed as a tenant keyword. Replacing a restaurant
deletes its points by filter and upserts the new ones, so re-runs are idempotent.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

NAMESPACE = uuid.UUID("5b1f3c1e-7d0a-4a53-9a57-52d1a1f0e6c4")
TENANT_FIELD = "restaurant_id"
REVIEWS = "reviews"
STRENGTHS = "strengths"
_META = "reviewlens_collection.json"


class VectorStoreError(RuntimeError):
    """Any failure of the vector store, with the collection and operation it concerns."""


class VectorStoreLockedError(VectorStoreError):
    """The embedded store is open in another process."""


class CollectionMissingError(VectorStoreError):
    """The collection has not been built yet."""


def point_id(key: str) -> str:
    return str(uuid.uuid5(NAMESPACE, key))


@dataclass
class VectorPoint:
    key: str
    vector: np.ndarray
    payload: dict = field(default_factory=dict)


@dataclass
class Hit:
    key: str
    score: float
    payload: dict
    vector: np.ndarray | None = None


class VectorStore(Protocol):
    def ensure_collection(self, name: str, dim: int, model_id: str) -> None: ...
    def collection_info(self, name: str) -> dict | None: ...
    def replace_restaurant(
        self, name: str, restaurant_id: str, points: list[VectorPoint], flush: bool = True
    ) -> int: ...
    def flush(self, name: str) -> None: ...
    def search(
        self, name: str, vector: np.ndarray, limit: int, restaurant_id: str | None = None, with_vectors: bool = False
    ) -> list[Hit]: ...
    def fetch(self, name: str, restaurant_id: str, with_vectors: bool = True) -> list[Hit]: ...
    def count(self, name: str, restaurant_id: str | None = None) -> int: ...
    def close(self) -> None: ...


def _payload_key(payload: dict) -> str:
    return str(payload.get("key", ""))


# --------------------------------------------------------------------------- embedded


class EdgeVectorStore:
    """The real Qdrant engine embedded in this process (qdrant-edge-py 0.9.0), on disk."""

    def __init__(self, path: Path | str, upsert_batch: int = 1024) -> None:
        import qdrant_edge  # noqa: F401  (fail early with a clear import error)

        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.upsert_batch = upsert_batch
        self._shards: dict = {}
        self._closed = False

    # -- collections
    def _meta_path(self, name: str) -> Path:
        return self.path / f"{name}.{_META}"

    def collection_info(self, name: str) -> dict | None:
        p = self._meta_path(name)
        return json.loads(p.read_text()) if p.exists() else None

    def _open(self, name: str, create_dim: int | None = None):
        if self._closed:
            raise VectorStoreError("vector store is closed")
        if name in self._shards:
            return self._shards[name]
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeVectorParams,
            HnswIndexConfig,
            KeywordIndexParams,
            UpdateOperation,
        )

        shard_path = self.path / name
        try:
            if shard_path.exists():
                shard = EdgeShard.load(str(shard_path))
            elif create_dim is not None:
                cfg = EdgeConfig(
                    vectors=EdgeVectorParams(size=create_dim, distance=Distance.Cosine),
                    # filtered search scores a restaurant's candidates exactly; HNSW adds nothing
                    hnsw_config=HnswIndexConfig(m=0, ef_construct=100, full_scan_threshold=10000),
                )
                shard = EdgeShard.create(str(shard_path), cfg)
                shard.update(UpdateOperation.create_field_index(TENANT_FIELD, KeywordIndexParams(is_tenant=True)))
            else:
                raise CollectionMissingError(
                    f"collection {name!r} does not exist in {self.path}: materialize review_embeddings first"
                )
        except VectorStoreError:
            raise
        except Exception as exc:  # qdrant-edge raises bare Exceptions
            msg = str(exc)
            if "WouldBlock" in msg or "lock" in msg.lower():
                raise VectorStoreLockedError(
                    f"the embedded Qdrant store {shard_path} is open in another process (one writer at a "
                    "time: wait for the running Dagster run, or use a Qdrant server via REVIEWLENS_QDRANT_URL)"
                ) from exc
            raise VectorStoreError(f"cannot open collection {name!r} at {shard_path}: {msg}") from exc
        self._shards[name] = shard
        return shard

    def ensure_collection(self, name: str, dim: int, model_id: str) -> None:
        info = self.collection_info(name)
        if info and (info["dim"] != dim or info["model_id"] != model_id):
            raise VectorStoreError(
                f"collection {name!r} holds {info['dim']}-d vectors of {info['model_id']!r}, but the configured "
                f"embedder is {model_id!r} ({dim}-d): delete {self.path / name} (and re-materialize) or use "
                "another REVIEWLENS_QDRANT_PATH"
            )
        self._open(name, create_dim=dim)
        if not info:
            self._meta_path(name).write_text(json.dumps({"dim": dim, "model_id": model_id}))

    @staticmethod
    def _filter(restaurant_id: str | None):
        from qdrant_edge import FieldCondition, Filter, MatchValue

        if restaurant_id is None:
            return None
        return Filter(must=[FieldCondition(key=TENANT_FIELD, match=MatchValue(restaurant_id))])

    def replace_restaurant(self, name: str, restaurant_id: str, points: list[VectorPoint], flush: bool = True) -> int:
        """Delete the restaurant's points and upsert ``points``; ``flush=False`` leaves persisting
        to a later ``flush(name)`` (one flush per run instead of one per restaurant)."""
        from qdrant_edge import Point, UpdateOperation

        shard = self._open(name)
        try:
            shard.update(UpdateOperation.delete_points_by_filter(self._filter(restaurant_id)))
            for i in range(0, len(points), self.upsert_batch):
                batch = [
                    Point(
                        point_id(p.key),
                        np.asarray(p.vector, dtype=np.float32).tolist(),
                        {**p.payload, "key": p.key, TENANT_FIELD: restaurant_id},
                    )
                    for p in points[i : i + self.upsert_batch]
                ]
                shard.update(UpdateOperation.upsert_points(batch))
            if flush:
                shard.flush()
        except Exception as exc:
            raise VectorStoreError(f"{name}: replacing points of restaurant {restaurant_id!r} failed: {exc}") from exc
        return len(points)

    def flush(self, name: str) -> None:
        try:
            self._open(name).flush()
        except VectorStoreError:
            raise
        except Exception as exc:
            raise VectorStoreError(f"{name}: flush failed: {exc}") from exc

    def search(self, name, vector, limit, restaurant_id=None, with_vectors=False) -> list[Hit]:
        from qdrant_edge import Query, QueryRequest

        shard = self._open(name)
        try:
            hits = shard.query(
                QueryRequest(
                    query=Query.Nearest(np.asarray(vector, dtype=np.float32).tolist()),
                    limit=int(limit),
                    filter=self._filter(restaurant_id),
                    with_payload=True,
                    with_vector=with_vectors,
                )
            )
        except Exception as exc:
            raise VectorStoreError(f"{name}: search failed: {exc}") from exc
        return [
            Hit(_payload_key(h.payload), float(h.score), dict(h.payload), _vec(h.vector) if with_vectors else None)
            for h in hits
        ]

    def fetch(self, name, restaurant_id, with_vectors=True) -> list[Hit]:
        from qdrant_edge import ScrollRequest

        shard = self._open(name)
        out: list[Hit] = []
        offset = None
        try:
            while True:
                req = ScrollRequest(
                    filter=self._filter(restaurant_id),
                    limit=512,
                    with_vector=with_vectors,
                    with_payload=True,
                    offset=offset,
                )
                recs, offset = shard.scroll(req)
                out.extend(
                    Hit(_payload_key(r.payload), 1.0, dict(r.payload), _vec(r.vector) if with_vectors else None)
                    for r in recs
                )
                if offset is None or not recs:
                    break
        except Exception as exc:
            raise VectorStoreError(f"{name}: fetch of restaurant {restaurant_id!r} failed: {exc}") from exc
        return sorted(out, key=lambda h: h.key)

    def count(self, name, restaurant_id=None) -> int:
        from qdrant_edge import CountRequest

        shard = self._open(name)
        return int(shard.count(CountRequest(exact=True, filter=self._filter(restaurant_id))))

    def optimize(self, name: str) -> None:
        self._open(name).optimize()

    def close(self) -> None:
        for name, shard in list(self._shards.items()):
            try:
                shard.flush()
            finally:
                shard.close()
            del self._shards[name]
        self._closed = True


def _vec(v) -> np.ndarray:
    if isinstance(v, dict):  # named vectors: the default one has the empty name
        v = v.get("", next(iter(v.values())))
    return np.asarray(v, dtype=np.float32)


# --------------------------------------------------------------------------- server


class QdrantServerVectorStore:
    """qdrant-client against a Qdrant server / cluster (``url``), or its local mode (``path``)."""

    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        path: str | None = None,
        timeout: int = 30,
        upsert_batch: int = 256,
    ) -> None:
        from qdrant_client import QdrantClient

        if not url and not path:
            raise ValueError("QdrantServerVectorStore needs url= (server) or path= (local mode)")
        self._client = QdrantClient(url=url, api_key=api_key, timeout=timeout) if url else QdrantClient(path=path)
        self.upsert_batch = upsert_batch
        self._info: dict[str, dict] = {}

    def collection_info(self, name: str) -> dict | None:
        if name in self._info:
            return self._info[name]
        if not self._client.collection_exists(name):
            return None
        coll = self._client.get_collection(name)
        params = coll.config.params.vectors
        meta = getattr(coll.config, "metadata", None) or {}
        info = {"dim": int(params.size), "model_id": meta.get("model_id", "unknown")}
        self._info[name] = info
        return info

    def ensure_collection(self, name: str, dim: int, model_id: str) -> None:
        from qdrant_client import models

        info = self.collection_info(name)
        if info:
            if info["dim"] != dim:
                raise VectorStoreError(f"collection {name!r} holds {info['dim']}-d vectors, the embedder gives {dim}-d")
            return
        try:
            self._client.create_collection(
                name,
                vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE),
                metadata={"model_id": model_id},
            )
        except TypeError:  # older servers/clients without collection metadata
            self._client.create_collection(
                name, vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
            )
        self._client.create_payload_index(
            name,
            field_name=TENANT_FIELD,
            field_schema=models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True),
        )
        self._info[name] = {"dim": dim, "model_id": model_id}

    @staticmethod
    def _filter(restaurant_id: str | None):
        from qdrant_client import models

        if restaurant_id is None:
            return None
        return models.Filter(
            must=[models.FieldCondition(key=TENANT_FIELD, match=models.MatchValue(value=restaurant_id))]
        )

    def _require(self, name: str) -> None:
        if self.collection_info(name) is None:
            raise CollectionMissingError(f"collection {name!r} does not exist: materialize review_embeddings first")

    def replace_restaurant(self, name, restaurant_id, points, flush: bool = True) -> int:
        """Writes are acknowledged by the server (wait=True): ``flush`` has nothing to add here."""
        from qdrant_client import models

        self._require(name)
        try:
            self._client.delete(
                name, points_selector=models.FilterSelector(filter=self._filter(restaurant_id)), wait=True
            )
            for i in range(0, len(points), self.upsert_batch):
                batch = [
                    models.PointStruct(
                        id=point_id(p.key),
                        vector=np.asarray(p.vector, dtype=np.float32).tolist(),
                        payload={**p.payload, "key": p.key, TENANT_FIELD: restaurant_id},
                    )
                    for p in points[i : i + self.upsert_batch]
                ]
                self._client.upsert(name, points=batch, wait=True)
        except Exception as exc:
            raise VectorStoreError(f"{name}: replacing points of restaurant {restaurant_id!r} failed: {exc}") from exc
        return len(points)

    def flush(self, name: str) -> None:
        self._require(name)

    def search(self, name, vector, limit, restaurant_id=None, with_vectors=False) -> list[Hit]:
        self._require(name)
        res = self._client.query_points(
            name,
            query=np.asarray(vector, dtype=np.float32).tolist(),
            limit=int(limit),
            query_filter=self._filter(restaurant_id),
            with_payload=True,
            with_vectors=with_vectors,
        )
        return [
            Hit(_payload_key(p.payload), float(p.score), dict(p.payload), _vec(p.vector) if with_vectors else None)
            for p in res.points
        ]

    def fetch(self, name, restaurant_id, with_vectors=True) -> list[Hit]:
        self._require(name)
        out: list[Hit] = []
        offset = None
        while True:
            recs, offset = self._client.scroll(
                name,
                scroll_filter=self._filter(restaurant_id),
                limit=512,
                with_vectors=with_vectors,
                with_payload=True,
                offset=offset,
            )
            out.extend(
                Hit(_payload_key(r.payload), 1.0, dict(r.payload), _vec(r.vector) if with_vectors else None)
                for r in recs
            )
            if offset is None:
                break
        return sorted(out, key=lambda h: h.key)

    def count(self, name, restaurant_id=None) -> int:
        self._require(name)
        return int(self._client.count(name, count_filter=self._filter(restaurant_id), exact=True).count)

    def close(self) -> None:
        self._client.close()


def open_vector_store(
    path: Path | str | None = None, url: str | None = None, api_key: str | None = None
) -> VectorStore:
    """The server store when ``url`` is set, else the embedded store at ``path``."""
    if url:
        return QdrantServerVectorStore(url=url, api_key=api_key)
    if path is None:
        raise ValueError("open_vector_store needs a path (embedded) or a url (server)")
    return EdgeVectorStore(path)

"""Resources: settings shown in the UI, the DuckDB warehouse IO manager, the vector store, the embedder."""

from pathlib import Path
from typing import Optional

import dagster as dg
from dagster_duckdb_pandas import DuckDBPandasIOManager
from pydantic import PrivateAttr

from ..core.config import Settings
from ..core.embed import Embedder, EmbedderSpec, make_embedder
from ..core.ingest import ScanResult, scan_folder
from ..core.represent import WeightConfig
from ..core.vectorstore import VectorStore, open_vector_store


class ReviewLensSettings(dg.ConfigurableResource):
    """Paths and thresholds of the pipeline (defaults come from REVIEWLENS_* env vars)."""

    incoming_dir: str
    max_text_chars: int = 5000
    reject_share_threshold: float = 0.2
    top_k: int = 20
    mmr_lambda: float = 1.0
    half_life_days: float = 180.0

    def scan(self) -> ScanResult:
        return scan_folder(Path(self.incoming_dir), self.max_text_chars)

    def weights(self) -> WeightConfig:
        return WeightConfig(half_life_days=self.half_life_days)


class VectorStoreResource(dg.ConfigurableResource):
    """Qdrant: embedded on disk at `path` (default), or a server/cluster at `url`.

    Opened once per run (setup) and closed at the end (teardown): the embedded store is
    single-process, and the run queue lets one writer run at a time.
    """

    path: str
    url: Optional[str] = None
    api_key: Optional[str] = None
    _store: Optional[VectorStore] = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._store = None

    def get(self) -> VectorStore:
        if self._store is None:
            self._store = open_vector_store(path=self.path, url=self.url, api_key=self.api_key)
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class EmbedderResource(dg.ConfigurableResource):
    """Sentence embedder: `use` (offline default, 512-d) or `sentence-transformers` (`model`)."""

    backend: str = "use"
    model: Optional[str] = None
    batch_size: int = 64
    _embedder: Optional[Embedder] = PrivateAttr(default=None)

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(EmbedderSpec(self.backend, self.model, self.batch_size))
        return self._embedder


def warehouse_io_manager(settings: Settings) -> DuckDBPandasIOManager:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBPandasIOManager(database=str(settings.warehouse_path), schema="reviewlens")


def build_resources(settings: Settings) -> dict:
    return {
        "settings": ReviewLensSettings(
            incoming_dir=str(settings.incoming_dir),
            max_text_chars=settings.max_text_chars,
            reject_share_threshold=settings.reject_share_threshold,
            top_k=settings.top_k,
            mmr_lambda=settings.mmr_lambda,
            half_life_days=settings.half_life_days,
        ),
        "warehouse_io_manager": warehouse_io_manager(settings),
        "vector_store": VectorStoreResource(
            path=str(settings.qdrant_path), url=settings.qdrant_url, api_key=settings.qdrant_api_key
        ),
        "embedder": EmbedderResource(
            backend=settings.embedder, model=settings.embed_model, batch_size=settings.embed_batch_size
        ),
    }

"""Resources: settings shown in the UI, the DuckDB warehouse IO manager, the vector store, the embedder."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import PrivateAttr

from ..core.analysis.prevalence import HighlightRule
from ..core.config import WAREHOUSE_SCHEMA, Settings, resolve_scope
from ..core.db import retry_locked
from ..core.embed import Embedder, EmbedderSpec, make_embedder
from ..core.represent import WeightConfig
from ..core.sources import SourcesFile, load_sources
from ..core.staging import StagingStore, sources_digest, write_manifest
from ..core.vectorstore import VectorStore, open_vector_store
from .warehouse import WarehouseIOManager


class ReviewLensSettings(dg.ConfigurableResource):
    """Paths and thresholds of the pipeline (defaults come from REVIEWLENS_* env vars)."""

    incoming_dir: str
    warehouse_path: str = "data/warehouse.duckdb"
    sources_path: str = "data/sources.yaml"
    manifest_path: str = "data/staged_files.json"
    on_deleted_file: str = "keep"
    max_text_chars: int = 5000
    reject_share_threshold: float = 0.2
    top_k: int = 20
    mmr_lambda: float = 1.0
    half_life_days: float = 180.0
    llm_cache_path: str = "data/llm_cache.duckdb"
    agreement_threshold: float = 0.6
    strength_sim_threshold: float = 0.7
    min_group_size: int = 3
    analysis_scope: str = "sample"
    sample_size: int = 20
    min_mentions: int = HighlightRule.min_mentions
    min_mention_share: float = HighlightRule.min_mention_share
    strength_share: float = HighlightRule.strength_share
    weakness_share: float = HighlightRule.weakness_share
    llm_chunk_size: int = 32

    def highlight_rule(self) -> HighlightRule:
        return HighlightRule(
            min_mentions=self.min_mentions,
            min_mention_share=self.min_mention_share,
            strength_share=self.strength_share,
            weakness_share=self.weakness_share,
        )

    def llm_sample_size(self) -> int | None:
        """Reviews per restaurant the LLM reads: None = all."""
        return None if self.analysis_scope == "all" else self.sample_size

    @property
    def incoming_path(self) -> Path:
        return Path(self.incoming_dir)

    def sources(self) -> SourcesFile:
        """sources.yaml, validated (a typo fails the staging step with the file and key named)."""
        return load_sources(Path(self.sources_path))

    @contextmanager
    def staging_store(self) -> Iterator[StagingStore]:
        """The staging tables in the warehouse (retried while another process holds the file)."""
        Path(self.warehouse_path).parent.mkdir(parents=True, exist_ok=True)
        con = retry_locked(duckdb.connect)(self.warehouse_path)
        try:
            yield StagingStore(con)
        finally:
            con.close()

    def staging_digest(self) -> str:
        return sources_digest(Path(self.sources_path), self.max_text_chars)

    def write_manifest(self, files: dict[str, list[int]]) -> None:
        write_manifest(Path(self.manifest_path), files, self.staging_digest())

    def weights(self) -> WeightConfig:
        return WeightConfig(half_life_days=self.half_life_days)


class VectorStoreResource(dg.ConfigurableResource):
    """Qdrant: embedded on disk at `path` (default), or a server/cluster at `url`.

    Opened once per run (setup) and closed at the end (teardown): the embedded store is
    single-process, and the run queue lets one writer run at a time.
    """

    path: str
    url: str | None = None
    api_key: str | None = None
    _store: VectorStore | None = PrivateAttr(default=None)

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
    model: str | None = None
    batch_size: int = 64
    _embedder: Embedder | None = PrivateAttr(default=None)

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(EmbedderSpec(self.backend, self.model, self.batch_size))
        return self._embedder


def warehouse_io_manager(settings: Settings) -> WarehouseIOManager:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseIOManager(database=str(settings.warehouse_path), schema=WAREHOUSE_SCHEMA)


def _secret(name: str, value: str | None):
    """A secret taken from the environment stays an EnvVar: the UI shows its name, never its value."""
    if value and os.environ.get(name) == value:
        return dg.EnvVar(name)
    return value


def build_resources(settings: Settings) -> dict:
    return {
        "settings": ReviewLensSettings(
            incoming_dir=str(settings.incoming_dir),
            warehouse_path=str(settings.warehouse_path),
            max_text_chars=settings.max_text_chars,
            reject_share_threshold=settings.reject_share_threshold,
            top_k=settings.top_k,
            mmr_lambda=settings.mmr_lambda,
            half_life_days=settings.half_life_days,
            llm_cache_path=str(settings.llm_cache_path or settings.data_dir / "llm_cache.duckdb"),
            sources_path=str(settings.sources_path or settings.data_dir / "sources.yaml"),
            manifest_path=str(settings.manifest_path or settings.data_dir / "staged_files.json"),
            on_deleted_file=settings.on_deleted_file,
            agreement_threshold=settings.agreement_threshold,
            strength_sim_threshold=settings.strength_sim_threshold,
            min_group_size=settings.min_group_size,
            analysis_scope=resolve_scope(settings.analysis_scope, settings.llm_preset, settings.llm_url),
            sample_size=settings.sample_size,
            min_mentions=settings.min_mentions,
            min_mention_share=settings.min_mention_share,
            strength_share=settings.strength_share,
            weakness_share=settings.weakness_share,
            llm_chunk_size=settings.llm_chunk_size,
        ),
        "llm": LLMEngineResource(
            preset=settings.llm_preset,
            server_url=settings.llm_url,
            api_key=_secret("REVIEWLENS_LLM_API_KEY", os.environ.get("REVIEWLENS_LLM_API_KEY") or None),
            served_model_name=os.environ.get("REVIEWLENS_LLM_SERVED_MODEL") or None,
            model_cache_dir=str(settings.model_cache_dir),
            metrics_db=str(settings.metrics_path),
            policy=os.environ.get("REVIEWLENS_LLM_POLICY", "sjf"),
            sla_ttft_ms=settings.sla_ttft_ms,
        ),
        "warehouse_io_manager": warehouse_io_manager(settings),
        "vector_store": VectorStoreResource(
            path=str(settings.qdrant_path),
            url=settings.qdrant_url,
            api_key=_secret("REVIEWLENS_QDRANT_API_KEY", settings.qdrant_api_key),
        ),
        "embedder": EmbedderResource(
            backend=settings.embedder, model=settings.embed_model, batch_size=settings.embed_batch_size
        ),
    }


class LLMEngineResource(dg.ConfigurableResource):
    """The LLM engine of a run: in-process vLLM (`preset`) or a shared server (`server_url`).

    Started on first use, at most once per run (the in-process executor runs every step in one
    process), and shut down in teardown so the GPU is free as soon as the run ends. A run whose
    partitions are all cache hits starts no engine. Every request lands in the metrics database.
    """

    preset: str = "small"
    server_url: str | None = None
    api_key: str | None = None
    served_model_name: str | None = None
    model_cache_dir: str
    metrics_db: str
    max_model_len: int | None = None
    policy: str = "sjf"
    starvation_s: float = 30.0
    batch_token_budget: int = 65536
    concurrency: int = 20
    sla_ttft_ms: float = 2000.0
    _engine = PrivateAttr(default=None)
    _run_id: str = PrivateAttr(default="")
    _log = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._engine = None
        self._run_id = context.run_id or "adhoc"
        self._log = context.log

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.close()
            self._engine = None
            context.log.info("LLM engine shut down")

    def config(self):
        from ..core.llm.factory import LLMConfig

        return LLMConfig(
            preset=self.preset,
            server_url=self.server_url,
            api_key=self.api_key,
            served_model_name=self.served_model_name,
            model_cache_dir=Path(self.model_cache_dir),
            max_model_len=self.max_model_len,
            policy=self.policy,
            starvation_s=self.starvation_s,
            batch_token_budget=self.batch_token_budget,
            concurrency=self.concurrency,
        )

    def label_calibration(self):
        """The preset's review-label calibration, when the engine serves the preset's own model."""
        from ..core.analysis.extract import LabelCalibration
        from ..core.llm.models import get_preset

        preset = get_preset(self.preset)
        if preset.label_calibration is None or self.model_name != preset.display_name:
            return None
        return LabelCalibration(*preset.label_calibration)

    @property
    def model_name(self) -> str:
        from ..core.llm.models import get_preset

        return self.served_model_name or get_preset(self.preset).display_name

    def engine(self):
        if self._engine is None:
            from ..core.llm.factory import build_engine
            from ..core.metrics import MetricsStore

            store = MetricsStore(self.metrics_db)
            log = self._log
            self._engine = build_engine(
                self.config(),
                metrics_sink=lambda results: store.record(self._run_id, results),
                progress=(log.info if log else None) or (lambda m: None),
            )
        return self._engine

    def run(self, requests, validators=None):
        """Run requests through the engine (started on first use); results in request order."""
        if not requests:
            return []
        return self.engine().run(requests, validators)

    def usage(self, results, wall_s: float) -> dict:
        """Serving figures of this step's results, for the asset's metadata."""
        from ..core.metrics import results_frame, summarize

        if not results:
            return {"llm_requests": 0}
        s = summarize(results_frame(self._run_id, results), wall_s, self.sla_ttft_ms)
        meta = {
            "llm_model": self.model_name,
            "llm_requests": s["requests"],
            "llm_prompt_tokens": s["prompt_tokens"],
            "llm_cached_prompt_tokens": s["cached_prompt_tokens"],
            "llm_computed_prompt_tokens": s["prompt_tokens"] - s["cached_prompt_tokens"],
            "llm_output_tokens": s["output_tokens"],
            "llm_wall_s": s["wall_s"],
            "llm_output_tokens_per_s": s["output_tokens_per_s"],
            "llm_goodput_req_s": s["goodput_req_s"],
            "llm_sla_compliance": s["sla_compliance"],
            "llm_ttft_p95_ms": s["ttft_p95_ms"],
            "llm_tpot_p95_ms": s["tpot_p95_ms"],
        }
        return {k: v for k, v in meta.items() if v is not None}

"""Resources: the warehouse (one resource the others hold as a nested resource), each stage's
resource (shown in the UI, values from core/config.py's Settings by field name; the ones that only
configure are `*Settings`, the ones that open something are `*Resource`), the warehouse IO manager,
the vector store, the embedder, the LLM engine."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ..core.changes import sources_digest, write_manifest
from ..core.config import (
    DEFAULT_EMBED_BATCH_SIZE,
    DEFAULT_PRESET,
    DEFAULT_SLA_TTFT_MS,
    WAREHOUSE_SCHEMA,
    HighlightRule,
    LLMPolicy,
    Settings,
)
from ..core.embed import Embedder, EmbedderSpec, make_embedder
from ..core.llm.factory import LLMConfig
from ..core.llm.scheduler import SchedulerConfig
from ..core.represent import WeightConfig
from ..core.sources import SourcesFile, load_sources
from ..core.staging import StagingStore
from ..core.vectorstore import VectorStore, open_vector_store
from ..core.warehouse import Backend, Warehouse
from .warehouse import WarehouseIOManager


def from_settings(cls, settings: Settings, **values):
    """A resource whose fields take the value of the setting of the same name (paths as text, a
    secret as the EnvVar it came from): each knob is declared once, in core/config.py; a resource
    only names the ones its stage reads."""
    secrets = {f.name for f in fields(Settings) if f.metadata["kind"] == "secret"}
    for name in cls.model_fields:
        if name not in values and hasattr(settings, name):
            v = _secret(settings, name) if name in secrets else getattr(settings, name)
            values[name] = str(v) if isinstance(v, Path) else v
    return cls(**values)


class WarehouseResource(dg.ConfigurableResource):
    """Where the warehouse is (core/warehouse.py): the DuckDB file, or DuckLake's catalog and data path.
    One instance, held by every resource whose stage opens the warehouse, the LLM cache or the metrics."""

    warehouse_path: str = ""  # the duckdb backend's file (every resource built from Settings has it)
    warehouse_backend: str = "duckdb"
    ducklake_catalog: str | None = None
    ducklake_data_path: str = "lake"

    def backend(self) -> Backend:
        return Backend(self.warehouse_backend, self.ducklake_catalog, self.ducklake_data_path)

    def warehouse(self) -> Warehouse:
        return Warehouse(self.warehouse_path, backend=self.backend())


class StagingResource(dg.ConfigurableResource):
    """Staging and `reviews`: the incoming folder, source mappings, quarantine threshold; opens the
    staging tables and writes the sensor's manifest."""

    warehouse: WarehouseResource
    incoming_dir: str
    sources_path: str
    manifest_path: str
    on_deleted_file: str
    max_text_chars: int
    reject_share_threshold: float

    @property
    def incoming_path(self) -> Path:
        return Path(self.incoming_dir)

    def sources(self) -> SourcesFile:
        """sources.yaml, validated (a typo fails the staging step with the file and key named)."""
        return load_sources(Path(self.sources_path))

    @contextmanager
    def staging_store(self) -> Iterator[StagingStore]:
        """The staging tables in the warehouse (retried while another process holds the file)."""
        with self.warehouse.warehouse().connect() as con:
            yield StagingStore(con)

    def staging_digest(self) -> str:
        return sources_digest(Path(self.sources_path), self.max_text_chars)

    def write_manifest(self, files: dict[str, list[int]]) -> None:
        write_manifest(Path(self.manifest_path), files, self.staging_digest())


class VectorSettings(dg.ConfigurableResource):
    """Representative vectors and TOP-K contexts."""

    top_k: int
    mmr_lambda: float
    half_life_days: float

    def weights(self) -> WeightConfig:
        return WeightConfig(half_life_days=self.half_life_days)


class AnalysisResource(dg.ConfigurableResource):
    """Extraction, prevalence and summaries: scope, the highlights rule; opens the LLM cache."""

    warehouse: WarehouseResource
    llm_cache_path: str
    analysis_scope: str  # resolved: "all" or "subset"
    llm_subset_size: int
    agreement_threshold: float
    min_mentions: int
    min_mention_share: float
    strength_share: float
    weakness_share: float
    min_complaints: int
    complaint_share: float
    max_complaints: int
    llm_chunk_size: int

    def highlight_rule(self) -> HighlightRule:
        return HighlightRule(**{f: getattr(self, f) for f in HighlightRule.__dataclass_fields__})

    def llm_cache(self):
        """The LLM cache on this deployment's warehouse backend."""
        from ..core.analysis.cache import LLMCache

        return LLMCache(self.llm_cache_path, self.warehouse.backend())

    def llm_subset(self) -> int | None:
        """Reviews per restaurant the LLM reads: None = all."""
        return None if self.analysis_scope == "all" else self.llm_subset_size


class CompareResource(dg.ConfigurableResource):
    """Comparison groups; reads every restaurant's prevalence from the warehouse."""

    warehouse: WarehouseResource
    min_group_size: int
    strength_sim_threshold: float
    min_mentions: int


class ReportSettings(dg.ConfigurableResource):
    """Where restaurant_report writes its HTML pages."""

    reports_dir: str


class VectorStoreResource(dg.ConfigurableResource):
    """Qdrant: embedded on disk at `qdrant_path` (default), or a server/cluster at `qdrant_url`.

    Opened inside the step that uses it and closed when the step ends (``with vector_store.open()
    as store``): the embedded store accepts one process at a time, and its steps share the
    `reviewlens_qdrant_embedded` concurrency pool (one slot), so a run holds it only while one of
    its steps needs it.
    """

    qdrant_path: str
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None

    @contextmanager
    def open(self) -> Iterator[VectorStore]:
        store = open_vector_store(path=self.qdrant_path, url=self.qdrant_url, api_key=self.qdrant_api_key)
        try:
            yield store
        finally:
            store.close()


class EmbedderResource(dg.ConfigurableResource):
    """Sentence embedder: `use` (offline default, 512-d) or `sentence-transformers` (`embed_model`)."""

    embedder: str = "use"
    embed_model: str | None = None
    embed_batch_size: int = DEFAULT_EMBED_BATCH_SIZE
    _embedder: Embedder | None = PrivateAttr(default=None)

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(EmbedderSpec(self.embedder, self.embed_model, self.embed_batch_size))
        return self._embedder


def warehouse_io_manager(settings: Settings) -> WarehouseIOManager:
    if settings.warehouse_backend == "duckdb":
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseIOManager(
        database=str(settings.warehouse_path),
        schema=WAREHOUSE_SCHEMA,
        backend=settings.warehouse_backend,
        ducklake_catalog=_secret(settings, "ducklake_catalog"),
        ducklake_data_path=str(settings.ducklake_data_path),
    )


def _secret(settings: Settings, name: str):
    """A secret reaches Dagster as the EnvVar it came from: the UI shows its name, never its value."""
    value = getattr(settings, name)
    return dg.EnvVar(settings.env_of(name)) if value and settings.from_environment(name) else value


def warehouse_resource(settings: Settings) -> WarehouseResource:
    """The one warehouse resource of ``settings`` (what the other resources hold; tests and other
    deployments that replace a resource pass it the same way)."""
    return from_settings(WarehouseResource, settings)


def build_resources(settings: Settings) -> dict:
    wh = warehouse_resource(settings)
    return {
        "ingest_settings": from_settings(StagingResource, settings, warehouse=wh),
        "vector_settings": from_settings(VectorSettings, settings),
        "analysis_settings": from_settings(
            AnalysisResource,
            settings,
            warehouse=wh,
            analysis_scope=LLMPolicy.of(settings).scope,
        ),
        "compare_settings": from_settings(CompareResource, settings, warehouse=wh),
        "report_settings": from_settings(ReportSettings, settings),
        "llm": from_settings(LLMEngineResource, settings, warehouse=wh),
        "warehouse_io_manager": warehouse_io_manager(settings),
        "vector_store": from_settings(VectorStoreResource, settings),
        "embedder": from_settings(EmbedderResource, settings),
    }


class LLMEngineResource(dg.ConfigurableResource):
    """The LLM engine of a run: in-process vLLM (`llm_preset`) or a shared server (`llm_url`).

    Started on first use, at most once per run (the in-process executor runs every step in one
    process), and shut down in teardown so the GPU is free as soon as the run ends. A run whose
    partitions are all cache hits starts no engine. Every request lands in the metrics database.
    """

    warehouse: WarehouseResource
    llm_preset: str = DEFAULT_PRESET
    llm_url: str | None = None
    llm_api_key: str | None = None
    llm_served_model: str | None = None
    llm_policy: str = SchedulerConfig.policy
    prod_model_path: str | None = None
    model_cache_dir: str
    metrics_path: str
    sla_ttft_ms: float = DEFAULT_SLA_TTFT_MS
    # engine tuning, not environment knobs: the defaults of core/llm (LLMConfig)
    max_model_len: int | None = None
    starvation_s: float = LLMConfig.starvation_s
    batch_token_budget: int = LLMConfig.batch_token_budget
    concurrency: int = LLMConfig.concurrency
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

    def config(self) -> LLMConfig:
        return LLMConfig(
            preset=self.llm_preset,
            server_url=self.llm_url,
            api_key=self.llm_api_key,
            served_model_name=self.llm_served_model,
            model_path=self.prod_model_path,
            model_cache_dir=Path(self.model_cache_dir),
            max_model_len=self.max_model_len,
            policy=self.llm_policy,
            starvation_s=self.starvation_s,
            batch_token_budget=self.batch_token_budget,
            concurrency=self.concurrency,
        )

    def label_calibration(self, field: str = "label_calibration"):
        """The preset's review-label (or ``aspect_calibration``: clause polarity) calibration, when
        the engine serves the preset's own model."""
        from ..core.analysis.extract import LabelCalibration
        from ..core.llm.models import get_preset

        preset = get_preset(self.llm_preset)
        values = getattr(preset, field)
        if values is None or self.model_name != preset.display_name:
            return None
        return LabelCalibration(*values)

    @property
    def model_name(self) -> str:
        from ..core.llm.models import get_preset

        return self.llm_served_model or get_preset(self.llm_preset).display_name

    def engine(self):
        if self._engine is None:
            from ..core.llm.factory import build_engine
            from ..core.metrics import MetricsStore

            store = MetricsStore(self.metrics_path, self.warehouse.backend())
            log = self._log
            self._engine = build_engine(
                self.config(),
                metrics_sink=lambda results: store.record(self._run_id, results),
                progress=(log.info if log else None) or (lambda m: None),
            )
        return self._engine

    def run(self, requests, validators=None, on_result=None):
        """Run requests through the engine (started on first use); each valid result handed to
        ``on_result`` as it completes; results in request order."""
        if not requests:
            return []
        return self.engine().run(requests, validators, on_result)

    def jobs_usage(self, jobs, wall_s: float) -> dict:
        """A step's serving figures (:meth:`usage`) and what the LLM cache saved it."""
        from ..core.analysis.prompts import PROMPT_VERSION

        return {
            **self.usage(jobs.results, wall_s),
            "prompt_version": PROMPT_VERSION,
            "cache_hits": jobs.cache_hits,
            "llm_calls": jobs.llm_calls,
            "llm_commits": jobs.chunks,
        }

    def usage(self, results, wall_s: float) -> dict:
        """Serving figures of this step's results, for the asset's metadata."""
        from ..core.metrics import results_frame, serving_summary

        if not results:
            return {"llm_requests": 0}
        s = serving_summary(results_frame(self._run_id, results), wall_s, self.sla_ttft_ms)
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

"""Resources: each stage's settings (shown in the UI, values from core/config.py's Settings by
field name), the DuckDB warehouse IO manager, the vector store, the embedder, the LLM engine."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from pydantic import PrivateAttr

from ..core.analysis.prevalence import HighlightRule
from ..core.config import WAREHOUSE_SCHEMA, Settings, resolve_scope
from ..core.embed import Embedder, EmbedderSpec, make_embedder
from ..core.llm.factory import LLMConfig
from ..core.represent import WeightConfig
from ..core.sources import SourcesFile, load_sources
from ..core.staging import StagingStore, sources_digest, write_manifest
from ..core.vectorstore import VectorStore, open_vector_store
from ..core.warehouse import Warehouse
from .warehouse import WarehouseIOManager


def from_settings(cls, settings: Settings, **values):
    """A resource whose fields take the value of the setting of the same name (paths as text): each
    knob is declared once, in core/config.py; a resource only names the ones its stage reads."""
    for name in cls.model_fields:
        if name not in values and hasattr(settings, name):
            v = getattr(settings, name)
            values[name] = str(v) if isinstance(v, Path) else v
    return cls(**values)


class IngestSettings(dg.ConfigurableResource):
    """Staging and `reviews`: the incoming folder, source mappings, quarantine threshold."""

    incoming_dir: str
    warehouse_path: str
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
        with Warehouse(self.warehouse_path).connect() as con:
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


class AnalysisSettings(dg.ConfigurableResource):
    """Extraction, prevalence and summaries: scope, the strengths rule, the LLM cache."""

    llm_cache_path: str
    analysis_scope: str  # resolved: "all" or "sample"
    sample_size: int
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

    def llm_sample_size(self) -> int | None:
        """Reviews per restaurant the LLM reads: None = all."""
        return None if self.analysis_scope == "all" else self.sample_size


class CompareSettings(dg.ConfigurableResource):
    """Comparison groups."""

    warehouse_path: str
    min_group_size: int
    strength_sim_threshold: float
    min_mentions: int


class ReportSettings(dg.ConfigurableResource):
    """Where restaurant_report writes its HTML pages."""

    reports_dir: str


class VectorStoreResource(dg.ConfigurableResource):
    """Qdrant: embedded on disk at `qdrant_path` (default), or a server/cluster at `qdrant_url`.

    Opened once per run (setup) and closed at the end (teardown): the embedded store is
    single-process, and the run queue lets one writer run at a time.
    """

    qdrant_path: str
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    _store: VectorStore | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._store = None

    def get(self) -> VectorStore:
        if self._store is None:
            self._store = open_vector_store(path=self.qdrant_path, url=self.qdrant_url, api_key=self.qdrant_api_key)
        return self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class EmbedderResource(dg.ConfigurableResource):
    """Sentence embedder: `use` (offline default, 512-d) or `sentence-transformers` (`embed_model`)."""

    embedder: str = "use"
    embed_model: str | None = None
    embed_batch_size: int = 64
    _embedder: Embedder | None = PrivateAttr(default=None)

    def get(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(EmbedderSpec(self.embedder, self.embed_model, self.embed_batch_size))
        return self._embedder


def warehouse_io_manager(settings: Settings) -> WarehouseIOManager:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return WarehouseIOManager(database=str(settings.warehouse_path), schema=WAREHOUSE_SCHEMA)


def _secret(settings: Settings, name: str):
    """A secret reaches Dagster as the EnvVar it came from: the UI shows its name, never its value."""
    value = getattr(settings, name)
    return dg.EnvVar(settings.env_of(name)) if value and settings.from_environment(name) else value


def build_resources(settings: Settings) -> dict:
    return {
        "ingest_settings": from_settings(IngestSettings, settings),
        "vector_settings": from_settings(VectorSettings, settings),
        "analysis_settings": from_settings(
            AnalysisSettings,
            settings,
            analysis_scope=resolve_scope(settings.analysis_scope, settings.llm_preset, settings.llm_url),
        ),
        "compare_settings": from_settings(CompareSettings, settings),
        "report_settings": from_settings(ReportSettings, settings),
        "llm": from_settings(LLMEngineResource, settings, llm_api_key=_secret(settings, "llm_api_key")),
        "warehouse_io_manager": warehouse_io_manager(settings),
        "vector_store": from_settings(
            VectorStoreResource, settings, qdrant_api_key=_secret(settings, "qdrant_api_key")
        ),
        "embedder": from_settings(EmbedderResource, settings),
    }


class LLMEngineResource(dg.ConfigurableResource):
    """The LLM engine of a run: in-process vLLM (`llm_preset`) or a shared server (`llm_url`).

    Started on first use, at most once per run (the in-process executor runs every step in one
    process), and shut down in teardown so the GPU is free as soon as the run ends. A run whose
    partitions are all cache hits starts no engine. Every request lands in the metrics database.
    """

    llm_preset: str = "small"
    llm_url: str | None = None
    llm_api_key: str | None = None
    llm_served_model: str | None = None
    llm_policy: str = "sjf"
    prod_model_path: str | None = None
    model_cache_dir: str
    metrics_path: str
    sla_ttft_ms: float = 2000.0
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

            store = MetricsStore(self.metrics_path)
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

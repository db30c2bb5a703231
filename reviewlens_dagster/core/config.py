"""Settings from environment variables, with defaults, in one place.

Every knob a user can turn without touching code is read here. The README's configuration
table lists the same names; keep them in sync.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .analysis.prevalence import HighlightRule

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: the DuckDB schema of every warehouse table (IO manager, staging, reports)
WAREHOUSE_SCHEMA = "reviewlens"

#: partition keys (restaurants) reach SQL literals, Qdrant filters and file names: letters and
#: digits of any script (NFC), '_', '-', '.', at most 64, starting with a letter or digit, no '..'
PARTITION_KEY_PATTERN = re.compile(r"^(?!.*\.\.)[^\W_][\w.\-]{0,63}$")
#: kept for ASCII-only consumers: an id of this shape is its own partition key
RESTAURANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")
#: review ids reach payloads and UUIDs; keep them printable and bounded as well.
REVIEW_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_KEY_UNSAFE = re.compile(r"[^\w.\-]+|\.{2,}")


class InvalidIdError(ValueError):
    """An id (partition key, restaurant id, review id) that does not match the safe pattern."""


def partition_key_for(source_id: str) -> str:
    """The partition key of a restaurant id as the source writes it (documented in README "Partition
    keys"): the id itself when it is already safe (``r001``, ``교촌치킨-홍대점``); otherwise a slug of
    it (runs of unsafe characters -> ``-``, at most 48 characters) plus ``-`` and 8 hex of the
    sha256 of the NFC id, so that two ids never share a key by accident (``Pizza Hut Gangnam`` ->
    ``Pizza-Hut-Gangnam-1f3e2a9c``). Stable across runs and machines; the original id is kept in
    the ``source_restaurant_id`` column."""
    s = unicodedata.normalize("NFC", source_id).strip()
    if PARTITION_KEY_PATTERN.fullmatch(s):
        return s
    digest = hashlib.sha256(s.encode("utf-8")).hexdigest()[:8]
    slug = _KEY_UNSAFE.sub("-", s)
    slug = re.sub(r"-{2,}", "-", slug)[:48].strip("-._")
    return f"{slug}-{digest}" if slug and PARTITION_KEY_PATTERN.fullmatch(f"{slug}-{digest}") else f"r-{digest}"


def validate_restaurant_id(value: str) -> str:
    """Return ``value`` if it is a safe partition key, else raise."""
    if not isinstance(value, str) or not PARTITION_KEY_PATTERN.fullmatch(value):
        raise InvalidIdError(
            f"invalid restaurant partition key {value!r}: expected 1-64 letters or digits (any script), "
            "'_', '-', '.', starting with a letter or digit, no '..' (see README 'Partition keys')"
        )
    return value


def validate_restaurant_ids(values) -> list[str]:
    return [validate_restaurant_id(v) for v in values]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return default if value is None or value.strip() == "" else value.strip()


def _env_path(name: str, default: str) -> Path:
    p = Path(_env(name, default)).expanduser()
    return p if p.is_absolute() else PROJECT_ROOT / p


def _env_float(name: str, default: float) -> float:
    raw = _env(name, str(default))
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not a number") from exc


def _env_switch(name: str, default: bool) -> bool:
    raw = _env(name, "on" if default else "off").strip().lower()
    if raw in ("on", "true", "1", "yes"):
        return True
    if raw in ("off", "false", "0", "no"):
        return False
    raise ValueError(f"environment variable {name}={raw!r} must be on or off")


def _env_int(name: str, default: int) -> int:
    raw = _env(name, str(default))
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} is not an integer") from exc


def _env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _env(name, default).lower()
    if raw not in choices:
        raise ValueError(f"environment variable {name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def resolve_scope(scope: str, llm_preset: str, llm_url: str | None) -> str:
    """'auto' -> 'all' where the engine can afford every review (GPU preset or a server), else 'sample'."""
    if scope != "auto":
        return scope
    return "all" if llm_url or llm_preset == "prod" else "sample"


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    incoming_dir: Path
    warehouse_path: Path
    metrics_path: Path
    qdrant_path: Path
    qdrant_url: str | None
    qdrant_api_key: str | None
    embedder: str
    embed_model: str | None
    llm_preset: str
    llm_url: str | None
    model_cache_dir: Path
    top_k: int
    max_text_chars: int
    reject_share_threshold: float
    sla_ttft_ms: float
    mmr_lambda: float = 1.0
    half_life_days: float = 180.0
    embed_batch_size: int = 64
    llm_cache_path: Path | None = None
    #: source mappings (core/sources.py); absent = every file read by column aliases
    sources_path: Path | None = None
    #: what staging remembers of each file, for the sensor (written by the staging asset)
    manifest_path: Path | None = None
    #: a file that leaves the incoming folder: "keep" its reviews (default) or "drop" them
    on_deleted_file: str = "keep"
    agreement_threshold: float = 0.6
    strength_sim_threshold: float = 0.7
    min_group_size: int = 3
    #: which reviews the LLM reads: "sample" (a stratified sample of sample_size per restaurant),
    #: "all", or "auto" (all with a GPU preset or an LLM server, else a sample)
    analysis_scope: str = "auto"
    sample_size: int = 20
    #: strengths / weaknesses rule (core/analysis/prevalence.py HighlightRule)
    min_mentions: int = HighlightRule.min_mentions
    min_mention_share: float = HighlightRule.min_mention_share
    strength_share: float = HighlightRule.strength_share
    weakness_share: float = HighlightRule.weakness_share
    #: LLM requests per committed chunk (results are cached chunk by chunk)
    llm_chunk_size: int = 32
    #: sensors (incoming folder, automation) start running; REVIEWLENS_AUTOMATION=off starts them stopped
    automation: bool = True
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = _env_path("REVIEWLENS_DATA_DIR", "data")
        return cls(
            data_dir=data_dir,
            incoming_dir=_env_path("REVIEWLENS_INCOMING_DIR", str(data_dir / "incoming")),
            warehouse_path=_env_path("REVIEWLENS_WAREHOUSE", str(data_dir / "warehouse.duckdb")),
            metrics_path=_env_path("REVIEWLENS_METRICS_DB", str(data_dir / "metrics.duckdb")),
            qdrant_path=_env_path("REVIEWLENS_QDRANT_PATH", str(data_dir / "qdrant")),
            qdrant_url=os.environ.get("REVIEWLENS_QDRANT_URL") or None,
            qdrant_api_key=os.environ.get("REVIEWLENS_QDRANT_API_KEY") or None,
            embedder=_env("REVIEWLENS_EMBEDDER", "use"),
            embed_model=os.environ.get("REVIEWLENS_EMBED_MODEL") or None,
            llm_preset=_env("REVIEWLENS_LLM_PRESET", "small"),
            llm_url=os.environ.get("REVIEWLENS_LLM_URL") or None,
            model_cache_dir=Path(
                _env("REVIEWLENS_MODEL_CACHE", str(Path.home() / ".cache" / "reviewlens" / "models"))
            ).expanduser(),
            top_k=_env_int("REVIEWLENS_TOP_K", 20),
            max_text_chars=_env_int("REVIEWLENS_MAX_TEXT_CHARS", 5000),
            reject_share_threshold=_env_float("REVIEWLENS_REJECT_SHARE_THRESHOLD", 0.2),
            sla_ttft_ms=_env_float("REVIEWLENS_SLA_TTFT_MS", 2000.0),
            mmr_lambda=_env_float("REVIEWLENS_MMR_LAMBDA", 1.0),
            half_life_days=_env_float("REVIEWLENS_HALF_LIFE_DAYS", 180.0),
            embed_batch_size=_env_int("REVIEWLENS_EMBED_BATCH_SIZE", 64),
            llm_cache_path=_env_path("REVIEWLENS_LLM_CACHE", str(data_dir / "llm_cache.duckdb")),
            sources_path=_env_path("REVIEWLENS_SOURCES", str(data_dir / "sources.yaml")),
            manifest_path=_env_path("REVIEWLENS_STAGING_MANIFEST", str(data_dir / "staged_files.json")),
            on_deleted_file=_env_choice("REVIEWLENS_ON_DELETED_FILE", "keep", ("keep", "drop")),
            agreement_threshold=_env_float("REVIEWLENS_AGREEMENT_THRESHOLD", 0.6),
            strength_sim_threshold=_env_float("REVIEWLENS_STRENGTH_SIM_THRESHOLD", 0.7),
            min_group_size=_env_int("REVIEWLENS_MIN_GROUP_SIZE", 3),
            analysis_scope=_env_choice("REVIEWLENS_ANALYSIS_SCOPE", "auto", ("auto", "sample", "all")),
            sample_size=_env_int("REVIEWLENS_SAMPLE_SIZE", 20),
            min_mentions=_env_int("REVIEWLENS_MIN_MENTIONS", HighlightRule.min_mentions),
            min_mention_share=_env_float("REVIEWLENS_MIN_MENTION_SHARE", HighlightRule.min_mention_share),
            strength_share=_env_float("REVIEWLENS_STRENGTH_SHARE", HighlightRule.strength_share),
            weakness_share=_env_float("REVIEWLENS_WEAKNESS_SHARE", HighlightRule.weakness_share),
            llm_chunk_size=_env_int("REVIEWLENS_LLM_CHUNK_SIZE", 32),
            automation=_env_switch("REVIEWLENS_AUTOMATION", True),
        )

"""Settings from environment variables, with defaults, in one place (:class:`Settings`), and the
ids that reach SQL, paths and partition keys.

Every knob a user can turn without touching code is declared here once; no other module reads
a ``REVIEWLENS_*`` variable. README's configuration table is generated from the declaration.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# ---------------------------------------------------------------------------- one default per knob
# The bottom layer: every default a setting restates is declared here once, and the modules it
# configures import it from here (this module imports nothing of the project).

#: the schema of every warehouse table
WAREHOUSE_SCHEMA = "reviewlens"
#: LLM results committed to the cache together (at most this many are lost by a kill)
DEFAULT_CHUNK_SIZE = 32
#: time to first token the goodput counts a request within
DEFAULT_SLA_TTFT_MS = 2000.0
#: the LLM preset (core/llm/models.py) when none is set
DEFAULT_PRESET = "small"
#: the LLM scheduling policy: "sjf" (shortest-prefill-first) or "fcfs"
DEFAULT_POLICY = "sjf"
#: one value each, read by the knobs below and by the core modules' own defaults
DEFAULT_EMBED_BATCH_SIZE = 64
DEFAULT_HALF_LIFE_DAYS = 180.0
DEFAULT_MIN_GROUP_SIZE = 3
DEFAULT_STRENGTH_SIM_THRESHOLD = 0.7
#: one LLM request's wall-clock bound (in-process and server backends alike)
LLM_REQUEST_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class HighlightRule:
    """When an aspect is a strength, a weakness or a complaint (core/analysis/prevalence.py;
    docs/analysis.md "Strengths and weaknesses"). Defaults set on the sample data (the development set):
    `make eval`, "every restaurant"."""

    min_mentions: int = 3
    min_mention_share: float = 0.08
    strength_share: float = 0.7
    weakness_share: float = 0.6
    min_complaints: int = 2
    complaint_share: float = 0.02
    max_complaints: int = 3


#: partition keys (restaurants) reach SQL literals, Qdrant filters and file names: letters and
#: digits of any script (NFC), '_', '-', '.', at most 64, starting with a letter or digit, no '..'
PARTITION_KEY_PATTERN = re.compile(r"^(?!.*\.\.)[^\W_][\w.\-]{0,63}$")
#: review ids reach payloads and UUIDs; keep them printable and bounded as well.
REVIEW_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,127}$")
_KEY_UNSAFE = re.compile(r"[^\w.\-]+|\.{2,}")


class InvalidIdError(ValueError):
    """An id (partition key, restaurant id, review id) that does not match the safe pattern."""


def partition_key_for(source_id: str) -> str:
    """The partition key of a restaurant id as the source writes it (documented in docs/data.md "Partition
    keys"): the id itself when it is already safe (``r001``, ``교촌치킨-홍대점``); otherwise a slug of
    it (runs of unsafe characters -> ``-``, at most 48 characters) plus ``-`` and 8 hex of the
    sha256 of the NFC id, so that two ids never share a key by accident (``Pizza Hut Gangnam`` ->
    ``Pizza-Hut-Gangnam-c98912c4``). Stable across runs and machines; the original id is kept in
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
            "'_', '-', '.', starting with a letter or digit, no '..' (see docs/data.md 'Partition keys')"
        )
    return value


def validate_restaurant_ids(values) -> list[str]:
    return [validate_restaurant_id(v) for v in values]


#: restaurants `reviewlens run` gives the LLM stage on a CPU by default (a CPU serves a few output
#: tokens per second; the counting layer covers every restaurant)
CPU_RUN_LLM_RESTAURANTS = 2


@dataclass(frozen=True)
class LLMPolicy:
    """Where the LLM reads, decided in one place from the settings: ``scope``, the reviews it reads
    per restaurant (`all`, or the stratified `subset`); ``run_restaurants(on_cpu)``, how many
    restaurants `reviewlens run` gives the LLM stage (0 = all). An engine that can afford every
    review (the GPU preset or a shared server) reads all of them, everywhere."""

    scope: str
    affordable: bool
    run_llm_restaurants: int | None = None

    @classmethod
    def of(cls, settings: Settings) -> LLMPolicy:
        affordable = bool(settings.llm_url) or settings.llm_preset == "prod"
        scope = settings.analysis_scope if settings.analysis_scope != "auto" else ("all" if affordable else "subset")
        return cls(scope, affordable, settings.run_llm_restaurants)

    def run_restaurants(self, on_cpu: Callable[[], bool]) -> int:
        """Restaurants of `reviewlens run` with the LLM stage: the setting, else all, or
        :data:`CPU_RUN_LLM_RESTAURANTS` on a CPU with the in-process engine (``on_cpu`` asked only then)."""
        if self.run_llm_restaurants is not None:
            return self.run_llm_restaurants
        return 0 if self.affordable or not on_cpu() else CPU_RUN_LLM_RESTAURANTS


# --------------------------------------------------------------------------- the knobs

DEFAULT_MAX_TEXT_CHARS = 5000


def knob(
    env: str,
    default,
    help: str,
    kind: str = "value",
    choices: tuple[str, ...] = (),
    formerly: str | None = None,
    aliases: dict[str, str] | None = None,
):
    """A setting: its environment variable, default and meaning, declared once (a dataclass field).
    ``kind``: value (typed by the default), path (relative to the project; ``{data}`` = the data
    folder), home (``~`` expanded), optional (unset = None), secret (optional, shown as a name
    only), switch (on/off), choice (one of ``choices``). A renamed setting keeps working: ``formerly``
    is its previous variable (read when the new one is unset), ``aliases`` its previous values."""
    field_default = None if kind in ("path", "home") else default
    meta = {"env": env, "default": default, "help": help, "kind": kind, "choices": choices}
    meta |= {"formerly": formerly, "aliases": aliases or {}}
    return field(default=field_default, metadata=meta)


def _parse(name: str, raw: str, meta: dict, data_dir: Path | None):
    kind, default = meta["kind"], meta["default"]
    if kind in ("path", "home"):
        text = raw.replace("{data}", str(data_dir)) if data_dir is not None else raw
        p = Path(text).expanduser()
        return p if p.is_absolute() or kind == "home" else PROJECT_ROOT / p
    if kind in ("optional", "secret"):
        return raw
    if kind == "switch":
        low = raw.lower()
        if low in ("on", "true", "1", "yes"):
            return True
        if low in ("off", "false", "0", "no"):
            return False
        raise ValueError(f"environment variable {name}={raw!r} must be on or off")
    if kind == "choice":
        raw = meta["aliases"].get(raw.lower(), raw)
        if raw.lower() not in meta["choices"]:
            raise ValueError(f"environment variable {name}={raw!r} must be one of {', '.join(meta['choices'])}")
        return raw.lower()
    if kind == "count":
        return _parse(name, raw, {**meta, "kind": "value", "default": 0}, data_dir)
    for typ, what in ((int, "an integer"), (float, "a number")):
        if isinstance(default, typ):
            try:
                return typ(raw)
            except ValueError as exc:
                raise ValueError(f"environment variable {name}={raw!r} is not {what}") from exc
    return raw


@dataclass(frozen=True)
class Settings:
    """Every knob a user can turn without touching code, declared once: environment variable,
    default and meaning. README's configuration table is generated from these fields
    (``python -m reviewlens_dagster.core.config``) and a test keeps the two equal. The Dagster
    resources (defs/resources.py) take their values from here, by field name."""

    data_dir: Path = knob("REVIEWLENS_DATA_DIR", "data", "base folder of the defaults below (`{data}`)", "path")
    incoming_dir: Path = knob("REVIEWLENS_INCOMING_DIR", "{data}/incoming", "where review files are dropped", "path")
    reports_dir: Path = knob(
        "REVIEWLENS_REPORTS_DIR",
        "{data}/reports",
        "restaurant_report's HTML pages (`<partition key>.html`, `index.html`)",
        "path",
    )
    sources_path: Path = knob(
        "REVIEWLENS_SOURCES",
        "{data}/sources.yaml",
        'source mappings (docs/data.md "Source mappings"); absent = aliases only',
        "path",
    )
    manifest_path: Path = knob(
        "REVIEWLENS_STAGING_MANIFEST",
        "{data}/staged_files.json",
        "what staging holds, for the incoming sensor (written by each staging run)",
        "path",
    )
    on_deleted_file: str = knob(
        "REVIEWLENS_ON_DELETED_FILE",
        "keep",
        "a file that leaves the folder: `keep` its reviews or `drop` them",
        "choice",
        ("keep", "drop"),
    )
    max_text_chars: int = knob("REVIEWLENS_MAX_TEXT_CHARS", DEFAULT_MAX_TEXT_CHARS, "longer reviews are quarantined")
    reject_share_threshold: float = knob(
        "REVIEWLENS_REJECT_SHARE_THRESHOLD", 0.2, "threshold of the rejected-share check"
    )
    warehouse_path: Path = knob(
        "REVIEWLENS_WAREHOUSE", "{data}/warehouse.duckdb", "DuckDB warehouse file (schema `reviewlens`)", "path"
    )
    warehouse_backend: str = knob(
        "REVIEWLENS_WAREHOUSE_BACKEND",
        "duckdb",
        "`duckdb`: the file above (one writer process at a time); `ducklake`: DuckLake, catalog in PostgreSQL, "
        "Parquet under `REVIEWLENS_DUCKLAKE_DATA` (concurrent writers on several machines; the metrics and the "
        "LLM cache live there too)",
        "choice",
        ("duckdb", "ducklake"),
    )
    ducklake_catalog: str | None = knob(
        "REVIEWLENS_DUCKLAKE_CATALOG",
        None,
        "the DuckLake catalog's PostgreSQL database, libpq style (`dbname=lake host=... port=... user=...`)",
        "secret",
    )
    ducklake_data_path: Path = knob(
        "REVIEWLENS_DUCKLAKE_DATA", "{data}/lake", "DuckLake's Parquet files (a folder shared by every worker)", "path"
    )
    metrics_path: Path = knob(
        "REVIEWLENS_METRICS_DB", "{data}/metrics.duckdb", "LLM serving metrics (separate file)", "path"
    )
    llm_cache_path: Path = knob("REVIEWLENS_LLM_CACHE", "{data}/llm_cache.duckdb", "LLM output cache", "path")
    qdrant_path: Path = knob("REVIEWLENS_QDRANT_PATH", "{data}/qdrant", "embedded Qdrant store", "path")
    qdrant_url: str | None = knob("REVIEWLENS_QDRANT_URL", None, "use a Qdrant server / cluster instead", "optional")
    qdrant_api_key: str | None = knob("REVIEWLENS_QDRANT_API_KEY", None, "its API key", "secret")
    embedder: str = knob(
        "REVIEWLENS_EMBEDDER", "use", "`use` or `sentence-transformers`", "choice", ("use", "sentence-transformers")
    )
    embed_model: str | None = knob(
        "REVIEWLENS_EMBED_MODEL", None, "sentence-transformers model id or folder", "optional"
    )
    embed_batch_size: int = knob("REVIEWLENS_EMBED_BATCH_SIZE", DEFAULT_EMBED_BATCH_SIZE, "encoder batch size")
    top_k: int = knob("REVIEWLENS_TOP_K", 20, "contexts per restaurant")
    mmr_lambda: float = knob("REVIEWLENS_MMR_LAMBDA", 1.0, "< 1 turns on MMR diversity")
    half_life_days: float = knob(
        "REVIEWLENS_HALF_LIFE_DAYS", DEFAULT_HALF_LIFE_DAYS, "recency half-life of review weights"
    )
    llm_preset: str = knob(
        "REVIEWLENS_LLM_PRESET", DEFAULT_PRESET, "`tiny`, `small`, `prod`", "choice", ("tiny", "small", "prod")
    )
    llm_url: str | None = knob("REVIEWLENS_LLM_URL", None, "use a shared OpenAI-compatible server", "optional")
    llm_api_key: str | None = knob("REVIEWLENS_LLM_API_KEY", None, "its API key", "secret")
    llm_served_model: str | None = knob(
        "REVIEWLENS_LLM_SERVED_MODEL", None, "the model name the server serves (default: the preset's)", "optional"
    )
    llm_policy: str = knob(
        "REVIEWLENS_LLM_POLICY",
        DEFAULT_POLICY,
        "`sjf` (shortest-prefill-first) or `fcfs`",
        "choice",
        ("sjf", "fcfs"),
    )
    prod_model_path: str | None = knob(
        "REVIEWLENS_PROD_MODEL_PATH", None, "local folder of Qwen2.5-7B-Instruct for `prod`", "optional"
    )
    model_cache_dir: Path = knob(
        "REVIEWLENS_MODEL_CACHE", "~/.cache/reviewlens/models", "converted model folders", "home"
    )
    sla_ttft_ms: float = knob("REVIEWLENS_SLA_TTFT_MS", DEFAULT_SLA_TTFT_MS, "TTFT SLA for goodput")
    llm_chunk_size: int = knob(
        "REVIEWLENS_LLM_CHUNK_SIZE", DEFAULT_CHUNK_SIZE, "LLM results committed to the cache together"
    )
    run_llm_restaurants: int | None = knob(
        "REVIEWLENS_RUN_LLM_RESTAURANTS",
        None,
        "`reviewlens run` (`make run`): restaurants that get the LLM stage (`0` = all; default: all on a GPU "
        "or server, `2` on a CPU); `--llm-restaurants`",
        "count",
    )
    analysis_scope: str = knob(
        "REVIEWLENS_ANALYSIS_SCOPE",
        "auto",
        "reviews the LLM reads: `all`, `subset`, or `auto` (all with `prod` or a server, else a subset; "
        "`sample`, its former name, still works)",
        "choice",
        ("auto", "subset", "all"),
        aliases={"sample": "subset"},
    )
    llm_subset_size: int = knob(
        "REVIEWLENS_LLM_SUBSET_SIZE",
        20,
        "reviews per restaurant the LLM reads (stratified) when the scope is `subset` (was REVIEWLENS_SAMPLE_SIZE)",
        formerly="REVIEWLENS_SAMPLE_SIZE",
    )
    agreement_threshold: float = knob("REVIEWLENS_AGREEMENT_THRESHOLD", 0.6, "sentiment / star agreement check")
    min_mentions: int = knob(
        "REVIEWLENS_MIN_MENTIONS", HighlightRule.min_mentions, "supporting reviews a strength / weakness needs"
    )
    min_mention_share: float = knob(
        "REVIEWLENS_MIN_MENTION_SHARE",
        HighlightRule.min_mention_share,
        "share of a restaurant's reviews that must mention the aspect",
    )
    strength_share: float = knob(
        "REVIEWLENS_STRENGTH_SHARE", HighlightRule.strength_share, "positive share of decided mentions for a strength"
    )
    weakness_share: float = knob(
        "REVIEWLENS_WEAKNESS_SHARE", HighlightRule.weakness_share, "negative share of decided mentions for a weakness"
    )
    min_complaints: int = knob(
        "REVIEWLENS_MIN_COMPLAINTS", HighlightRule.min_complaints, "negative reviews a (minority) complaint needs"
    )
    complaint_share: float = knob(
        "REVIEWLENS_COMPLAINT_SHARE",
        HighlightRule.complaint_share,
        "share of all the restaurant's reviews a complaint needs",
    )
    max_complaints: int = knob(
        "REVIEWLENS_MAX_COMPLAINTS", HighlightRule.max_complaints, "complaints reported per restaurant, largest first"
    )
    strength_sim_threshold: float = knob(
        "REVIEWLENS_STRENGTH_SIM_THRESHOLD", DEFAULT_STRENGTH_SIM_THRESHOLD, '"similar strength" cosine threshold'
    )
    min_group_size: int = knob(
        "REVIEWLENS_MIN_GROUP_SIZE", DEFAULT_MIN_GROUP_SIZE, "smallest comparison group given a figure"
    )
    automation: bool = knob(
        "REVIEWLENS_AUTOMATION", True, "`off`: the incoming, fan-out and automation sensors start stopped", "switch"
    )

    @classmethod
    def from_env(cls, environ=None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict = {}
        for f in fields(cls):
            meta = f.metadata
            raw = environ.get(meta["env"])
            if raw is None and meta["formerly"]:
                raw = environ.get(meta["formerly"])  # the setting's previous name, still honoured
            raw = raw.strip() if raw is not None and raw.strip() else None
            default = meta["default"]
            if raw is None and meta["kind"] not in ("path", "home"):
                values[f.name] = default
                continue
            values[f.name] = _parse(meta["env"], raw if raw is not None else default, meta, values.get("data_dir"))
        return cls(**values)

    def env_of(self, name: str) -> str:
        """The environment variable of a setting (secrets reach Dagster as ``EnvVar`` of it)."""
        return next(f.metadata["env"] for f in fields(self) if f.name == name)

    def from_environment(self, name: str) -> bool:
        """Whether the setting's value is what its environment variable holds now."""
        raw = os.environ.get(self.env_of(name))
        return raw is not None and raw.strip() == str(getattr(self, name))


def settings_in(root: Path, **overrides) -> Settings:
    """The environment's settings with every data path below ``root`` and the embedded vector store
    (tests, benchmarks: a throwaway data folder)."""
    paths = {
        f.name: Path(str(f.metadata["default"]).replace("{data}", str(root)))
        for f in fields(Settings)
        if f.metadata["kind"] == "path"
    }
    return replace(
        Settings.from_env(),
        **{**paths, "data_dir": Path(root), "qdrant_url": None, "warehouse_backend": "duckdb", **overrides},
    )


def configuration_table() -> str:
    """README's configuration table, from the declaration above."""

    def shown(meta: dict) -> str:
        d = meta["default"]
        if d is None:
            return "unset"
        if isinstance(d, bool):
            return "`on`" if d else "`off`"
        text = str(d).replace("{data}", "data")
        return f"`{text}`"

    rows = ["| env var | default | meaning |", "|---|---|---|"]
    rows += [f"| `{f.metadata['env']}` | {shown(f.metadata)} | {f.metadata['help']} |" for f in fields(Settings)]
    return "\n".join(rows)


if __name__ == "__main__":  # python -m reviewlens_dagster.core.config: the table for README
    print(configuration_table())

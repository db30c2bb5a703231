"""`reviewlens` command line: run the main job on the embedded defaults, search reviews.

reviewlens run [--sample-only] [--restaurants N]
reviewlens serve-llm [--port P]
reviewlens cluster up|down [--no-llm] [--purge]
reviewlens search "query text" [--restaurant ID] [--limit N]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

from .core.config import PROJECT_ROOT, LLMPolicy, Settings

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"


def ensure_incoming(settings: Settings) -> list[Path]:
    """Copy the shipped sample files into the incoming folder when it holds no files yet."""
    from .core.ingest import list_review_files
    from .synthetic import write_sample

    if not (SAMPLE_DIR / "reviews_a.csv").exists():
        write_sample(SAMPLE_DIR)
    settings.incoming_dir.mkdir(parents=True, exist_ok=True)
    existing = list_review_files(settings.incoming_dir)
    if existing:
        return existing
    for f in sorted(SAMPLE_DIR.glob("reviews_*")):
        shutil.copy2(f, settings.incoming_dir / f.name)
    return list_review_files(settings.incoming_dir)


def _instance():
    import dagster as dg

    home = Path(os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / ".dagster_home")))
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy2(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    return dg.DagsterInstance.get()


def _run_pipeline(defs, instance, ordered: list[str], llm_keys: list[str]) -> list:
    """One single-run backfill range over every restaurant: the vector stage and the counting
    layer (lexicon mentions, prevalence, strengths / weaknesses / complaints, comparisons, template
    summaries) need no LLM and cover them all; on a CPU the LLM stage (the slow part: ~10 s of CPU
    per analysed review) then refines the first ``llm_keys`` restaurants (all when they are all)."""
    import dagster as dg

    from .defs.automation import PIPELINE_JOB, PIPELINE_SELECTION, range_tags
    from .defs.partitions import LLM_OUTPUTS

    job = defs.resolve_job_def(PIPELINE_JOB)
    graph = defs.resolve_asset_graph()
    llm_selection = dg.AssetSelection.assets(*LLM_OUTPUTS)
    every = PIPELINE_SELECTION.resolve(graph)
    llm_stage = (llm_selection | llm_selection.downstream()).resolve(graph) & every
    results = []
    if len(llm_keys) < len(ordered):
        print(
            f"counts for all {len(ordered)} restaurants; LLM stage on {len(llm_keys)} of them (CPU default; "
            "`make run LLM_RESTAURANTS=0` for all)"
        )
        results.append(
            job.execute_in_process(
                instance=instance,
                tags=range_tags(ordered),
                asset_selection=sorted(every - llm_selection.resolve(graph), key=str),
                raise_on_error=False,
            )
        )
    if all(r.success for r in results):
        selection = None if len(llm_keys) == len(ordered) else sorted(llm_stage, key=str)
        results.append(
            job.execute_in_process(
                instance=instance, tags=range_tags(llm_keys), asset_selection=selection, raise_on_error=False
            )
        )
    return results


def _print_failed_checks(results) -> None:
    for ev in [e for r in results for e in r.get_asset_check_evaluations()]:
        if not ev.passed:
            meta = {k: getattr(v, "value", v) for k, v in ev.metadata.items()}
            print(
                f"  check {'warning' if ev.severity.value == 'WARN' else 'FAILED'}: "
                f"{ev.asset_key.to_user_string()}.{ev.check_name} {meta}"
            )


def cmd_run(args: argparse.Namespace) -> int:
    import signal

    # SIGTERM (a scheduler stopping the job, `kill`) stops the run like Ctrl-C: the LLM results
    # committed so far stay in the cache and the engine is shut down by the resource's teardown
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    from .definitions import build_defs
    from .defs.automation import PIPELINE_JOB, STAGING_JOB
    from .defs.ingest import STAGED_KEY
    from .defs.partitions import RESTAURANTS

    settings = Settings.from_env()
    files = ensure_incoming(settings)
    print(f"incoming: {settings.incoming_dir} ({len(files)} file(s))")
    instance = _instance()
    defs = build_defs(settings)
    t0 = time.perf_counter()
    # stage once (new and changed files only; adds the restaurant partitions), then fan out
    staged = defs.resolve_job_def(STAGING_JOB).execute_in_process(instance=instance, raise_on_error=True)
    meta = materialization_metadata(staged, STAGED_KEY)
    print(
        f"{STAGING_JOB}: {meta.get('files_parsed', 0)} of {meta.get('files', 0)} file(s) parsed, "
        f"{meta.get('dagster/row_count', 0)} reviews of {meta.get('restaurants', 0)} restaurant(s) staged"
    )
    ids = _staged_restaurants(settings)
    if args.restaurants:
        ids = ids[: args.restaurants]
    if not ids:
        print("no valid reviews in the incoming folder", file=sys.stderr)
        return 1
    # A range over dynamic partitions follows insertion order: run the restaurants as one range.
    ordered = [k for k in instance.get_dynamic_partitions(RESTAURANTS) if k in set(ids)]
    if args.llm_restaurants is not None:
        n_llm = args.llm_restaurants
    else:
        from .core.llm.vllm_offline import on_cpu

        n_llm = LLMPolicy.of(settings).run_restaurants(on_cpu)
    llm_keys = ordered if n_llm <= 0 else ordered[:n_llm]
    results = _run_pipeline(defs, instance, ordered, llm_keys)
    ok = all(r.success for r in results)
    print(
        f"{PIPELINE_JOB}: {'success' if ok else 'FAILED'} over {len(ordered)} restaurant(s), LLM stage on "
        f"{len(llm_keys)}, in {time.perf_counter() - t0:.1f} s (runs {', '.join(r.run_id[:8] for r in results)})"
    )
    _print_failed_checks(results)
    rep = defs.resolve_job_def("reporting_job").execute_in_process(instance=instance, raise_on_error=False)
    print(f"reporting_job: {'success' if rep.success else 'FAILED'}")
    print_report(settings, ordered)
    index = settings.reports_dir / "index.html"
    if index.exists():
        print(f"\nreports: {index} (one page per restaurant beside it)")
    print_serving(settings)
    return 0 if ok else 1


def materialization_metadata(result, key) -> dict:
    """Metadata values of asset ``key``'s materialization in an execute_in_process result."""
    for ev in result.get_asset_materialization_events():
        mat = ev.event_specific_data.materialization
        if mat.asset_key == key:
            return {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return {}


def _staged_restaurants(settings: Settings) -> list[str]:
    """Every restaurant (partition key) in the staged table, in key order."""
    from .core.staging import StagingStore
    from .core.warehouse import Warehouse

    with Warehouse.of(settings).connect(read_only=True) as con:
        return StagingStore(con).restaurant_keys()


def print_serving(settings: Settings) -> None:
    from .core.metrics import MetricsStore, serving_summary
    from .core.warehouse import Backend

    df = MetricsStore(settings.metrics_path, Backend.of(settings)).frame()
    if df.empty:
        return
    last = df[df["run_id"] == df.sort_values("recorded_at")["run_id"].iloc[-1]]
    s = serving_summary(last, None, settings.sla_ttft_ms)
    print("\nLLM serving, last run with LLM calls: " + ", ".join(f"{k}={v}" for k, v in s.items()))


def print_report(settings: Settings, ids: list[str]) -> None:
    """One block per restaurant: its figures, how they were counted, strengths, weaknesses and
    complaints with their prevalence, and the overall summary with who wrote it."""
    from .core.report import report_lines, run_report
    from .core.warehouse import Warehouse

    table = run_report(Warehouse.of(settings), ids)
    print(f"\n{len(table)} restaurant(s)")
    for line in report_lines(table):
        print(line)


def cmd_search(args: argparse.Namespace) -> int:
    from .core.config import validate_restaurant_id
    from .core.embed import EmbedderSpec, make_embedder
    from .core.vectorstore import REVIEWS, VectorStoreError, open_vector_store

    settings = Settings.from_env()
    if args.restaurant:
        validate_restaurant_id(args.restaurant)
    if not settings.qdrant_url and not (settings.qdrant_path / REVIEWS).exists():
        print(
            f"no vector store at {settings.qdrant_path}: run `make run` (or materialize review_embeddings) first",
            file=sys.stderr,
        )
        return 2
    try:
        store = open_vector_store(settings.qdrant_path, settings.qdrant_url, settings.qdrant_api_key)
        try:
            info = store.collection_info(REVIEWS)
            if info is None:
                print(
                    "the reviews collection has not been built yet: materialize review_embeddings first",
                    file=sys.stderr,
                )
                return 2
            embedder = make_embedder(EmbedderSpec(settings.embedder, settings.embed_model))
            if embedder.model_id != info["model_id"]:
                print(
                    f"the store was built with {info['model_id']!r}, the configured embedder is "
                    f"{embedder.model_id!r}: set REVIEWLENS_EMBEDDER / REVIEWLENS_EMBED_MODEL to match",
                    file=sys.stderr,
                )
                return 2
            hits = store.search(REVIEWS, embedder.encode([args.query])[0], args.limit, args.restaurant)
        finally:
            store.close()
    except VectorStoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    texts = _review_texts(settings, [h.key for h in hits])
    print(f"{'score':>6}  {'restaurant':<12} {'review':<12} text")
    for h in hits:
        text = texts.get(h.key, "")
        print(f"{h.score:6.3f}  {h.payload.get('restaurant_id', ''):<12} {h.key:<12} {text[:80]}")
    if not hits:
        print("(no results)")
    return 0


def _review_texts(settings: Settings, review_ids: list[str]) -> dict[str, str]:
    import duckdb

    from .core.warehouse import Warehouse, exists

    wh = Warehouse.of(settings)
    if not review_ids or not exists(wh.path, wh.backend):
        return {}
    try:
        rows = wh.query(
            "select review_id, text from {schema}.reviews where review_id in (select unnest(?::varchar[]))",
            [review_ids],
        )
    except duckdb.IOException:
        return {}  # a run holds the warehouse: print ids and scores only
    return dict(zip(rows["review_id"], rows["text"]))


def cmd_serve_llm(args: argparse.Namespace) -> int:
    """Start the shared vLLM server for the configured preset, print the environment runs need, and
    serve until interrupted (Ctrl-C or SIGTERM stop the server through its process group)."""
    import signal

    from .core.llm.models import get_preset, resolve_model
    from .core.llm.server import vllm_server
    from .devserver import free_port

    signal.signal(signal.SIGTERM, signal.default_int_handler)
    settings = Settings.from_env()
    preset = get_preset(settings.llm_preset)
    model = resolve_model(preset.name, settings.model_cache_dir, print, settings.prod_model_path)
    port = args.port or free_port()
    log = settings.data_dir / "vllm_server.log"
    print(f"starting vLLM ({preset.display_name}) on 127.0.0.1:{port}; log: {log}")
    try:
        with vllm_server(model, preset.display_name, port, args.max_model_len or preset.max_model_len, log) as url:
            print("ready. Runs use it with:")
            print(f"  export REVIEWLENS_LLM_URL={url}/v1 REVIEWLENS_LLM_SERVED_MODEL={preset.display_name}")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("vLLM server stopped")
    return 0


def cmd_cluster(args: argparse.Namespace) -> int:
    """Start or stop the scale-out profile (PostgreSQL + DuckLake + the vLLM server); `up` prints the
    environment to export (also written to <dir>/env)."""
    from . import cluster

    root = Path(args.dir).resolve()
    if args.action == "down":
        cluster.down(root, purge=args.purge)
        return 0
    settings = Settings.from_env()
    env = cluster.up(root, settings.llm_preset, with_llm=not args.no_llm, model_cache_dir=settings.model_cache_dir)
    print(f"\nthe profile is up. In your shell:\n  source {root / 'env'}\nthen `reviewlens run`, `make ui`:")
    for k, v in env.items():
        print(f"  export {k}={shlex.quote(v)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="reviewlens", description="ReviewLens command line")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="load the sample data (if the incoming folder is empty) and run the main job")
    p.add_argument("--restaurants", type=int, default=0, help="only the first N restaurants (0 = all)")
    p.add_argument(
        "--llm-restaurants",
        type=int,
        default=None,
        help="run the LLM stage on the first N restaurants (0 = all; default: all on a GPU or "
        "server, 2 on a CPU; env REVIEWLENS_RUN_LLM_RESTAURANTS)",
    )
    p.set_defaults(func=cmd_run)
    p = sub.add_parser(
        "serve-llm", help="start the shared vLLM server for the configured preset (REVIEWLENS_LLM_PRESET)"
    )
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--max-model-len", type=int, default=0, help="context length (default: the preset's)")
    p.set_defaults(func=cmd_serve_llm)
    p = sub.add_parser(
        "cluster", help="start / stop the scale-out profile: PostgreSQL, DuckLake, the vLLM server (docs/scaling.md)"
    )
    p.add_argument("action", choices=("up", "down"))
    p.add_argument("--dir", default=str(PROJECT_ROOT / ".cluster"), help="the profile's folder (default .cluster)")
    p.add_argument("--no-llm", action="store_true", help="no vLLM server (runs use the in-process engine)")
    p.add_argument("--purge", action="store_true", help="down: also remove the folder (databases, lake)")
    p.set_defaults(func=cmd_cluster)
    p = sub.add_parser("search", help="print the reviews most similar to a query")
    p.add_argument("query")
    p.add_argument("--restaurant", help="only this restaurant's reviews")
    p.add_argument("--limit", type=int, default=10)
    p.set_defaults(func=cmd_search)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())

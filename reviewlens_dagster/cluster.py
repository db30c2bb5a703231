"""The scale-out profile on one machine, started with one command (`reviewlens cluster up`,
`make cluster-up`): a throwaway PostgreSQL (Dagster's run, event and schedule storage and the
DuckLake catalog), the DuckLake data folder, the shared vLLM server for the configured preset, and
a Dagster instance configured for them. It writes the environment to export into `<dir>/env` and
prints it; `reviewlens run`, `make ui` and the daemon then work against the profile unchanged.

Everything lives under one folder (`.cluster/` by default): `postgres/` (the server's data),
`lake/` (Parquet), `dagster_home/dagster.yaml`, `vllm.log`, `vllm.pid`, `state.json`, `env`.
`reviewlens cluster down` stops the servers (the data stays; `--purge` removes the folder).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import yaml

from .core.config import PROJECT_ROOT
from .postgres import Postgres

DAGSTER_DB = "dagster"
LAKE_DB = "lake"


def instance_config(pg: Postgres, dbname: str = DAGSTER_DB, max_concurrent_runs: int = 8) -> dict:
    """The project's dagster.yaml with run, event and schedule storage in PostgreSQL (dagster-postgres):
    several run workers and daemons share it. Runs are queued (QueuedRunCoordinator) and launched as
    processes of their own; pools keep their one slot (no step is in one on this profile unless
    the Qdrant store is embedded)."""
    base = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text(encoding="utf-8"))
    base["storage"] = {"postgres": {"postgres_url": pg.url(dbname)}}
    base["run_coordinator"] = {
        "module": "dagster._core.run_coordinator",
        "class": "QueuedRunCoordinator",
    }
    base.setdefault("concurrency", {}).setdefault("runs", {})["max_concurrent_runs"] = max_concurrent_runs
    return base


def write_instance(home: Path, pg: Postgres, dbname: str = DAGSTER_DB, max_concurrent_runs: int = 8) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    path = home / "dagster.yaml"
    header = "# written by `reviewlens cluster up`: the scale-out profile's instance (docs/scaling.md)\n"
    path.write_text(header + yaml.safe_dump(instance_config(pg, dbname, max_concurrent_runs), sort_keys=False))
    return path


def fresh_profile(pg: Postgres, root: Path, dagster_db: str, lake_db: str):
    """A profile from nothing in ``root`` (tests, benchmarks): the two databases dropped and created
    again, the instance's dagster.yaml under ``root/home``; returns the lake's Backend and that home."""
    from .core.warehouse import Backend

    for db in (dagster_db, lake_db):
        pg.drop_database(db)
        pg.create_database(db)
    home = root / "home"
    write_instance(home, pg, dagster_db)
    return Backend("ducklake", pg.dsn(lake_db), str(root / "lake")), home


def profile_env(
    pg: Postgres, root: Path, llm_url: str | None, served_model: str | None, preset: str, lake_db: str = LAKE_DB
) -> dict:
    """The environment of a run, a daemon or the UI on the profile (``llm_url``: the server's `/v1` URL)."""
    env = {
        "DAGSTER_HOME": str(root / "dagster_home"),
        "REVIEWLENS_WAREHOUSE_BACKEND": "ducklake",
        "REVIEWLENS_DUCKLAKE_CATALOG": pg.dsn(lake_db),
        "REVIEWLENS_DUCKLAKE_DATA": str(root / "lake"),
        "REVIEWLENS_LLM_PRESET": preset,
    }
    if llm_url:
        env["REVIEWLENS_LLM_URL"] = llm_url
        env["REVIEWLENS_LLM_SERVED_MODEL"] = served_model or ""
    return env


def write_env(root: Path, env: dict) -> Path:
    path = root / "env"
    lines = ["# source this file: the scale-out profile (reviewlens cluster up)"]
    lines += [f"export {k}={shlex.quote(v)}" for k, v in env.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


@dataclass
class LLMServer:
    """The shared vLLM server, detached: it outlives the command that started it."""

    root: Path

    @property
    def pid_file(self) -> Path:
        return self.root / "vllm.pid"

    @property
    def log(self) -> Path:
        return self.root / "vllm.log"

    def url(self) -> str | None:
        state = _state(self.root)
        return state.get("llm_url")

    def running(self) -> bool:
        if not self.pid_file.exists():
            return False
        try:
            os.kill(int(self.pid_file.read_text()), 0)
        except (ProcessLookupError, ValueError):
            return False
        url = self.url()
        try:
            return bool(url) and httpx.get(f"{url.removesuffix('/v1')}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, model_path: str, served_name: str, port: int, max_model_len: int, timeout_s: float = 300) -> str:
        from .core.llm.server import start_server

        proc, base = start_server(model_path, served_name, port, max_model_len, self.log, timeout_s)
        self.pid_file.write_text(str(proc.pid))
        return f"{base}/v1"

    def stop(self) -> None:
        from .core.llm.server import stop_server

        if not self.pid_file.exists():
            return
        text = self.pid_file.read_text().strip()
        if text.isdigit():
            stop_server(int(text))
        self.pid_file.unlink(missing_ok=True)


def _state(root: Path) -> dict:
    path = root / "state.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save_state(root: Path, **values) -> None:
    (root / "state.json").write_text(json.dumps({**_state(root), **values}, indent=1))


def up(root: Path, preset: str, with_llm: bool = True, model_cache_dir: Path | None = None, say=print) -> dict:
    """Start (or find running) PostgreSQL and the vLLM server, write the instance and the env file;
    returns the environment."""
    from .devserver import free_port

    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o755)  # the `postgres` user enters it
    state = _state(root)
    pg = Postgres(root / "postgres", int(state.get("pg_port") or free_port()))
    say(f"PostgreSQL: {pg.host}:{pg.port} (data {pg.data_dir}, log {pg.log})")
    pg.start()
    _save_state(root, pg_port=pg.port)
    for db in (DAGSTER_DB, LAKE_DB):
        pg.create_database(db)
    (root / "lake").mkdir(exist_ok=True)
    write_instance(root / "dagster_home", pg)
    llm_url = served = None
    if with_llm:
        from .core.llm.models import get_preset, resolve_model

        p = get_preset(preset)
        served = p.display_name
        server = LLMServer(root)
        if server.running() and state.get("llm_preset") == preset:
            llm_url = server.url()
            say(f"vLLM server already running: {llm_url}")
        else:
            server.stop()
            model = resolve_model(p.name, model_cache_dir or Path.home() / ".cache/reviewlens/models", say, None)
            port = free_port()
            say(f"starting vLLM ({served}) on 127.0.0.1:{port}; log {server.log}")
            llm_url = server.start(model, served, port, p.max_model_len)
            _save_state(root, llm_url=llm_url, llm_preset=preset)
    env = profile_env(pg, root, llm_url, served, preset)
    write_env(root, env)
    return env


def down(root: Path, purge: bool = False, say=print) -> None:
    LLMServer(root).stop()
    state = _state(root)
    if state.get("pg_port"):
        Postgres(root / "postgres", int(state["pg_port"])).stop()
        say("PostgreSQL stopped")
    if purge and root.exists():
        shutil.rmtree(root)
        say(f"removed {root}")


# --------------------------------------------------------------------------- launching runs
TERMINAL = ("SUCCESS", "FAILURE", "CANCELED")


def graphql_client(url: str):
    """The Dagster GraphQL client of a webserver at ``url`` (`http://127.0.0.1:PORT`)."""
    from urllib.parse import urlparse

    from dagster_graphql import DagsterGraphQLClient

    u = urlparse(url)
    return DagsterGraphQLClient(u.hostname, port_number=u.port)


def submit_ranges(client, job: str, ranges: list[list[str]], asset_selection=None) -> list[str]:
    """One run of ``job`` per range of restaurant keys, submitted to the instance's run queue at once
    (the daemon's run coordinator launches them, each in a process of its own)."""
    from .defs.automation import range_tags

    return [client.submit_job_execution(job, tags=range_tags(keys), asset_selection=asset_selection) for keys in ranges]


def wait_runs(client, run_ids: list[str], timeout_s: float, poll_s: float = 1.0) -> dict[str, str]:
    """Each run's final status (``SUCCESS`` / ``FAILURE`` / ``CANCELED``), waiting up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    status: dict[str, str] = {}
    while True:
        status = {r: client.get_run_status(r).value for r in run_ids}
        if all(s in TERMINAL for s in status.values()):
            return status
        if time.monotonic() > deadline:
            raise TimeoutError(f"runs not finished after {timeout_s:.0f} s: {status}")
        time.sleep(poll_s)


def run_errors(home: Path, run_ids: list[str]) -> list[str]:
    """The failed steps' errors (and the run failures) of ``run_ids`` in the instance at ``home``."""
    import dagster as dg

    instance = dg.DagsterInstance.from_config(str(home))
    out = []
    try:
        for run_id in run_ids:
            for r in instance.all_logs(run_id):
                ev = r.dagster_event
                if ev and ev.event_type_value in ("STEP_FAILURE", "RUN_FAILURE"):
                    err = getattr(ev.event_specific_data, "error", None)
                    text = err.to_string() if err else (r.user_message or "")
                    out.append(f"{run_id[:8]} {ev.event_type_value} {ev.step_key}: {text[:300]} ... {text[-1500:]}")
    finally:
        instance.dispose()
    return out

"""Shared fixtures: project settings on temporary paths, a Dagster test instance, sample data."""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import dagster as dg  # noqa: E402

from reviewlens_dagster.core.config import WAREHOUSE_SCHEMA, Settings, settings_in  # noqa: E402
from reviewlens_dagster.synthetic import write_sample  # noqa: E402

warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

FAST_TMP = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    write_sample(out, seed=7, n_restaurants=32)
    return out


def make_settings(root: Path, **overrides) -> Settings:
    return settings_in(root, **overrides)


@pytest.fixture
def workdir():
    d = Path(tempfile.mkdtemp(prefix="reviewlens-", dir=FAST_TMP))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def settings(workdir) -> Settings:
    s = make_settings(workdir)
    s.incoming_dir.mkdir(parents=True)
    return s


@pytest.fixture
def instance(workdir):
    home = workdir / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def copy_sample(sample_dir: Path, incoming: Path, restaurants: set[str] | None = None) -> None:
    """Copy sample files into ``incoming``; with ``restaurants``, keep only their rows (as CSV)."""
    from reviewlens_dagster.core.staging import scan_folder

    if restaurants is None:
        for f in sample_dir.glob("reviews_*"):
            shutil.copy2(f, incoming / f.name)
        return
    scan = scan_folder(sample_dir, files=sorted(sample_dir.glob("reviews_*")))
    df = scan.reviews[scan.reviews["restaurant_id"].isin(restaurants)]
    df.drop(columns=["source_file", "source_row", "content_hash", "source_restaurant_id"]).to_csv(
        incoming / "subset.csv", index=False
    )


def read_table(settings: Settings, name: str):
    """A warehouse table, read-only, in a stable order."""
    import duckdb

    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return con.execute(f"select * from {WAREHOUSE_SCHEMA}.{name} order by all").df()
    finally:
        con.close()


def materialization_metadata(result, key: str) -> dict:
    """Metadata of the materialization of asset ``key`` in an execute_in_process result."""
    mats = [e.event_specific_data.materialization for e in result.all_events if e.is_step_materialization]
    return next(m for m in mats if m.asset_key == dg.AssetKey(key)).metadata


def stage(defs, instance) -> dict:
    """Run the staging job (what the incoming sensor requests); returns staged_reviews' metadata."""
    result = defs.resolve_job_def("staging_job").execute_in_process(instance=instance)
    assert result.success
    return materialization_metadata(result, "staged_reviews")


def tick(defs, name: str, instance, cursor=None):
    """One evaluation of sensor ``name`` as the daemon does it (with the resources it asks for)."""
    sensor = defs.resolve_sensor_def(name)
    wanted = {k: v for k, v in defs.resources.items() if k in sensor.required_resource_keys}
    with dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs, resources=wanted) as ctx:
        return sensor(ctx)


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server of the project's (reviewlens_dagster/postgres.py) for the
    session: DuckLake catalogs and the Dagster instance storage of the scale-out tests. Its folder is
    outside pytest's private tmp so that the `postgres` user can enter it."""
    from reviewlens_dagster.devserver import free_port
    from reviewlens_dagster.postgres import Postgres

    root = Path(tempfile.mkdtemp(prefix="reviewlens-pg-"))
    root.chmod(0o755)
    pg = Postgres(root / "data", free_port())
    pg.start()
    try:
        yield pg
    finally:
        pg.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def lake(postgres, workdir, request):
    """A fresh DuckLake (its own catalog database, Parquet under the test's folder)."""
    import re

    from reviewlens_dagster.core.warehouse import Backend

    name = "lake_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + f"_{os.getpid()}"
    postgres.drop_database(name)
    postgres.create_database(name)
    yield Backend("ducklake", postgres.dsn(name), str(workdir / "lake"))
    postgres.drop_database(name)

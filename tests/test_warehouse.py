"""The warehouse door and IO manager on both backends (a DuckDB file, DuckLake on PostgreSQL): column
types kept when the first partition written has only missing values, empty first writes, old tables."""

import dagster as dg
import duckdb
import pandas as pd
import pytest

from reviewlens_dagster.core.warehouse import Backend, Warehouse, open_database
from reviewlens_dagster.defs.warehouse import WarehouseIOManager, with_text_columns


@pytest.fixture(params=["duckdb", "ducklake"])
def backend(request, workdir) -> Backend:
    return request.getfixturevalue("lake") if request.param == "ducklake" else Backend()


def io_manager(backend: Backend, db: str) -> WarehouseIOManager:
    return WarehouseIOManager(
        database=db,
        schema="s",
        backend=backend.kind,
        ducklake_catalog=backend.catalog,
        ducklake_data_path=backend.data_path,
    )


parts = dg.StaticPartitionsDefinition(["empty", "full"])


@dg.asset(partitions_def=parts, metadata={"partition_expr": "restaurant_id"})
def table(context: dg.AssetExecutionContext) -> pd.DataFrame:
    full = context.partition_key == "full"
    return pd.DataFrame(
        {
            "restaurant_id": [context.partition_key] * 2,
            "name": ["a", None] if full else [None, None],
            "score": pd.Series([0.5, None] if full else [None, None], dtype="float64"),
            "ids": [["x"], ["y", "z"]],
        }
    )


def test_all_missing_first_partition_then_values(workdir, backend):
    db = str(workdir / "w.duckdb")
    resources = {"io_manager": io_manager(backend, db)}
    for key in ("empty", "full", "full"):
        assert dg.materialize([table], partition_key=key, resources=resources).success
    with Warehouse(db, "s", backend).connect(read_only=True) as con:
        types = {r[0]: r[1] for r in con.execute("describe s.table").fetchall()}
        rows = con.execute("select restaurant_id, name, score from s.table order by all").fetchall()
    assert types == {"restaurant_id": "VARCHAR", "name": "VARCHAR", "score": "DOUBLE", "ids": "VARCHAR[]"}
    assert rows == [("empty", None, None), ("empty", None, None), ("full", "a", 0.5), ("full", None, None)]


def test_a_list_column_whose_lists_are_all_empty_is_still_a_list_of_text(workdir, backend):
    """The first partition written has no evidence ([] everywhere): the table must not get INTEGER[]."""

    @dg.asset(partitions_def=parts, metadata={"partition_expr": "restaurant_id", "list_columns": ["ids"]})
    def evidence(context: dg.AssetExecutionContext) -> pd.DataFrame:
        ids = [[], []] if context.partition_key == "empty" else [["rv1"], []]
        return pd.DataFrame({"restaurant_id": [context.partition_key] * 2, "ids": ids})

    db = str(workdir / "w.duckdb")
    resources = {"io_manager": io_manager(backend, db)}
    for key in ("empty", "full"):
        assert dg.materialize([evidence], partition_key=key, resources=resources).success
    with Warehouse(db, "s", backend).connect(read_only=True) as con:
        assert con.execute("select data_type from information_schema.columns where column_name = 'ids'").fetchone() == (
            "VARCHAR[]",
        )
        assert con.execute("select ids from s.evidence where restaurant_id = 'full' order by all").fetchall() == [
            ([],),
            (["rv1"],),
        ]


def test_with_text_columns_leaves_other_columns():
    df = pd.DataFrame({"t": [None, "x"], "n": [1, 2], "l": [["a"], None], "m": [None, 3]})
    out = with_text_columns(df)
    assert str(out["t"].dtype) == "string" and out["n"].dtype == "int64"
    assert out["l"].dtype == object and out["m"].dtype == df["m"].dtype
    assert df["t"].dtype == object  # input unchanged


@dg.asset(partitions_def=parts, metadata={"partition_expr": "restaurant_id", "list_columns": ["review_ids"]})
def sometimes_empty(context: dg.AssetExecutionContext) -> pd.DataFrame:
    """No rows for one partition (e.g. no weakness found), rows with a list column for the other."""
    if context.partition_key == "empty":
        return pd.DataFrame(
            {
                "restaurant_id": pd.Series([], dtype=object),
                "aspect": pd.Series([], dtype=object),
                "review_ids": pd.Series([], dtype=object),
                "share": pd.Series([], dtype="float64"),
            }
        )
    return pd.DataFrame({"restaurant_id": ["full"], "aspect": ["맛"], "review_ids": [["v1", "v2"]], "share": [0.8]})


@dg.asset(partitions_def=parts, io_manager_key="mem")
def reader(sometimes_empty: pd.DataFrame) -> int:
    return len(sometimes_empty)


def test_an_empty_first_write_creates_the_table_with_its_list_columns(workdir, backend):
    db = str(workdir / "w.duckdb")
    resources = {"io_manager": io_manager(backend, db), "mem": dg.InMemoryIOManager()}
    # the downstream asset reads an empty table instead of failing on a missing one
    res = dg.materialize([sometimes_empty, reader], partition_key="empty", resources=resources)
    assert res.success and res.output_for_node("reader") == 0
    assert dg.materialize([sometimes_empty, reader], partition_key="full", resources=resources).success
    with Warehouse(db, "s", backend).connect(read_only=True) as con:
        types = {r[0]: r[1] for r in con.execute("describe s.sometimes_empty").fetchall()}
        rows = con.execute("select restaurant_id, review_ids from s.sometimes_empty").fetchall()
    assert types == {"restaurant_id": "VARCHAR", "aspect": "VARCHAR", "review_ids": "VARCHAR[]", "share": "DOUBLE"}
    assert rows == [("full", ["v1", "v2"])]


def test_table_from_an_older_release_gains_new_columns(tmp_path):

    from reviewlens_dagster.defs.warehouse import align_with_table

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("create schema s; create table s.t (restaurant_id varchar, n bigint)")
    con.execute("insert into s.t values ('old', 1)")
    obj = pd.DataFrame({"n": [2], "restaurant_id": ["new"], "source_restaurant_id": ["새 id"]})
    aligned = align_with_table(obj, "s", "t", con)
    assert list(aligned.columns) == ["restaurant_id", "n", "source_restaurant_id"]
    con.execute("insert into s.t select * from aligned")
    assert con.execute("select * from s.t order by n").fetchall() == [("old", 1, None), ("new", 2, "새 id")]


@dg.asset(partitions_def=parts, metadata={"partition_expr": "restaurant_id"})
def highlights(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return pd.DataFrame({"restaurant_id": [context.partition_key], "aspect": ["맛"]})


def test_a_renamed_table_is_migrated_by_the_first_write_and_read_before_it(workdir, backend):
    """`strengths` became `highlights` (core/warehouse.py RENAMED_TABLES): a warehouse written before
    reads its rows under the new name, and the first write renames the table, keeping every row."""
    db = str(workdir / "w.duckdb")
    with open_database(db, backend) as con:
        con.execute("create schema if not exists s")
        con.execute("create table s.strengths as select 'empty' as restaurant_id, '양' as aspect")
    wh = Warehouse(db, "s", backend)
    assert wh.read("highlights").values.tolist() == [["empty", "양"]]  # not migrated yet: the old table
    resources = {"io_manager": io_manager(backend, db)}
    assert dg.materialize([highlights], partition_key="full", resources=resources).success
    with wh.connect(read_only=True) as con:
        assert {"highlights"} <= wh.tables(con) and "strengths" not in wh.tables(con)
    assert sorted(wh.read("highlights").values.tolist()) == [["empty", "양"], ["full", "맛"]]
    assert dg.materialize([highlights], partition_key="full", resources=resources).success  # idempotent
    assert len(wh.read("highlights")) == 2


def test_configuration_is_declared_once_and_documented():
    """README's configuration table is exactly the one generated from Settings, every setting reaches a
    resource by name, and no module but core/config.py reads a REVIEWLENS_ variable."""
    import re
    from dataclasses import fields
    from pathlib import Path

    from reviewlens_dagster.core.config import Settings, configuration_table
    from reviewlens_dagster.defs import resources

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- configuration table: generated, do not edit -->\n")[1].split("\n<!-- end")[0]
    assert block.strip() == configuration_table().strip(), "run python -m reviewlens_dagster.core.config"
    used = set()
    for cls in (
        resources.WarehouseResource,
        resources.StagingResource,
        resources.VectorSettings,
        resources.AnalysisResource,
        resources.CompareResource,
        resources.ReportSettings,
        resources.LLMEngineResource,
        resources.VectorStoreResource,
        resources.EmbedderResource,
    ):
        used |= set(cls.model_fields)
    # settings read outside the resources: paths of the whole project, the CLI's and the sensors' switch
    elsewhere = {"data_dir", "metrics_path", "run_llm_restaurants", "automation", "qdrant_path"}
    assert {f.name for f in fields(Settings)} - used - elsewhere == set()
    readers = [
        p.relative_to(root).as_posix()
        for p in (root / "reviewlens_dagster").rglob("*.py")
        if re.search(r"environ(\.get)?\(?\[?\s*[\"']REVIEWLENS_", p.read_text(encoding="utf-8"))
    ]
    assert readers == [], readers


def test_the_warehouse_door_reads_without_creating_and_refuses_odd_table_names(tmp_path):
    import pytest

    from reviewlens_dagster.core.warehouse import Warehouse

    wh = Warehouse(tmp_path / "w.duckdb")
    assert list(wh.read("reviews", ["restaurant_id"]).columns) == ["restaurant_id"]
    assert not (tmp_path / "w.duckdb").exists()  # a reader never creates the file
    with wh.connect() as con:
        con.execute(f"create schema {wh.schema}; create table {wh.schema}.t as select 1 as a, 'x' as b")
    assert wh.read("t").to_dict("records") == [{"a": 1, "b": "x"}] and wh.read("missing", ["a"]).empty
    assert wh.query("select b from {schema}.t where a = ?", [1])["b"].tolist() == ["x"]
    with pytest.raises(ValueError, match="not a table name"):
        wh.read("t; drop table t")


def test_a_renamed_setting_keeps_its_former_name_and_value():
    """REVIEWLENS_SAMPLE_SIZE and the scope `sample` (the LLM's subset, named apart from the sample data
    on 2026-12-04) still work; the new name wins where both are set."""
    from reviewlens_dagster.core.config import Settings

    old = Settings.from_env({"REVIEWLENS_ANALYSIS_SCOPE": "sample", "REVIEWLENS_SAMPLE_SIZE": "7"})
    assert (old.analysis_scope, old.llm_subset_size) == ("subset", 7)
    both = Settings.from_env({"REVIEWLENS_SAMPLE_SIZE": "7", "REVIEWLENS_LLM_SUBSET_SIZE": "9"})
    assert both.llm_subset_size == 9
    with pytest.raises(ValueError, match="must be one of auto, subset, all"):
        Settings.from_env({"REVIEWLENS_ANALYSIS_SCOPE": "some"})


def test_one_llm_policy_decides_the_scope_and_the_run():
    """Where the LLM reads is decided once (core/config.py LLMPolicy): the resources' scope and
    `reviewlens run`'s LLM restaurants."""
    from reviewlens_dagster.core.config import CPU_RUN_LLM_RESTAURANTS, LLMPolicy, Settings

    def never():
        raise AssertionError("the device is asked only where it decides")

    prod = LLMPolicy.of(Settings.from_env({"REVIEWLENS_LLM_PRESET": "prod"}))
    assert prod.scope == "all" and prod.run_restaurants(never) == 0
    server = LLMPolicy.of(Settings.from_env({"REVIEWLENS_LLM_URL": "http://127.0.0.1:1/v1"}))
    assert server.scope == "all" and server.run_restaurants(never) == 0
    small = LLMPolicy.of(Settings.from_env({}))
    assert small.scope == "subset" and small.run_restaurants(lambda: True) == CPU_RUN_LLM_RESTAURANTS
    assert small.run_restaurants(lambda: False) == 0
    chosen = LLMPolicy.of(
        Settings.from_env({"REVIEWLENS_ANALYSIS_SCOPE": "all", "REVIEWLENS_RUN_LLM_RESTAURANTS": "5"})
    )
    assert chosen.scope == "all" and chosen.run_restaurants(never) == 5


def test_bad_warehouse_settings_fail_with_the_setting_named(tmp_path, monkeypatch):
    """DuckLake without a catalog, an unreachable PostgreSQL, missing extension packages: each a clear
    error naming what to set or install, before anything is written."""
    import duckdb_ext

    from reviewlens_dagster.core.warehouse import WarehouseConfigError

    with pytest.raises(WarehouseConfigError, match="needs REVIEWLENS_DUCKLAKE_CATALOG"):
        Backend("ducklake")
    with pytest.raises(WarehouseConfigError, match="REVIEWLENS_WAREHOUSE_BACKEND='sqlite'"):
        Backend("sqlite")
    dead = Backend("ducklake", "dbname=lake host=127.0.0.1 port=9 user=postgres password=hunter2", str(tmp_path))
    with pytest.raises(WarehouseConfigError, match="cannot open the DuckLake catalog REVIEWLENS_DUCKLAKE_CATALOG") as e:
        Warehouse("", backend=dead).read("reviews")
    assert "hunter2" not in str(e.value) and "password=***" in str(e.value)
    monkeypatch.setattr(duckdb_ext, "__path__", [str(tmp_path)])
    with pytest.raises(WarehouseConfigError, match="duckdb-ext-ducklake and duckdb-ext-postgres"):
        Warehouse("", backend=dead).read("reviews")


def test_a_lake_holds_the_llm_cache_and_the_metrics_of_every_worker(lake):
    """The LLM cache (keys overwritten, not duplicated) and the serving metrics in the lake's schemas."""
    from reviewlens_dagster.core.analysis.cache import LLMCache
    from reviewlens_dagster.core.llm.types import LLMResult
    from reviewlens_dagster.core.metrics import MetricsStore

    cache = LLMCache("", lake)
    assert cache.get_many(["k1"]) == {}
    cache.put_many([("k1", "t", "m", "v", {"a": 1}), ("k2", "t", "m", "v", {"b": 2})])
    cache.put_many([("k1", "t", "m", "v", {"a": 3})])
    assert cache.get_many(["k1", "k2", "k3"]) == {"k1": {"a": 3}, "k2": {"b": 2}}
    with open_database("", lake, "llm_cache", read_only=True) as con:
        assert con.execute("select count(*) from llm_cache").fetchone() == (2,)
    store = MetricsStore("", lake)
    assert store.frame().empty
    result = LLMResult(request_id="q1", text="{}", model="m", prompt_tokens=5, output_tokens=2, tags={"asset": "a"})
    assert store.record("run-a", [result]) == 1 and store.record("run-b", [result, result]) == 2
    assert store.frame().groupby("run_id").size().to_dict() == {"run-a": 1, "run-b": 2}
    assert len(store.frame("run-a")) == 1

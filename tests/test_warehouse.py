"""The warehouse IO manager keeps column types when the first partition written has only missing values."""


import dagster as dg
import duckdb
import pandas as pd

from reviewlens_dagster.defs.warehouse import WarehouseIOManager, with_text_columns

parts = dg.StaticPartitionsDefinition(["empty", "full"])


@dg.asset(partitions_def=parts, metadata={"partition_expr": "restaurant_id"})
def table(context: dg.AssetExecutionContext) -> pd.DataFrame:
    full = context.partition_key == "full"
    return pd.DataFrame({
        "restaurant_id": [context.partition_key] * 2,
        "name": ["a", None] if full else [None, None],
        "score": pd.Series([0.5, None] if full else [None, None], dtype="float64"),
        "ids": [["x"], ["y", "z"]],
    })


def test_all_missing_first_partition_then_values(workdir):
    db = str(workdir / "w.duckdb")
    resources = {"io_manager": WarehouseIOManager(database=db, schema="s")}
    for key in ("empty", "full", "full"):
        assert dg.materialize([table], partition_key=key, resources=resources).success
    con = duckdb.connect(db, read_only=True)
    types = {r[0]: r[1] for r in con.execute("describe s.table").fetchall()}
    rows = con.execute("select restaurant_id, name, score from s.table order by all").fetchall()
    con.close()
    assert types == {"restaurant_id": "VARCHAR", "name": "VARCHAR", "score": "DOUBLE", "ids": "VARCHAR[]"}
    assert rows == [("empty", None, None), ("empty", None, None), ("full", "a", 0.5), ("full", None, None)]


def test_with_text_columns_leaves_other_columns():
    df = pd.DataFrame({"t": [None, "x"], "n": [1, 2], "l": [["a"], None], "m": [None, 3]})
    out = with_text_columns(df)
    assert str(out["t"].dtype) == "string" and out["n"].dtype == "int64"
    assert out["l"].dtype == object and out["m"].dtype == df["m"].dtype
    assert df["t"].dtype == object  # input unchanged

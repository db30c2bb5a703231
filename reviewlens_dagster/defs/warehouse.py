"""The warehouse IO manager: dagster-duckdb-pandas on the warehouse's one door (core/warehouse.py:
the DuckDB file, or DuckLake), with stable column types.

Each output replaces its partitions in one transaction (delete the run's partitions, insert the
frame): a crash leaves the previous rows, never half of them. On DuckLake a transaction that
conflicts with a concurrent writer's commit is retried whole (``retry_conflict``).

dagster-duckdb creates a table from the first DataFrame written to it (`create table as select`).
An object column that holds only None in that first write (a restaurant with no names, a
comparison without a group) would become a column of type NULL, and every later partition with
a real value would fail to insert. Text columns are therefore written as pandas' `string` dtype
(VARCHAR even when empty); numeric columns are typed by the assets themselves.

A table created by an older release gains the columns added since (`align_with_table`).

An empty frame still creates its table (dagster-duckdb skips it), so a downstream asset reads an
empty table instead of failing on a missing one (a run where no restaurant has a weakness). List
columns cannot be told from an empty object column: an asset names them in its output metadata
(`list_columns`), and they are written as `VARCHAR[]`.
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import dagster as dg
import pandas as pd
import pyarrow as pa
from dagster._core.definitions.metadata import TableMetadataSet
from dagster._core.storage.db_io_manager import DbIOManager
from dagster_duckdb.io_manager import DuckDbClient
from dagster_duckdb_pandas import DuckDBPandasIOManager
from dagster_duckdb_pandas.duckdb_pandas_type_handler import DuckDBPandasTypeHandler
from pydantic import Field

from ..core.config import WAREHOUSE_SCHEMA
from ..core.warehouse import Backend, has_table, migrate_renamed_tables, open_database, retry_conflict, transaction

LIST_OF_TEXT = pd.ArrowDtype(pa.list_(pa.string()))


def with_text_columns(df: pd.DataFrame, list_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Object columns whose values are all str or missing -> `string` dtype, ``list_columns`` -> list
    of strings (other columns unchanged). A list column is typed even when it has values: where
    every list of a write is empty, DuckDB would infer INTEGER[] and create the table with it (the
    first partition written with no evidence), and the next partition's ids would not insert."""
    lists = {c: LIST_OF_TEXT for c in list_columns if c in df.columns and df[c].dtype == object}
    text = {
        c: "string"
        for c in df.columns
        if c not in lists
        and df[c].dtype == object
        and pd.api.types.infer_dtype(df[c], skipna=True) in ("string", "empty")
    }
    return df.astype({**text, **lists}) if text or lists else df


def align_with_table(obj: pd.DataFrame, schema: str, table: str, connection) -> pd.DataFrame:
    """A table written by an older release keeps its data: columns the frame has and the table lacks
    are added (nullable), and the frame is put in the table's column order (dagster-duckdb inserts
    by position)."""
    have = [
        r[0]
        for r in connection.execute(
            "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
            "order by ordinal_position",
            [schema, table],
        ).fetchall()
    ]
    if not have or have == list(obj.columns):
        return obj
    types = {r[0]: r[1] for r in connection.execute("describe select * from obj").fetchall()}
    for col in obj.columns:
        if col not in have:
            connection.execute(f'alter table {schema}.{table} add column "{col}" {types[col]}')
            have.append(col)
    return obj.reindex(columns=have)


class TypedPandasTypeHandler(DuckDBPandasTypeHandler):
    def load_input(self, context, table_slice, connection) -> pd.DataFrame:
        """A table never written reads as an empty frame: an optional upstream (the LLM's outputs,
        which a restaurant the LLM did not read lacks) gives no rows instead of failing the step."""
        if not has_table(connection, table_slice.schema, table_slice.table):
            return pd.DataFrame()
        return super().load_input(context, table_slice, connection)

    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        """Write the frame (the table created from it on first use, also when it is empty) and return
        the output metadata instead of adding it: the IO manager adds it once, after the commit, so a
        transaction retried after a DuckLake conflict does not add it twice."""
        obj = with_text_columns(obj, (context.definition_metadata or {}).get("list_columns") or ())
        obj = align_with_table(obj, table_slice.schema, table_slice.table, connection)
        name = f"{table_slice.schema}.{table_slice.table}"
        if not has_table(connection, table_slice.schema, table_slice.table):
            connection.execute(f"create table {name} as select * from obj limit 0")
        if not obj.empty:
            connection.execute(f"insert into {name} select * from obj")
        rows = TableMetadataSet(partition_row_count=len(obj)) if context.has_partition_key else None
        return {
            **dict(rows or TableMetadataSet(row_count=len(obj))),
            "dataframe_columns": dg.MetadataValue.table_schema(
                dg.TableSchema(columns=[dg.TableColumn(name=str(c), type=str(t)) for c, t in obj.dtypes.items()])
            ),
        }


class WarehouseClient(DuckDbClient):
    """dagster-duckdb's client on the warehouse door, one transaction per output."""

    @staticmethod
    def delete_table_slice(context, table_slice, connection) -> None:
        # checked, not caught: an error inside the transaction would abort it
        if has_table(connection, table_slice.schema, table_slice.table):
            DuckDbClient.delete_table_slice(context, table_slice, connection)

    @staticmethod
    @contextmanager
    def connect(context, _) -> Iterator:
        cfg = context.resource_config
        backend = Backend(cfg["backend"], cfg.get("ducklake_catalog"), cfg.get("ducklake_data_path"))
        with open_database(cfg["database"], backend) as con, transaction(con):
            # tables renamed since this warehouse was written: renamed before the first write touches them
            schema = cfg.get("schema") or WAREHOUSE_SCHEMA
            migrate_renamed_tables(con, schema, (cfg["database"], backend, schema))
            yield con


class WarehouseDbIOManager(DbIOManager):
    @retry_conflict
    def handle_output(self, context, obj) -> None:
        super().handle_output(context, obj)


class WarehouseIOManager(DuckDBPandasIOManager):
    """DuckDBPandasIOManager on the warehouse door (``backend``: ``duckdb`` = the file ``database``,
    ``ducklake`` = the lake), whose tables keep VARCHAR text columns from the first write on."""

    backend: str = Field(default="duckdb", description="`duckdb` (the file `database`) or `ducklake`")
    ducklake_catalog: str | None = Field(default=None, description="DuckLake's PostgreSQL catalog (libpq)")
    ducklake_data_path: str | None = Field(default=None, description="DuckLake's Parquet folder")

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @staticmethod
    def type_handlers() -> Sequence[TypedPandasTypeHandler]:
        return [TypedPandasTypeHandler()]

    def create_io_manager(self, context) -> DbIOManager:
        Backend(self.backend, self.ducklake_catalog, self.ducklake_data_path)  # a bad setting fails here, named
        return WarehouseDbIOManager(
            db_client=WarehouseClient(),
            database=self.database,
            schema=self.schema_,
            type_handlers=self.type_handlers(),
            default_load_type=self.default_load_type(),
            io_manager_name="WarehouseIOManager",
        )

"""The DuckDB warehouse IO manager: dagster-duckdb-pandas with stable column types.

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

from collections.abc import Sequence

import pandas as pd
import pyarrow as pa
from dagster_duckdb_pandas import DuckDBPandasIOManager
from dagster_duckdb_pandas.duckdb_pandas_type_handler import DuckDBPandasTypeHandler

LIST_OF_TEXT = pd.ArrowDtype(pa.list_(pa.string()))


def with_text_columns(df: pd.DataFrame, list_columns: Sequence[str] = ()) -> pd.DataFrame:
    """Object columns whose values are all str or missing -> `string` dtype, ``list_columns`` of
    an empty frame -> list of strings (other columns unchanged)."""
    lists = {c: LIST_OF_TEXT for c in list_columns if c in df.columns and df.empty}
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
        exists = connection.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [table_slice.schema, table_slice.table],
        ).fetchone()[0]
        return super().load_input(context, table_slice, connection) if exists else pd.DataFrame()

    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        obj = with_text_columns(obj, (context.definition_metadata or {}).get("list_columns") or ())
        obj = align_with_table(obj, table_slice.schema, table_slice.table, connection)
        if obj.empty:
            connection.execute(
                f"create table if not exists {table_slice.schema}.{table_slice.table} as select * from obj"
            )
        super().handle_output(context, table_slice, obj, connection)


class WarehouseIOManager(DuckDBPandasIOManager):
    """DuckDBPandasIOManager whose tables keep VARCHAR text columns from the first write on."""

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @staticmethod
    def type_handlers() -> Sequence[TypedPandasTypeHandler]:
        return [TypedPandasTypeHandler()]

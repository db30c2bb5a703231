"""The DuckDB warehouse IO manager: dagster-duckdb-pandas with stable column types.

dagster-duckdb creates a table from the first DataFrame written to it (`create table as select`).
An object column that holds only None in that first write (a restaurant with no names, a
comparison without a group) would become a column of type NULL, and every later partition with
a real value would fail to insert. Text columns are therefore written as pandas' `string` dtype
(VARCHAR even when empty); numeric columns are typed by the assets themselves.
"""

from collections.abc import Sequence

import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager
from dagster_duckdb_pandas.duckdb_pandas_type_handler import DuckDBPandasTypeHandler


def with_text_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns whose values are all str or missing -> `string` dtype (other columns unchanged)."""
    text = [c for c in df.columns
            if df[c].dtype == object and pd.api.types.infer_dtype(df[c], skipna=True) in ("string", "empty")]
    return df.astype({c: "string" for c in text}) if text else df


class TypedPandasTypeHandler(DuckDBPandasTypeHandler):
    def handle_output(self, context, table_slice, obj: pd.DataFrame, connection):
        super().handle_output(context, table_slice, with_text_columns(obj), connection)


class WarehouseIOManager(DuckDBPandasIOManager):
    """DuckDBPandasIOManager whose tables keep VARCHAR text columns from the first write on."""

    @classmethod
    def _is_dagster_maintained(cls) -> bool:
        return False

    @staticmethod
    def type_handlers() -> Sequence[TypedPandasTypeHandler]:
        return [TypedPandasTypeHandler()]

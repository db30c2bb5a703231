"""The one door to the warehouse for everything outside the IO manager: staging (writer), the run
report, comparisons' cross-partition read, the CLI and the evaluation (readers).

Backend: the DuckDB file (`REVIEWLENS_WAREHOUSE`, the embedded default), one writer process at a
time: a writer retries a locked file with backoff (``db.retry_locked``); a reader of a file that
does not exist yet gets empty answers instead of creating it. The Dagster IO manager
(defs/warehouse.py) opens the same file through dagster-duckdb. A second backend (a lakehouse
with a shared catalog, for concurrent writers on several machines) plugs in here: see
docs/scaling.md.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from .config import WAREHOUSE_SCHEMA
from .db import retry_locked


class Warehouse:
    def __init__(self, path: Path | str, schema: str = WAREHOUSE_SCHEMA) -> None:
        self.path = Path(path)
        self.schema = schema

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection (the writer's is retried while another process holds the file)."""
        if read_only:
            con = duckdb.connect(str(self.path), read_only=True)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = retry_locked(duckdb.connect)(str(self.path))
        try:
            yield con
        finally:
            con.close()

    def tables(self, con: duckdb.DuckDBPyConnection) -> set[str]:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [self.schema]
        ).fetchall()
        return {r[0] for r in rows}

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Every row of ``table`` (all partitions); an empty frame (with ``columns``) when the file or
        the table does not exist yet."""
        table = _name(table)
        empty = pd.DataFrame(columns=columns or [])
        if not self.path.exists():
            return empty
        with self.connect(read_only=True) as con:
            if table not in self.tables(con):
                return empty
            return con.execute(f"select * from {self.schema}.{table}").df()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """A read-only query; ``{schema}`` in ``sql`` is the warehouse schema. Values go as parameters."""
        with self.connect(read_only=True) as con:
            return con.execute(sql.format(schema=self.schema), params or []).df()


def _name(table: str) -> str:
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {table!r}")
    return table

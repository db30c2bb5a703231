"""The one door to the warehouse: every reader and writer (the Dagster IO manager, staging, the
comparisons' cross-partition read, the run report, the CLI, the evaluation, the LLM cache and the
serving metrics) opens its connection here. Two backends, chosen by settings:

- ``duckdb`` (the embedded default): a DuckDB file. One writer process at a time: a writer retries
  a locked file with backoff; a reader of a file that does not exist yet gets empty answers
  instead of creating it. The LLM cache and the metrics keep files of their own.
- ``ducklake``: DuckLake (https://ducklake.select), its catalog in PostgreSQL and its data Parquet
  files under a data path (a folder here, an object store in production). Writers on several
  machines commit at the same time; a transaction that conflicts with a concurrent commit is
  retried. The warehouse tables are in schema ``reviewlens``, the LLM cache in ``llm_cache``, the
  metrics in ``serving``, all in the one lake.

The DuckDB extensions cannot be downloaded at run time: they come from the `duckdb-ext-ducklake`
and `duckdb-ext-postgres` packages (built for DuckDB 1.4.4, which the project pins) and are loaded
from their files.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import tenacity

from .config import WAREHOUSE_SCHEMA
from .db import retry_locked

log = logging.getLogger("reviewlens.warehouse")

#: the extension packages' files, in load order
EXTENSIONS = ("postgres_scanner", "ducklake")
LAKE = "lake"

#: DuckLake: a commit that conflicts with a concurrent one raises a TransactionException ("conflict"),
#: and two processes creating the same schema or table at once can both see it missing; retried
#: whole (the caller's unit of work starts again), with jitter so the writers do not collide again
retry_conflict = tenacity.retry(
    retry=tenacity.retry_if_exception(
        lambda e: (
            isinstance(e, duckdb.TransactionException)
            or (isinstance(e, duckdb.CatalogException) and "already exists" in str(e))
        )
    ),
    wait=tenacity.wait_random_exponential(multiplier=0.1, max=3),
    stop=tenacity.stop_after_attempt(12),
    before_sleep=lambda state: log.warning(
        "warehouse transaction conflicted with a concurrent commit, retrying (attempt %d): %s",
        state.attempt_number,
        str(state.outcome.exception()).splitlines()[0],
    ),
    reraise=True,
)


class WarehouseConfigError(RuntimeError):
    """A warehouse setting that cannot work (names the setting)."""


@dataclass(frozen=True)
class Backend:
    """Which warehouse: ``duckdb`` (files) or ``ducklake`` (``catalog``: a libpq connection string of
    the PostgreSQL catalog database; ``data_path``: where the Parquet files go)."""

    kind: str = "duckdb"
    catalog: str | None = None
    data_path: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("duckdb", "ducklake"):
            raise WarehouseConfigError(f"REVIEWLENS_WAREHOUSE_BACKEND={self.kind!r}: expected duckdb or ducklake")
        if self.kind == "ducklake" and not self.catalog:
            raise WarehouseConfigError(
                "REVIEWLENS_WAREHOUSE_BACKEND=ducklake needs REVIEWLENS_DUCKLAKE_CATALOG (the PostgreSQL catalog "
                "database, e.g. `dbname=lake host=127.0.0.1 port=5432 user=postgres`; `make cluster-up` prints one)"
            )

    @classmethod
    def of(cls, settings) -> Backend:
        return cls(settings.warehouse_backend, settings.ducklake_catalog, str(settings.ducklake_data_path))

    @property
    def shared(self) -> bool:
        """Several writer processes at once (no concurrency pool needed)."""
        return self.kind == "ducklake"


def extension_dir() -> Path:
    try:
        import duckdb_ext
    except ImportError as exc:
        raise WarehouseConfigError(
            "REVIEWLENS_WAREHOUSE_BACKEND=ducklake needs the packages duckdb-ext-ducklake and duckdb-ext-postgres "
            "(`pip install -e .`)"
        ) from exc
    version = duckdb.__version__
    for root in duckdb_ext.__path__:
        d = Path(root) / "extensions" / f"v{version}" / "linux_amd64"
        if all((d / f"{e}.duckdb_extension").exists() for e in EXTENSIONS):
            return d
    raise WarehouseConfigError(
        f"no DuckLake / postgres extension files for DuckDB {version} in {list(duckdb_ext.__path__)}: "
        "REVIEWLENS_WAREHOUSE_BACKEND=ducklake needs duckdb-ext-ducklake and duckdb-ext-postgres built for this "
        "DuckDB (the project pins both)"
    )


def _attach_lake(con: duckdb.DuckDBPyConnection, backend: Backend, read_only: bool) -> None:
    ext = extension_dir()
    for e in EXTENSIONS:
        con.execute(f"LOAD '{ext / f'{e}.duckdb_extension'}'")
    data = Path(backend.data_path or "lake")
    if not read_only:
        data.mkdir(parents=True, exist_ok=True)
    options = [f"DATA_PATH '{_literal(str(data))}/'"] + (["READ_ONLY"] if read_only else [])
    try:
        con.execute(f"ATTACH '{_literal('ducklake:postgres:' + backend.catalog)}' AS {LAKE} ({', '.join(options)})")
    except duckdb.Error as exc:
        # not chained: DuckDB's message repeats the connection string, password included
        raise WarehouseConfigError(
            f"cannot open the DuckLake catalog REVIEWLENS_DUCKLAKE_CATALOG={_redacted(backend.catalog)!r}: "
            f"{_redacted(str(exc).splitlines()[0])} (is PostgreSQL running? `make cluster-up` starts one)"
        ) from None


def _redacted(text: str | None) -> str:
    return re.sub(r"(password\s*=\s*)('[^']*'|\S+)", r"\1***", text or "")


def _literal(text: str) -> str:
    return text.replace("'", "''")


@contextmanager
def open_database(
    path: Path | str, backend: Backend, schema: str | None = None, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to one database of the warehouse: with ``duckdb`` the file at ``path`` (the
    writer's open is retried while another process holds it); with ``ducklake`` the lake, ``schema``
    (created by a writer) as the current schema, so unqualified names are the store's tables."""
    if backend.kind == "duckdb":
        try:
            if read_only:
                con = duckdb.connect(str(path), read_only=True)
            else:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                con = retry_locked(duckdb.connect)(str(path))
        except duckdb.IOException as exc:
            if "version number" not in str(exc):
                raise
            raise WarehouseConfigError(
                f"{path} was written by another DuckDB release than this one ({duckdb.__version__}, pinned for "
                "the DuckLake extension packages): remove it (`make clean`; the warehouse is rebuilt from the "
                "incoming folder, the LLM cache and metrics start empty) or export it with the DuckDB that wrote it"
            ) from exc
    else:
        con = duckdb.connect()
        try:
            _attach_lake(con, backend, read_only)
            if schema:
                if not read_only:
                    retry_conflict(con.execute)(f"CREATE SCHEMA IF NOT EXISTS {LAKE}.{_name(schema)}")
                con.execute(f"USE {LAKE}.{_name(schema)}" if _has_schema(con, schema) else f"USE {LAKE}")
            else:
                con.execute(f"USE {LAKE}")
        except BaseException:
            con.close()
            raise
    try:
        yield con
    finally:
        con.close()


def exists(path: Path | str, backend: Backend) -> bool:
    """Whether there is anything to read (a ``duckdb`` file that was never written: no)."""
    return backend.kind == "ducklake" or Path(path).exists()


def _has_schema(con: duckdb.DuckDBPyConnection, schema: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.schemata where catalog_name = ? and schema_name = ?",
            [LAKE, schema],
        ).fetchone()[0]
    )


def has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, table],
        ).fetchone()[0]
    )


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """BEGIN ... COMMIT, ROLLBACK on any error: a partition is replaced whole or not at all."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


#: tables renamed (new name -> the name before): 2026-12-04 `strengths` -> `highlights` (it holds
#: strengths, weaknesses and complaints). A writer renames the old table on first connect
#: (:func:`migrate_renamed_tables`); a reader of a warehouse not yet migrated reads the old one.
RENAMED_TABLES: dict[str, str] = {"highlights": "strengths"}


def resolve_table(name: str, tables: set[str]) -> str | None:
    """The table that holds ``name``'s rows in a warehouse with ``tables``: itself, or its name before
    a rename (not yet migrated), or None."""
    if name in tables:
        return name
    old = RENAMED_TABLES.get(name)
    return old if old in tables else None


#: warehouses (the caller's key) found with nothing left to rename: not looked at again in this process
_MIGRATED: set = set()


def migrate_renamed_tables(con: duckdb.DuckDBPyConnection, schema: str, key=None) -> list[str]:
    """Rename each old table whose new one does not exist yet (idempotent; inside the caller's
    transaction, so it commits with the first write or not at all). Returns what was renamed.
    ``key``: the warehouse's identity; once it has nothing left to rename, later calls with it skip
    the lookups (one that renamed is looked at again: its transaction may still roll back)."""
    if key is not None and key in _MIGRATED:
        return []
    done = []
    for new, old in RENAMED_TABLES.items():
        if has_table(con, schema, old) and not has_table(con, schema, new):
            con.execute(f"ALTER TABLE {_name(schema)}.{_name(old)} RENAME TO {_name(new)}")
            done.append(f"{old} -> {new}")
    if key is not None and not done:
        _MIGRATED.add(key)
    return done


class Warehouse:
    """The warehouse tables (schema ``reviewlens``): ``path`` is the DuckDB file of the ``duckdb``
    backend (unused with ``ducklake``)."""

    def __init__(self, path: Path | str, schema: str = WAREHOUSE_SCHEMA, backend: Backend | None = None) -> None:
        self.path = Path(path)
        self.schema = schema
        self.backend = backend or Backend()

    @classmethod
    def of(cls, settings) -> Warehouse:
        return cls(settings.warehouse_path, backend=Backend.of(settings))

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        with open_database(self.path, self.backend, None, read_only) as con:
            yield con

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
        if not exists(self.path, self.backend):
            return empty
        with self.connect(read_only=True) as con:
            found = resolve_table(table, self.tables(con))
            if found is None:
                return empty
            return con.execute(f"select * from {self.schema}.{found}").df()

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        """A read-only query; ``{schema}`` in ``sql`` is the warehouse schema. Values go as parameters."""
        with self.connect(read_only=True) as con:
            return con.execute(sql.format(schema=self.schema), params or []).df()


def _name(table: str) -> str:
    if not table.replace("_", "").isalnum():
        raise ValueError(f"not a table name: {table!r}")
    return table

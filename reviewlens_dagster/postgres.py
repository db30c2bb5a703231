"""A throwaway PostgreSQL server of the project's (the scale-out profile's catalog and Dagster
instance storage; the concurrency test).

Debian's `postgresql` package (installed by `make postgres` when missing). The server refuses to
run as root: as root, the data folder is given to the `postgres` user and every server command
runs as that user (`runuser`). It listens on 127.0.0.1 only, on the port it was started with, with
trust authentication (a local, throwaway server: never expose it).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import tenacity


class PostgresError(RuntimeError):
    pass


def pg_bin(name: str) -> str:
    """The path of a PostgreSQL server program (initdb, pg_ctl, ...)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True) or [shutil.which(name) or ""]
    if not found[0]:
        raise PostgresError(
            f"PostgreSQL's `{name}` is not installed: run `make postgres` (Debian's postgresql package; "
            "as root, or with sudo)"
        )
    return found[0]


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@dataclass(frozen=True)
class Postgres:
    data_dir: Path
    port: int
    host: str = "127.0.0.1"
    user: str = "postgres"

    def dsn(self, dbname: str) -> str:
        """libpq key/value connection string (DuckLake's postgres catalog)."""
        return f"dbname={dbname} host={self.host} port={self.port} user={self.user}"

    def url(self, dbname: str) -> str:
        """SQLAlchemy URL (dagster-postgres); the driver named: SQLAlchemy 2.1 would pick psycopg 3,
        dagster-postgres ships psycopg2."""
        return f"postgresql+psycopg2://{self.user}@{self.host}:{self.port}/{dbname}"

    @property
    def log(self) -> Path:
        return self.data_dir.parent / "postgres.log"

    def _run(self, cmd: list[str], **kw) -> subprocess.CompletedProcess:
        out = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, **kw)
        if out.returncode != 0:
            raise PostgresError(
                f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip() or out.stdout.strip()}"
            )
        return out

    def start(self, timeout_s: float = 60) -> None:
        """initdb on first use, then start (a running server is left as it is)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.data_dir, "postgres", "postgres")
            self.data_dir.chmod(0o700)
            self.log.touch()
            shutil.chown(self.log, "postgres", "postgres")
        if not (self.data_dir / "PG_VERSION").exists():
            self._run([pg_bin("initdb"), "-D", str(self.data_dir), "-A", "trust", "-U", self.user, "-E", "UTF8"])
        if self.running():
            return
        opts = f"-p {self.port} -k {self.data_dir} -c listen_addresses={self.host} -c max_connections=200"
        self._run([pg_bin("pg_ctl"), "-D", str(self.data_dir), "-o", opts, "-l", str(self.log), "-w", "start"])
        self.wait_ready(timeout_s)

    def running(self) -> bool:
        out = subprocess.run(
            _as_server_user([pg_bin("pg_ctl"), "-D", str(self.data_dir), "status"]), capture_output=True, text=True
        )
        return out.returncode == 0

    def wait_ready(self, timeout_s: float = 60) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            ok = subprocess.run(
                [pg_bin("pg_isready"), "-h", self.host, "-p", str(self.port), "-U", self.user], capture_output=True
            )
            if ok.returncode == 0:
                return
            time.sleep(0.3)
        raise PostgresError(
            f"PostgreSQL on {self.host}:{self.port} not ready after {timeout_s:.0f} s (log: {self.log})"
        )

    def stop(self) -> None:
        if (self.data_dir / "PG_VERSION").exists() and self.running():
            self._run([pg_bin("pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"])

    def create_database(self, name: str) -> None:
        """CREATE DATABASE unless it exists (names: letters, digits, _)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a database name: {name!r}")
        exists = self.psql("postgres", f"select 1 from pg_database where datname = '{name}'").strip()
        if not exists:
            self.psql("postgres", f"create database {name}")

    def drop_database(self, name: str) -> None:
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a database name: {name!r}")
        self.psql("postgres", f"drop database if exists {name} with (force)")

    @tenacity.retry(
        retry=tenacity.retry_if_exception_type(PostgresError),
        wait=tenacity.wait_fixed(0.5),
        stop=tenacity.stop_after_attempt(5),
        reraise=True,
    )
    def psql(self, dbname: str, sql: str) -> str:
        out = subprocess.run(
            ["psql", "-h", self.host, "-p", str(self.port), "-U", self.user, "-d", dbname, "-tAc", sql],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            raise PostgresError(f"psql {dbname}: {out.stderr.strip()}")
        return out.stdout

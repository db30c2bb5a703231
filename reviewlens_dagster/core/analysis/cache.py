"""Cache of LLM outputs keyed by (task, model, prompt version, exact context).

The context is the review ids and texts the prompt was built from, so re-materializing a
restaurant whose TOP-K is unchanged makes no LLM call, and a new model or prompt version
misses. Stored in a DuckDB file of its own.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb
import pandas as pd

from ..db import retry_locked

DDL = """create table if not exists llm_cache (
    key varchar primary key, task varchar, model varchar, prompt_version varchar,
    output json, created_at timestamp default current_timestamp)"""


def cache_key(task: str, model: str, prompt_version: str, context: list[tuple[str, str]]) -> str:
    payload = json.dumps([task, model, prompt_version, context], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class LLMCache:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @retry_locked
    def get_many(self, keys: list[str]) -> dict[str, dict]:
        if not keys or not self.path.exists():
            return {}
        con = duckdb.connect(str(self.path))
        try:
            con.execute(DDL)
            rows = con.execute(
                "select key, output from llm_cache where key in (select unnest(?::varchar[]))", [keys]
            ).fetchall()
        finally:
            con.close()
        return {k: json.loads(v) for k, v in rows}

    @retry_locked
    def put_many(self, entries: list[tuple[str, str, str, str, dict]]) -> None:
        """entries: (key, task, model, prompt_version, output)."""
        if not entries:
            return
        rows = pd.DataFrame(
            [(k, t, m, v, json.dumps(o, ensure_ascii=False)) for k, t, m, v, o in entries],
            columns=["key", "task", "model", "prompt_version", "output"],
        )
        con = duckdb.connect(str(self.path))
        try:
            con.execute(DDL)
            con.register("incoming_rows", rows)
            # one statement for the chunk (a row-by-row executemany took ~0.1 s per 32 entries)
            con.execute(
                "insert or replace into llm_cache (key, task, model, prompt_version, output) "
                "select key, task, model, prompt_version, output::json from incoming_rows"
            )
        finally:
            con.close()

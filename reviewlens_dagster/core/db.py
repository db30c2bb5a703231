"""Shared DuckDB helpers."""

from __future__ import annotations

import duckdb
import tenacity

#: DuckDB allows one writer process per file: a locked file raises IOException ("Could not set
#: lock on file"). Retry with backoff for up to two minutes, then raise.
retry_locked = tenacity.retry(
    retry=tenacity.retry_if_exception_type(duckdb.IOException),
    wait=tenacity.wait_exponential(multiplier=0.2, max=5),
    stop=tenacity.stop_after_delay(120),
    reraise=True,
)

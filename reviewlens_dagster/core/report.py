"""The per-restaurant table printed by `reviewlens run` (reads the warehouse, read-only)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

SCHEMA = "reviewlens"


def _tables(con) -> set[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ?", [SCHEMA]
    ).fetchall()
    return {r[0] for r in rows}


def restaurant_report(warehouse: Path, ids: list[str]) -> pd.DataFrame:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = _tables(con)
        df = con.execute(
            f"""
            select restaurant_id, any_value(restaurant_name) as name, any_value(category) as category,
                   count(*) as reviews, round(avg(rating), 2) as avg_rating
            from {SCHEMA}.reviews group by restaurant_id
            """
        ).df()
        if "rejected_reviews" in tables:
            rej = con.execute(
                f"select restaurant_id, count(*) as rejected from {SCHEMA}.rejected_reviews "
                "where restaurant_id is not null group by restaurant_id"
            ).df()
            df = df.merge(rej, on="restaurant_id", how="left")
            df["rejected"] = df["rejected"].fillna(0).astype(int)
    finally:
        con.close()
    return df[df["restaurant_id"].isin(ids)].sort_values("restaurant_id").reset_index(drop=True)

"""Small helpers that turn frames into Dagster metadata."""


import dagster as dg
import pandas as pd


def preview(df: pd.DataFrame, rows: int = 5, max_chars: int = 60) -> dg.MarkdownMetadataValue:
    """A markdown table of the first rows, long cells shortened."""
    if df.empty:
        return dg.MetadataValue.md("_no rows_")
    head = df.head(rows).copy()
    for col in head.columns:
        head[col] = head[col].map(lambda v: (str(v)[:max_chars] + "…") if isinstance(v, str) and len(v) > max_chars else v)
    return dg.MetadataValue.md(head.to_markdown(index=False))


def frame_metadata(df: pd.DataFrame, **extra) -> dict:
    return {"dagster/row_count": len(df), "preview": preview(df), **extra}

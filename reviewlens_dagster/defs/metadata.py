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


def bar_chart(labels: list[str], series: dict[str, list[float]], title: str, ylabel: str = "") -> dg.MarkdownMetadataValue:
    """A small stacked bar chart rendered to PNG and embedded in markdown (shown in the UI)."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(max(4, 0.25 * len(labels) + 2), 2.6), dpi=90)
    bottom = [0.0] * len(labels)
    for name, values in series.items():
        ax.bar(labels, values, bottom=bottom, label=name)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_title(title, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=8)
    ax.tick_params(axis="x", labelrotation=90, labelsize=6)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{data})")

"""Small helpers that turn frames into Dagster metadata."""

import dagster as dg
import pandas as pd


def preview(df: pd.DataFrame, rows: int = 5, max_chars: int = 60) -> dg.MarkdownMetadataValue:
    """A markdown table of the first rows, long cells shortened."""
    if df.empty:
        return dg.MetadataValue.md("_no rows_")
    head = df.head(rows).copy()
    for col in head.columns:
        head[col] = head[col].map(
            lambda v: (str(v)[:max_chars] + "…") if isinstance(v, str) and len(v) > max_chars else v
        )
    return dg.MetadataValue.md(head.to_markdown(index=False))


def frame_metadata(df: pd.DataFrame, **extra) -> dict:
    return {"dagster/row_count": len(df), "preview": preview(df), **extra}


def _png_markdown(fig, title: str) -> dg.MarkdownMetadataValue:
    import base64
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{data})")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import font_manager

    if any("Nanum" in f.name for f in font_manager.fontManager.ttflist):
        plt.rcParams["font.family"] = ["NanumGothic", "DejaVu Sans"]  # Hangul aspect labels
    return plt


def grouped_bar_chart(labels: list[str], series: dict[str, list[float]], title: str) -> str:
    """Side-by-side bars per label (e.g. a restaurant's share per aspect vs its group); markdown text."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(4, 0.6 * len(labels) + 2), 2.6), dpi=90)
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        ax.bar([x + i * width for x in range(len(labels))], values, width=width, label=name)
    ax.set_xticks([x + width * (len(series) - 1) / 2 for x in range(len(labels))], labels, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_title(title, fontsize=9)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return _png_markdown(fig, title).value


def bar_chart(
    labels: list[str], series: dict[str, list[float]], title: str, ylabel: str = ""
) -> dg.MarkdownMetadataValue:
    """A small stacked bar chart rendered to PNG and embedded in markdown (shown in the UI)."""
    plt = _pyplot()
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
    return _png_markdown(fig, title)

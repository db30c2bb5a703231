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


def group_strip_chart(labels: list[str], groups: list[list[float]], own: list[float], title: str) -> str:
    """Per label a box of the group's values with each group member as a dot, and the restaurant's own
    value as a red diamond (its place in the distribution, not only against the mean); markdown."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(max(3.5, 0.55 * len(labels) + 1.5), 2.3), dpi=72)
    xs = list(range(len(labels)))
    with_group = [(x, g) for x, g in zip(xs, groups) if g]
    if with_group:
        ax.boxplot([g for _, g in with_group], positions=[x for x, _ in with_group], widths=0.5, showfliers=False)
        for x, g in with_group:
            ax.scatter([x + (i % 5 - 2) * 0.04 for i in range(len(g))], g, s=5, color="0.55", zorder=2)
    ax.scatter(xs, own, marker="D", s=28, color="crimson", zorder=3, label="this restaurant")
    ax.set_xticks(xs, labels, fontsize=7)
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(title, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    return _png_markdown(fig, title).value

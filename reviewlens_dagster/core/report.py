"""The per-restaurant table printed by `reviewlens run` (reads the warehouse, read-only)."""

from __future__ import annotations

import pandas as pd

from .warehouse import Warehouse, resolve_table


def run_report(wh: Warehouse, ids: list[str]) -> pd.DataFrame:
    """restaurant, name (the source's id where the export has no name column), reviews, avg rating,
    rejected, sentiment shares (LLM sample size; empty where the LLM did not read the restaurant),
    how the counts were decided, strengths, weaknesses and complaints with their prevalence, and
    the overall summary with its source."""
    SCHEMA = wh.schema  # noqa: N806 (the schema of every query below)
    with wh.connect(read_only=True) as con:
        tables = wh.tables(con)
        df = con.execute(
            f"""
            select restaurant_id,
                   coalesce(min(restaurant_name), min(source_restaurant_id), restaurant_id) as name,
                   any_value(category) as category,
                   count(*) as reviews, round(avg(rating), 2) as avg_rating
            from {SCHEMA}.reviews group by restaurant_id
            """
        ).df()
        if "rejected_reviews" in tables:
            rej = con.execute(
                f"select restaurant_id, count(*) as rejected from {SCHEMA}.rejected_reviews "
                "where restaurant_id is not null and severity = 'rejected' group by restaurant_id"
            ).df()
            df = df.merge(rej, on="restaurant_id", how="left")
            df["rejected"] = df["rejected"].fillna(0).astype(int)
        if "sentiments" in tables:
            # shares estimated for the whole restaurant: the sample's weights
            s = con.execute(
                f"""select restaurant_id, count(*) as n_sample,
                       round(sum(weight * (label = 'positive')::int) / sum(weight), 2) as pos,
                       round(sum(weight * (label = 'negative')::int) / sum(weight), 2) as neg,
                       round(sum(weight * (label = 'neutral')::int) / sum(weight), 2) as neu
                    from {SCHEMA}.sentiments group by restaurant_id"""
            ).df()
            df = df.merge(s, on="restaurant_id", how="left")
        if "aspect_prevalence" in tables:
            s = con.execute(
                f"""select restaurant_id, any_value(decided_by) as decided_by,
                       round(sum(undecided) / sum(mentions), 2) as undecided
                    from {SCHEMA}.aspect_prevalence group by restaurant_id"""
            ).df()
            df = df.merge(s, on="restaurant_id", how="left")
        highlights = resolve_table("highlights", tables)
        if highlights:
            s = con.execute(
                f"""select restaurant_id,
                       string_agg(prevalence, '; ' order by supporting desc) filter (where polarity = 'strength')
                           as strengths,
                       string_agg(prevalence, '; ' order by supporting desc) filter (where polarity = 'weakness')
                           as weaknesses,
                       string_agg(prevalence, '; ' order by supporting desc) filter (where polarity = 'complaint')
                           as complaints
                    from {SCHEMA}.{highlights} group by restaurant_id"""
            ).df()
            df = df.merge(s, on="restaurant_id", how="left")
        if "summaries" in tables:
            s = con.execute(
                f"select restaurant_id, source as summary_by, text as overall_summary from {SCHEMA}.summaries "
                "where kind = 'overall'"
            ).df()
            df = df.merge(s, on="restaurant_id", how="left")
    out = df[df["restaurant_id"].isin(ids)].sort_values("restaurant_id").reset_index(drop=True)
    counted = out["decided_by"].notna() if "decided_by" in out else pd.Series(False, index=out.index)
    for col in ("strengths", "weaknesses", "complaints"):
        if col in out:  # counted and none found: an honest "none", not a missing value
            out[col] = out[col].where(out[col].notna() | ~counted, "none")
    return out


def percent_text(v) -> str:
    """A share as a whole percentage, "-" when missing (the run report and the owner's pages)."""
    return "-" if v is None or v != v else f"{100 * v:.0f}%"


def report_lines(table: pd.DataFrame) -> list[str]:
    """The run report as text blocks, one per restaurant (what `reviewlens run` prints)."""
    lines = []
    for r in table.itertuples():
        g = r._asdict()
        rating = "-" if g.get("avg_rating") != g.get("avg_rating") else f"{g['avg_rating']:.2f}"
        lines.append(
            f"\n{r.restaurant_id}  {g.get('name')}  ({g.get('category') or '-'}): {r.reviews:,} reviews, "
            f"rating {rating}, {g.get('rejected', 0)} rejected"
        )
        if g.get("decided_by") is not None and g.get("decided_by") == g.get("decided_by"):
            lines.append(f"  counted by {g['decided_by']}; undecided mentions {percent_text(g.get('undecided'))}")
        n = g.get("n_sample")
        if n is not None and n == n:
            lines.append(
                f"  sentiment (LLM, subset of {int(n)}): positive {percent_text(g['pos'])}, negative {percent_text(g['neg'])}, "
                f"neutral {percent_text(g['neu'])}"
            )
        for col in ("strengths", "weaknesses", "complaints"):
            value = g.get(col)
            if value is not None and value == value:
                lines.append(f"  {col + ':':<11} {value}")
        if g.get("overall_summary") is not None and g.get("overall_summary") == g.get("overall_summary"):
            lines.append(f"  summary ({g.get('summary_by')}): {g['overall_summary']}")
    return lines

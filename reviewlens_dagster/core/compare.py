"""Comparison-group similarity math for strengths (no Dagster, no store: plain numpy).

Comparison group of restaurant R (documented default, configurable):
1. restaurants of the same category AND area; if fewer than ``min_group_size`` of them have
   strengths,
2. restaurants of the same category; if still fewer,
3. all restaurants.
R itself is never in its group. For each strength s of R:
- ``max_similarity``: the highest cosine similarity between s and any strength of the group;
- ``share_with_similar``: the share of group restaurants having at least one strength with
  similarity >= ``threshold`` to s. Rare strengths (low share) are distinctive; common ones
  are table stakes. ``distinctiveness = 1 - share_with_similar``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LEVELS = ("category_area", "category", "all")


@dataclass(frozen=True)
class GroupConfig:
    min_group_size: int = 3
    threshold: float = 0.7
    levels: tuple[str, ...] = LEVELS


def comparison_group(rid: str, meta: pd.DataFrame, available: set[str], cfg: GroupConfig = GroupConfig()) -> tuple[str, list[str]]:
    """(level, member ids). ``meta``: restaurant_id, category, area. ``available``: restaurants with strengths."""
    m = meta.set_index("restaurant_id")
    others = [r for r in sorted(available) if r != rid and r in m.index]
    me = m.loc[rid] if rid in m.index else None
    last: tuple[str, list[str]] = ("all", others)
    for level in cfg.levels:
        if level == "category_area" and me is not None:
            members = [r for r in others if m.at[r, "category"] == me["category"] and m.at[r, "area"] == me["area"]]
        elif level == "category" and me is not None:
            members = [r for r in others if m.at[r, "category"] == me["category"]]
        elif level == "all":
            members = others
        else:
            continue
        last = (level, members)
        if len(members) >= cfg.min_group_size:
            return level, members
    return last


def compare_strengths(own: np.ndarray, group: dict[str, np.ndarray], threshold: float) -> list[dict]:
    """For each row of ``own`` (n, d; normalized): max similarity to the group, the restaurant it
    comes from, and the share of group restaurants with a similar strength."""
    out = []
    for v in own:
        best, best_r, similar = -1.0, None, 0
        for r, mat in group.items():
            if len(mat) == 0:
                continue
            sims = mat @ v
            top = float(sims.max())
            if top > best:
                best, best_r = top, r
            similar += int(top >= threshold)
        share = similar / len(group) if group else 0.0
        out.append({"max_similarity": round(best, 4) if best_r else None, "most_similar_restaurant": best_r,
                    "share_with_similar": round(share, 4), "distinctiveness": round(1 - share, 4)})
    return out

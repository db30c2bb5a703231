"""Comparisons of a restaurant against its comparison group (no Dagster; plain numpy, plus the
vector store for the strengths index: :func:`index_strengths`).

Comparison group of restaurant R for a figure (documented default, configurable):
1. restaurants of the same category AND area that have the figure; if fewer than
   ``min_group_size`` of them,
2. restaurants of the same category; if still fewer,
3. all restaurants; if still fewer, the group is **too small**: it is reported as such
   (``group_level = "too_small"``, its size) and no lift or distinctiveness is computed.
R itself is never in its group. Every restaurant with counts can be in a group, whether or not
the LLM read it (the counts come from the lexicon over every review).

When a level does not narrow anything (every other restaurant with the figure has R's category:
a crawl that files 108 restaurants under 치킨), the group is still reported as defined, with
``group_note`` saying that the category does not distinguish it: no structure is invented.

Besides the group mean, the group's distribution is given (median, quartiles, and R's percentile
among the group: the share of group restaurants with a lower share), and the asset draws R's
share over the group's strip per aspect.

Per aspect (:func:`aspect_comparisons`): R's positive share of the aspect (over its reviews
with a decided polarity) against the mean positive share of the group restaurants that have at
least ``min_mentions`` decided mentions of it: ``difference = own - group`` and
``lift = own / group``.

Per strength (:func:`compare_strengths`, the embedding view): the highest cosine similarity
between the strength and any strength of the group, and the share of group restaurants with a
strength at least ``threshold`` similar. Rare strengths (low share) are distinctive
(``distinctiveness = 1 - share``); common ones are table stakes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .config import DEFAULT_MIN_GROUP_SIZE, DEFAULT_STRENGTH_SIM_THRESHOLD

LEVELS = ("category_area", "category", "all")
TOO_SMALL = "too_small"
ASPECT_COMPARISON_COLUMNS = [
    "restaurant_id",
    "aspect",
    "status",
    "positive_share",
    "decided",
    "group_level",
    "group_definition",
    "group_size",
    "group_positive_share",
    "group_median",
    "group_p25",
    "group_p75",
    "percentile",
    "group_note",
    "difference",
    "lift",
    "max_similarity",
    "most_similar_restaurant",
    "share_with_similar",
    "distinctiveness",
]


@dataclass(frozen=True)
class GroupConfig:
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    threshold: float = DEFAULT_STRENGTH_SIM_THRESHOLD
    min_mentions: int = 3
    levels: tuple[str, ...] = LEVELS


def group_note(
    restaurant_id: str, level: str, members: list[str], meta: pd.DataFrame, available: set[str]
) -> str | None:
    """A note when the group's level narrows nothing: the members are every other restaurant with the
    figure (a category shared by the whole crawl is an artefact of the export, not a peer group)."""
    others = {r for r in available if r != restaurant_id}
    if level in ("category_area", "category") and others and set(members) == others and len(members) > 1:
        cats = meta.drop_duplicates("restaurant_id").set_index("restaurant_id").reindex(sorted(others))["category"]
        return f"every restaurant with this figure has category={cats.iloc[0]}: the category does not narrow the group"
    return None


def comparison_group(
    restaurant_id: str, meta: pd.DataFrame, available: set[str], cfg: GroupConfig = GroupConfig()
) -> tuple[str, list[str], str]:
    """(level, member ids, definition). ``meta``: restaurant_id, category, area. ``available``:
    restaurants that have the figure compared. ``level`` is ``too_small`` when even the widest
    level has fewer than ``min_group_size`` members (the members are still returned)."""
    m = meta.drop_duplicates("restaurant_id").set_index("restaurant_id")
    others = [r for r in sorted(available) if r != restaurant_id and r in m.index]
    me = m.loc[restaurant_id] if restaurant_id in m.index else None
    members: list[str] = others
    for level in cfg.levels:
        if level == "category_area" and me is not None:
            members = [r for r in others if m.at[r, "category"] == me["category"] and m.at[r, "area"] == me["area"]]
            definition = f"category={me['category']}, area={me['area']}"
        elif level == "category" and me is not None:
            members = [r for r in others if m.at[r, "category"] == me["category"]]
            definition = f"category={me['category']}"
        elif level == "all":
            members = others
            definition = "all restaurants"
        else:
            continue
        if len(members) >= cfg.min_group_size:
            return level, members, definition
    return TOO_SMALL, members, f"fewer than {cfg.min_group_size} restaurants to compare with"


def compare_strengths(own: np.ndarray, group: dict[str, np.ndarray], threshold: float) -> list[dict]:
    """For each row of ``own`` (n, d; normalized): max similarity to the group, the restaurant it
    comes from, and the share of group restaurants with a similar strength. A tie (the same strength
    text at two restaurants: the same vector, up to float noise) goes to the smaller restaurant id,
    whatever order the store returned the group in."""
    out = []
    for v in own:
        best, best_r, similar = -1.0, None, 0
        for r, mat in sorted(group.items()):
            if len(mat) == 0:
                continue
            top = float((mat @ v).max())
            if top > best + 1e-6:
                best, best_r = top, r
            similar += int(top >= threshold)
        share = similar / len(group) if group else None
        out.append(
            {
                "max_similarity": round(best, 4) if best_r else None,
                "most_similar_restaurant": best_r,
                "share_with_similar": None if share is None else round(share, 4),
                "distinctiveness": None if share is None else round(1 - share, 4),
            }
        )
    return out


def aspect_comparisons(
    keys: list[str],
    prevalence: pd.DataFrame,
    meta: pd.DataFrame,
    cfg: GroupConfig = GroupConfig(),
    strength_vectors: dict[tuple[str, str], np.ndarray] | None = None,
) -> tuple[pd.DataFrame, dict[tuple[str, str], list[float]]]:
    """(one row per (restaurant of ``keys``, aspect it has decided mentions of), the group's
    positive shares per row, for charts).

    ``prevalence``: the aspect_prevalence rows of every restaurant (this run's and earlier ones).
    ``strength_vectors``: (restaurant, aspect) -> normalized embedding of each strength, for the
    embedding view of strengths (optional)."""
    rows = []
    spread: dict[tuple[str, str], list[float]] = {}
    decided = prevalence[prevalence["decided"] > 0]
    share = {(r.restaurant_id, r.aspect): r.positive_share for r in decided.itertuples()}
    enough = decided[decided["decided"] >= cfg.min_mentions]
    have = enough.groupby("aspect")["restaurant_id"].apply(set).to_dict()
    vecs = strength_vectors or {}
    with_strengths: dict[str, np.ndarray] = {}
    for (r, _a), v in vecs.items():
        with_strengths[r] = np.vstack([with_strengths[r], v]) if r in with_strengths else v[None, :]
    for p in decided[decided["restaurant_id"].isin(keys)].itertuples():
        available = have.get(p.aspect, set())
        level, members, definition = comparison_group(p.restaurant_id, meta, available, cfg)
        shares = [float(share[(m, p.aspect)]) for m in members] if level != TOO_SMALL else []
        group_share = float(np.mean(shares)) if shares else None
        if shares:
            spread[(p.restaurant_id, p.aspect)] = shares
        q25, q50, q75 = np.percentile(shares, [25, 50, 75]).tolist() if shares else (None, None, None)
        row = {
            "restaurant_id": p.restaurant_id,
            "aspect": p.aspect,
            "status": p.status,
            "positive_share": float(p.positive_share),
            "decided": int(p.decided),
            "group_level": level,
            "group_definition": definition,
            "group_size": len(members),
            "group_positive_share": group_share,
            "group_median": q50,
            "group_p25": q25,
            "group_p75": q75,
            "percentile": float(np.mean([x < p.positive_share for x in shares])) if shares else None,
            "group_note": group_note(p.restaurant_id, level, members, meta, available),
            "difference": None if group_share is None else float(p.positive_share) - group_share,
            "lift": None if not group_share else float(p.positive_share) / group_share,
            "max_similarity": None,
            "most_similar_restaurant": None,
            "share_with_similar": None,
            "distinctiveness": None,
        }
        key = (p.restaurant_id, p.aspect)
        if key in vecs:
            s_level, s_members, _ = comparison_group(p.restaurant_id, meta, set(with_strengths), cfg)
            fig = compare_strengths(vecs[key][None, :], {m: with_strengths[m] for m in s_members}, cfg.threshold)[0]
            if s_level == TOO_SMALL:
                fig["distinctiveness"] = None
            row.update(fig)
        rows.append(row)
    out = pd.DataFrame(rows, columns=ASPECT_COMPARISON_COLUMNS)
    return out.astype(
        {
            "group_median": "float64",
            "group_p25": "float64",
            "group_p75": "float64",
            "percentile": "float64",
            "positive_share": "float64",
            "decided": "int64",
            "group_size": "int64",
            "group_positive_share": "float64",
            "difference": "float64",
            "lift": "float64",
            "max_similarity": "float64",
            "share_with_similar": "float64",
            "distinctiveness": "float64",
        }
    ), spread


def index_strengths(
    store, embedder, strengths: pd.DataFrame, restaurants: pd.DataFrame, keys: list[str]
) -> tuple[dict[tuple[str, str], np.ndarray], pd.DataFrame, int]:
    """Replace the strengths of the restaurants ``keys`` in the store's `strengths` collection
    (each embedded as "aspect: quote", with the restaurant's category and area), then read every
    restaurant's back: the group spans restaurants outside this run.

    ``strengths``: rows with polarity "strength" of these restaurants; ``restaurants``:
    restaurant_id, category, area. Returns ({(restaurant, aspect): vector}, restaurant_id /
    category / area of every restaurant known here or in the store, points in the store)."""
    from .vectorstore import STRENGTHS, VectorPoint

    own = strengths.reset_index(drop=True)
    store.ensure_collection(STRENGTHS, embedder.dim, embedder.model_id)
    vecs = (
        embedder.encode([f"{a}: {q}" for a, q in zip(own["aspect"], own["quote"])])
        if len(own)
        else np.zeros((0, embedder.dim), dtype=np.float32)
    )
    meta = restaurants[["restaurant_id", "category", "area"]]
    for restaurant_id in keys:
        place = meta[meta["restaurant_id"] == restaurant_id][["category", "area"]].head(1).to_dict("records")
        points = [
            VectorPoint(
                f"{restaurant_id}:strength:{own.at[i, 'aspect']}",
                vecs[i],
                {"aspect": own.at[i, "aspect"], "text": own.at[i, "quote"], **(place[0] if place else {})},
            )
            for i in own.index[own["restaurant_id"] == restaurant_id]
        ]
        store.replace_restaurant(STRENGTHS, restaurant_id, points)
    stored = store.fetch(STRENGTHS, None, with_vectors=True)
    vectors = {(h.payload["restaurant_id"], h.payload["aspect"]): h.vector for h in stored}
    others = pd.DataFrame(
        [(h.payload["restaurant_id"], h.payload.get("category"), h.payload.get("area")) for h in stored],
        columns=["restaurant_id", "category", "area"],
    )
    return vectors, pd.concat([meta, others]), len(stored)


#: the columns of comparisons shown in its preview
COMPARISON_PREVIEW = [
    "restaurant_id",
    "aspect",
    "positive_share",
    "group_level",
    "group_size",
    "group_median",
    "percentile",
]


def chart_series(
    comparisons: pd.DataFrame, spread: dict[tuple[str, str], list[float]], keys: list[str], limit: int
) -> list[tuple[list[str], list[list[float]], list[float], str]]:
    """(aspects, the group's shares per aspect, the restaurant's share per aspect, title) of the
    first ``limit`` restaurants with comparisons: what a strip chart per restaurant draws (no
    group where it is too small to give a figure)."""
    out = []
    for restaurant_id in keys[:limit]:
        g = comparisons[comparisons["restaurant_id"] == restaurant_id]
        if len(g):
            aspects = g["aspect"].tolist()
            out.append(
                (
                    aspects,
                    [spread.get((restaurant_id, a), []) for a in aspects],
                    g["positive_share"].tolist(),
                    f"{restaurant_id}: positive share per aspect vs its comparison group",
                )
            )
    return out


def comparison_figures(comparisons: pd.DataFrame, keys: list[str], cfg: GroupConfig, in_store: int) -> dict:
    """What ``comparisons`` records about its run."""
    too_small = int((comparisons["group_level"] == TOO_SMALL).sum())
    return {
        "restaurants_compared": int(comparisons["restaurant_id"].nunique()),
        "restaurants": len(keys),
        "groups_too_small": too_small,
        "comparisons_with_a_group": int(len(comparisons) - too_small),
        "group_notes": sorted(set(comparisons["group_note"].dropna()))[:5],
        "min_group_size": cfg.min_group_size,
        "similarity_threshold": cfg.threshold,
        "strengths_in_store": in_store,
    }

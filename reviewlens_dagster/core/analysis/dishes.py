"""Which dish: per restaurant and ordered item, how its reviews judge the food (`dish_insights`).

Where a review comes from: an export with a menu column gives each review its ordered items
(``menu_items``, see ``ingest/menu.py``): ``dish_source`` = ``menu``. A review without one (a file
with no menu column, or an empty cell) gets the dishes its text names among the restaurant's own
item vocabulary (the items of its other reviews' menus, names of at least two characters):
``dish_source`` = ``text``. A restaurant with no menu at all has no rows: dish names cannot be told
from other nouns reliably without one.

Per item with at least ``min_reviews`` reviews (:class:`DishRule`): its reviews, mean rating, the
share of them with a negative taste (맛) and a negative quantity (양) mention, the most given
reasons of those complaints (``aspect_mentions.reasons``), and whether it **trails** or **leads**
the restaurant's other items on food complaints (a review with a negative 맛 or 양 mention):
Fisher's exact test of (complaints, no complaint) for the item's reviews against the reviews of
the restaurant's other items, Benjamini-Hochberg over the restaurant's items (as in
`aspect_changes`); ``position`` is ``trails`` / ``leads`` when q < ``alpha``, else ``in_line``.
Both groups' n and shares are in the row.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

import pandas as pd

from .extract import reasons_list
from .reasons import canonical_reason
from .trends import fisher_p, with_q_values

FOOD_ASPECTS = ("맛", "양")

DISH_COLUMNS = [
    "restaurant_id",
    "item",
    "reviews",
    "dish_source",
    "mean_rating",
    "taste_complaints",
    "taste_complaint_share",
    "quantity_complaints",
    "quantity_complaint_share",
    "complaint_share",
    "others_reviews",
    "others_complaint_share",
    "p_value",
    "q_value",
    "position",
    "top_reasons",
    "review_ids",
]

#: the table's types, also when a restaurant has no row (the first write creates the table from them)
DISH_DTYPES = {
    **{c: "int64" for c in ("reviews", "taste_complaints", "quantity_complaints", "others_reviews")},
    **{
        c: "float64"
        for c in (
            "mean_rating",
            "taste_complaint_share",
            "quantity_complaint_share",
            "complaint_share",
            "others_complaint_share",
            "p_value",
            "q_value",
        )
    },
}


@dataclass(frozen=True)
class DishRule:
    """An item is reported with at least ``min_reviews`` reviews; it trails or leads when the
    Benjamini-Hochberg q of its Fisher test is below ``alpha``."""

    min_reviews: int = 5
    alpha: float = 0.1


def review_dishes(reviews: pd.DataFrame) -> pd.DataFrame:
    """(restaurant_id, review_id, item, dish_source) for every review and dish it concerns (module
    docstring: the menu column, else the restaurant's item vocabulary found in the text)."""
    rows = []
    cols = ["restaurant_id", "review_id", "item", "dish_source"]
    if "menu_items" not in reviews.columns:
        return pd.DataFrame(columns=cols)
    for rid, g in reviews.groupby("restaurant_id", sort=True):
        menus = {r: _items(v) for r, v in zip(g["review_id"], g["menu_items"])}
        vocabulary = sorted({i for items in menus.values() for i in items if len(i) >= 2}, key=len, reverse=True)
        for review_id, text in zip(g["review_id"], g["text"].fillna("")):
            items = menus[review_id]
            if items:
                rows += [(rid, review_id, item, "menu") for item in items]
                continue
            named, taken = [], []
            for item in vocabulary:  # longest first: 양념치킨 before 치킨
                at = text.find(item)
                if at >= 0 and not any(s <= at < e for s, e in taken):
                    named.append(item)
                    taken.append((at, at + len(item)))
            rows += [(rid, review_id, item, "text") for item in named]
    return pd.DataFrame(rows, columns=cols)


def _items(value) -> list[str]:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return []
    try:
        items = json.loads(value) if isinstance(value, str) else list(value)
    except (ValueError, TypeError):
        return []
    return [str(i) for i in items if str(i).strip()]


def dish_insights(reviews: pd.DataFrame, mentions: pd.DataFrame, rule: DishRule = DishRule()) -> pd.DataFrame:
    """`dish_insights` rows (module docstring) from the reviews (restaurant_id, review_id, text,
    rating, menu_items) and the resolved mentions (aspect, polarity, reasons)."""
    dishes = review_dishes(reviews)
    if dishes.empty:
        return pd.DataFrame(columns=DISH_COLUMNS).astype(DISH_DTYPES)
    neg = mentions[(mentions["polarity"] == "negative") & mentions["aspect"].isin(FOOD_ASPECTS)].copy()
    neg["reasons"] = reasons_list(neg["reasons"]) if len(neg) else []
    taste = set(neg.loc[neg["aspect"] == "맛", "review_id"])
    quantity = set(neg.loc[neg["aspect"] == "양", "review_id"])
    reasons_by: dict[str, list[str]] = {}
    for m in neg.itertuples():
        reasons_by.setdefault(m.review_id, []).extend(f"{m.aspect}: {canonical_reason(r)}" for r in m.reasons)
    rating_by = dict(zip(reviews["review_id"], reviews.get("rating", pd.Series(dtype=float))))
    rows = []
    for rid, g in dishes.groupby("restaurant_id", sort=True):
        with_dish = set(g["review_id"])
        tested = []
        for item, d in g.groupby("item", sort=True):
            ids = list(dict.fromkeys(d["review_id"]))
            if len(ids) < rule.min_reviews:
                continue
            others = with_dish - set(ids)
            k_item = sum(r in taste or r in quantity for r in ids)
            k_other = sum(r in taste or r in quantity for r in others)
            ratings = pd.Series([rating_by.get(r) for r in ids], dtype="float64")
            top = Counter(x for r in ids for x in dict.fromkeys(reasons_by.get(r, [])))
            row = {
                "restaurant_id": rid,
                "item": item,
                "reviews": len(ids),
                "dish_source": d["dish_source"].iloc[0] if d["dish_source"].nunique() == 1 else "mixed",
                "mean_rating": float(ratings.mean()) if ratings.notna().any() else None,
                "taste_complaints": sum(r in taste for r in ids),
                "taste_complaint_share": sum(r in taste for r in ids) / len(ids),
                "quantity_complaints": sum(r in quantity for r in ids),
                "quantity_complaint_share": sum(r in quantity for r in ids) / len(ids),
                "complaint_share": k_item / len(ids),
                "others_reviews": len(others),
                "others_complaint_share": k_other / len(others) if others else None,
                "p_value": None,
                "q_value": None,
                "position": "in_line",
                "top_reasons": [f"{r} {n}" for r, n in sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))[:3]],
                "review_ids": ids,
            }
            if others:
                row["p_value"] = fisher_p(k_item, len(ids), k_other, len(others))
                tested.append(row)
            rows.append(row)
        for r in with_q_values(tested):
            if r["q_value"] < rule.alpha:
                r["position"] = "trails" if r["complaint_share"] > r["others_complaint_share"] else "leads"
    return pd.DataFrame(rows, columns=DISH_COLUMNS).astype(DISH_DTYPES)


def dish_figures(dishes: pd.DataFrame) -> dict:
    """What `dish_insights` records about itself (metadata)."""
    return {
        "items_reported": len(dishes),
        "restaurants_with_items": int(dishes["restaurant_id"].nunique()) if len(dishes) else 0,
        "trailing_items": int((dishes["position"] == "trails").sum()) if len(dishes) else 0,
        "leading_items": int((dishes["position"] == "leads").sum()) if len(dishes) else 0,
    }

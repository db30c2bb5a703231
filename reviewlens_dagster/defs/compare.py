"""Stage 4: `comparisons` — each restaurant's strengths against its comparison group."""

import dagster as dg
import numpy as np
import pandas as pd

from ..core.analysis.tasks import STRENGTH_COLUMNS
from ..core.compare import GroupConfig, compare_strengths, comparison_group
from ..core.config import validate_restaurant_ids
from ..core.report import read_partitions
from ..core.vectorstore import STRENGTHS, VectorPoint
from .metadata import frame_metadata
from .partitions import EAGER, OWNERS, restaurants_partitions, single_run
from .resources import EmbedderResource, ReviewLensSettings, VectorStoreResource

COLUMNS = ["restaurant_id", "aspect", "strength", "group_level", "group_size", "max_similarity",
           "most_similar_restaurant", "share_with_similar", "distinctiveness", "rank_in_restaurant"]
NUMERIC = {"group_size": "int64", "max_similarity": "float64", "share_with_similar": "float64",
           "distinctiveness": "float64", "rank_in_restaurant": "int64"}


@dg.asset(
    partitions_def=restaurants_partitions, backfill_policy=single_run, owners=OWNERS,
    io_manager_key="warehouse_io_manager", metadata={"partition_expr": "restaurant_id"},
    group_name="analysis", kinds={"python", "qdrant", "duckdb"},
    deps=["strengths"], automation_condition=EAGER,
)
def comparisons(context: dg.AssetExecutionContext, restaurant_vectors: pd.DataFrame,
                vector_store: VectorStoreResource, embedder: EmbedderResource, settings: ReviewLensSettings):
    """For each strength: its highest similarity to the comparison group's strengths and the share
    of group restaurants with a similar one (group: same category and area, else same category,
    else all; see core/compare.py). Low share = distinctive, high share = table stakes.
    Strengths are embedded into the Qdrant collection `strengths`."""
    keys = validate_restaurant_ids(context.partition_keys)
    # read directly: a run where no restaurant has a strength writes no `strengths` table
    strengths = read_partitions(settings.warehouse_path, "strengths", keys, STRENGTH_COLUMNS)
    store = vector_store.get()
    emb = embedder.get()
    store.ensure_collection(STRENGTHS, emb.dim, emb.model_id)
    meta = restaurant_vectors.set_index("restaurant_id")[["category", "area"]]
    own = strengths[(strengths["polarity"] == "strength") & strengths["restaurant_id"].isin(keys)].reset_index(drop=True)
    texts = [f"{a}: {t}" for a, t in zip(own["aspect"], own["text"])]
    vecs = emb.encode(texts) if texts else np.zeros((0, emb.dim), dtype=np.float32)
    for rid in keys:
        idx = own.index[own["restaurant_id"] == rid]
        cat = meta.at[rid, "category"] if rid in meta.index else None
        area = meta.at[rid, "area"] if rid in meta.index else None
        store.replace_restaurant(STRENGTHS, rid, [
            VectorPoint(f"{rid}:strength:{n}", vecs[i], {"aspect": own.at[i, "aspect"], "text": own.at[i, "text"],
                                                      "category": cat, "area": area})
            for n, i in enumerate(idx)])
    # every restaurant's strengths (this run's and earlier runs')
    everything = store.fetch(STRENGTHS, None, with_vectors=True)
    by_rest: dict[str, list] = {}
    info = {}
    for h in everything:
        rid = h.payload["restaurant_id"]
        by_rest.setdefault(rid, []).append(h.vector)
        info[rid] = (h.payload.get("category"), h.payload.get("area"))
    group_meta = pd.DataFrame([(r, c, a) for r, (c, a) in info.items()], columns=["restaurant_id", "category", "area"])
    for rid in keys:
        if rid in meta.index and rid not in info:
            group_meta.loc[len(group_meta)] = [rid, meta.at[rid, "category"], meta.at[rid, "area"]]
    mats = {r: np.vstack(v) for r, v in by_rest.items()}
    cfg = GroupConfig(min_group_size=settings.min_group_size, threshold=settings.strength_sim_threshold)
    rows = []
    for n, rid in enumerate(keys, start=1):
        idx = list(own.index[own["restaurant_id"] == rid])
        level, members = comparison_group(rid, group_meta, set(mats), cfg)
        figures = compare_strengths(vecs[idx], {m: mats[m] for m in members}, cfg.threshold) if idx else []
        for rank, (i, f) in enumerate(sorted(zip(idx, figures), key=lambda t: t[1]["share_with_similar"]), start=1):
            rows.append({"restaurant_id": rid, "aspect": own.at[i, "aspect"], "strength": own.at[i, "text"],
                         "group_level": level, "group_size": len(members), **f, "rank_in_restaurant": rank})
        if n % 10 == 0 or n == len(keys):
            context.log.info(f"compared {n}/{len(keys)} restaurants")
    out = pd.DataFrame(rows, columns=COLUMNS).astype(NUMERIC)  # typed even when every value is missing
    return dg.Output(out, metadata=frame_metadata(
        out[["restaurant_id", "aspect", "strength", "group_level", "share_with_similar"]],
        similarity_threshold=cfg.threshold, min_group_size=cfg.min_group_size,
        strengths_in_store=len(everything), restaurants_in_store=len(mats)))

"""Partitions (one dynamic partition per restaurant) and what every partitioned stage shares."""

from collections.abc import Callable
from dataclasses import dataclass

import dagster as dg

from ..core.config import Settings

RESTAURANTS = "restaurants"
restaurants_partitions = dg.DynamicPartitionsDefinition(name=RESTAURANTS)
single_run = dg.BackfillPolicy.single_run()

#: asset metadata of every per-restaurant warehouse table: the IO manager reads and replaces a
#: run's partitions by this column
PARTITION_EXPR = {"partition_expr": "restaurant_id"}


#: what a step opens, which decides its concurrency pool: the warehouse, or the warehouse and the
#: vector store
WAREHOUSE, VECTORS = "warehouse", "vectors"


@dataclass(frozen=True)
class Pools:
    """Dagster concurrency pools of the steps that touch a resource with one writer process, for
    one deployment's settings; the instance gives every pool one slot (dagster.yaml:
    `concurrency.pools.default_limit: 1`):
    - the DuckDB warehouse file (`duckdb` backend): every step that reads or writes the warehouse;
    - the embedded Qdrant store (no `REVIEWLENS_QDRANT_URL`): the steps that open it.
    With DuckLake and a Qdrant server there is none: nothing serializes runs."""

    warehouse: str | None
    vectors: str | None

    @classmethod
    def for_settings(cls, settings: Settings) -> "Pools":
        warehouse = "reviewlens_duckdb_file" if settings.warehouse_backend == "duckdb" else None
        return cls(warehouse, warehouse or (None if settings.qdrant_url else "reviewlens_qdrant_embedded"))

    def of(self, role: str) -> str | None:
        """The pool of a step that opens what ``role`` names (:data:`WAREHOUSE` or :data:`VECTORS`)."""
        return {WAREHOUSE: self.warehouse, VECTORS: self.vectors}[role]


@dataclass(frozen=True)
class StageAsset:
    """An asset (or multi-asset) of a stage module, declared at import and decorated by
    :meth:`build` once the deployment's settings are known: its pool depends on them, and nothing
    reads the environment at import (``build_defs(settings)`` builds every stage)."""

    decorator: Callable[..., Callable[[Callable], dg.AssetsDefinition]]
    arguments: dict
    fn: Callable

    def build(self, pools: Pools) -> dg.AssetsDefinition:
        role = self.arguments["pool"]
        return self.decorator(**{**self.arguments, "pool": pools.of(role)})(self.fn)


def stage_asset(**arguments) -> Callable[[Callable], StageAsset]:
    """``@dg.asset(**arguments)`` with ``pool`` a role (:data:`WAREHOUSE` / :data:`VECTORS`),
    decorated in :meth:`StageAsset.build`."""
    return lambda fn: StageAsset(dg.asset, {"pool": WAREHOUSE, **arguments}, fn)


def stage_multi_asset(**arguments) -> Callable[[Callable], StageAsset]:
    """:func:`stage_asset` of ``@dg.multi_asset``."""
    return lambda fn: StageAsset(dg.multi_asset, {"pool": WAREHOUSE, **arguments}, fn)


OWNERS = ["team:reviewlens"]

#: declarative automation of every stage below `reviews`: a partition refreshes when an upstream
#: partition's *data* changed (its data version, not merely a new materialization: `reviews`
#: re-materialized with identical rows starts nothing) and the upstream's blocking checks passed
#: (or the upstream runs in the same run, where a failing blocking check stops it); nothing runs
#: while an upstream partition is missing or in progress. `eager()` with `any_deps_updated`
#: replaced by `ANY_DEPS_CHANGED`.
ANY_DEPS_CHANGED = dg.AutomationCondition.any_deps_match(
    (dg.AutomationCondition.data_version_changed() & ~dg.AutomationCondition.executed_with_root_target()).with_label(
        "data_version_changed_without_root"
    )
    | dg.AutomationCondition.will_be_requested()
).with_label("any_deps_changed")
#: the LLM's outputs: a restaurant the LLM has not read (yet, or on a CPU, at all) is counted on the
#: lexicon alone, so a missing LLM partition does not hold back the counts downstream of it
LLM_OUTPUTS = ("sentiments", "llm_aspect_polarities")


def eager(optional: tuple[str, ...] = ()) -> dg.AutomationCondition:
    """The condition above; ``optional`` upstream assets may be missing (their partitions are read
    as empty), and then their checks do not block either."""
    skip = dg.AssetSelection.assets(*optional) if optional else None
    deps_missing = dg.AutomationCondition.any_deps_missing()
    checks_passed = dg.AutomationCondition.all_deps_match(
        dg.AutomationCondition.all_checks_match(dg.AutomationCondition.check_passed(), blocking_only=True)
        | dg.AutomationCondition.will_be_requested()
    )
    if skip is not None:
        deps_missing = deps_missing.ignore(skip)
        checks_passed = checks_passed.ignore(skip)
    return (
        (dg.AutomationCondition.newly_missing() | ANY_DEPS_CHANGED).since_last_handled()
        & ~deps_missing
        & ~dg.AutomationCondition.any_deps_in_progress()
        & ~dg.AutomationCondition.in_progress()
        & checks_passed.with_label("upstream blocking checks passed")
    ).with_label("eager on changed data, upstream checks passed")


EAGER = eager()
#: below the LLM: counts for every restaurant, refined where the LLM read it
EAGER_PAST_LLM = eager(LLM_OUTPUTS)


def per_restaurant(pool: str = WAREHOUSE, **more) -> dict:
    """The arguments of ``@dg.asset`` / ``@dg.multi_asset`` every per-restaurant stage shares: the
    restaurants' dynamic partitions, one run per backfill (one LLM engine), the role of its pool
    (``more``: the asset's own)."""
    return dict(pool=pool, partitions_def=restaurants_partitions, backfill_policy=single_run, **more)


def restaurant_table(
    group: str,
    kinds: set[str],
    condition: dg.AutomationCondition = EAGER,
    metadata: dict = PARTITION_EXPR,
    pool: str = WAREHOUSE,
    **more,
) -> dict:
    """:func:`per_restaurant` for an asset that is a warehouse table partitioned by restaurant
    (written by the warehouse IO manager by ``restaurant_id``), owned by the team."""
    return per_restaurant(
        pool,
        io_manager_key="warehouse_io_manager",
        metadata=metadata,
        group_name=group,
        kinds=kinds,
        owners=OWNERS,
        automation_condition=condition,
        **more,
    )

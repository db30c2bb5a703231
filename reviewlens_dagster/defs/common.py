"""What every stage's shell shares: the rows of a run's partitions, and check results from
core's outcomes (:class:`..core.checks.CheckOutcome`)."""

import dagster as dg
import pandas as pd

from ..core.checks import CheckOutcome


def check_spec(name, asset, blocking, description):
    return dg.AssetCheckSpec(name, asset=asset, blocking=blocking, description=description)


def check_results(outcomes: dict[str, CheckOutcome], specs: list[dg.AssetCheckSpec]):
    """Check results from core's outcomes; WARN for the specs that do not block."""
    by_name = {s.name: s for s in specs}
    for name, o in outcomes.items():
        spec = by_name[name]
        yield dg.AssetCheckResult(
            asset_key=spec.asset_key,
            check_name=name,
            passed=bool(o.passed),
            severity=dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN,
            metadata={k: _metadata_value(v, k in o.markdown) for k, v in o.metadata.items()},
        )


def of_run(df: pd.DataFrame, keys: list[str], columns: list[str] | None = None) -> pd.DataFrame:
    """The rows of this run's restaurants (``columns``: of a table that may not exist yet)."""
    if columns is not None:
        df = df.reindex(columns=list(dict.fromkeys([*columns, *df.columns])))
    return df[df["restaurant_id"].isin(keys)].reset_index(drop=True)


def _metadata_value(value, markdown: bool):
    if markdown:
        return dg.MetadataValue.md(value)
    return dg.MetadataValue.json(value) if isinstance(value, dict | list) else value

"""Resources: settings shown in the UI, the DuckDB warehouse IO manager."""


from pathlib import Path

import dagster as dg
from dagster_duckdb_pandas import DuckDBPandasIOManager

from ..core.config import Settings
from ..core.ingest import ScanResult, scan_folder


class ReviewLensSettings(dg.ConfigurableResource):
    """Paths and thresholds of the pipeline (defaults come from REVIEWLENS_* env vars)."""

    incoming_dir: str
    max_text_chars: int = 5000
    reject_share_threshold: float = 0.2
    top_k: int = 20

    def scan(self) -> ScanResult:
        return scan_folder(Path(self.incoming_dir), self.max_text_chars)


def warehouse_io_manager(settings: Settings) -> DuckDBPandasIOManager:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return DuckDBPandasIOManager(database=str(settings.warehouse_path), schema="reviewlens")


def settings_resource(settings: Settings) -> ReviewLensSettings:
    return ReviewLensSettings(
        incoming_dir=str(settings.incoming_dir),
        max_text_chars=settings.max_text_chars,
        reject_share_threshold=settings.reject_share_threshold,
        top_k=settings.top_k,
    )

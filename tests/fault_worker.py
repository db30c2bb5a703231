"""A pipeline run in its own process, for the fault tests (kill -9, SIGTERM) in test_llm_faults.py.

    python -m tests.fault_worker WORKDIR DELAY_S

Runs `reviewlens_pipeline` over the restaurants of `REVIEWS` with a deterministic LLM double
that takes DELAY_S per engine call and writes `engine_closed` into WORKDIR when the engine is
shut down. SIGTERM is handled like `reviewlens run` does (as an interrupt).
"""

from __future__ import annotations

import csv
import signal
import sys
import time
from pathlib import Path

import dagster as dg

from reviewlens_dagster.core.llm.engine import LLMEngine
from reviewlens_dagster.definitions import build_defs
from reviewlens_dagster.defs.automation import PIPELINE_JOB, range_tags
from reviewlens_dagster.defs.resources import LLMEngineResource, warehouse_resource

from .conftest import make_settings, stage
from .doubles import DoubleBackend, analysis_answer

REVIEWS = {
    "fa": ("치킨", "강남", ["바삭하고 맛있어요", "배달이 빨라요", "양이 많아요", "사장님이 불친절해요"]),
    "fb": ("치킨", "강남", ["양념이 맛있어요", "가격이 착해요", "포장이 깔끔해요", "주차할 곳이 없어요"]),
    "fc": ("카페", "홍대", ["분위기가 좋아요", "커피가 진해요", "조용해서 좋아요", "직원이 불친절해요"]),
}
CHUNK = 2


class SlowBackend(DoubleBackend):
    def __init__(self, delay_s: float, marker: Path | None):
        super().__init__(answers={"*": analysis_answer})
        self.delay_s, self.marker = delay_s, marker

    def stream(self, requests, priorities, on_result):
        """One result every ``delay_s``, as a real engine finishes requests one after another."""
        out = []
        for r, p in zip(requests, priorities):
            time.sleep(self.delay_s)
            out += self.generate([r], [p])
            on_result(out[-1])
        return out

    def close(self) -> None:
        super().close()
        if self.marker:
            self.marker.write_text("closed")


class FaultLLMResource(LLMEngineResource):
    delay_s: float = 0.0
    marker: str = ""
    calls_log: str = ""

    def engine(self):
        if self._engine is None:
            backend = SlowBackend(self.delay_s, Path(self.marker) if self.marker else None)
            self._engine = LLMEngine(backend)
            if self.calls_log:
                log = Path(self.calls_log)
                original = backend.generate

                def logged(requests, priorities):
                    out = original(requests, priorities)
                    with log.open("a") as fh:
                        fh.writelines(f"{r.request_id}\n" for r in requests)
                    return out

                backend.generate = logged
        return self._engine

    @property
    def model_name(self) -> str:
        return "double"


def write_reviews(incoming: Path) -> None:
    incoming.mkdir(parents=True, exist_ok=True)
    with open(incoming / "reviews.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area", "created_at"])
        for restaurant_id, (cat, area, texts) in REVIEWS.items():
            for i, t in enumerate(texts):
                w.writerow(
                    [
                        f"{restaurant_id}-{i}",
                        restaurant_id,
                        t,
                        2 if "불친절" in t or "없어요" in t else 5,
                        cat,
                        area,
                        f"2026-05-{i + 1:02d}",
                    ]
                )


def run(
    workdir: Path, instance: dg.DagsterInstance, delay_s: float = 0.0, marker: str = "", calls_log: str = ""
) -> dg.ExecuteInProcessResult:
    settings = make_settings(workdir, llm_chunk_size=CHUNK)
    write_reviews(settings.incoming_dir)
    keys = sorted(REVIEWS)
    llm = FaultLLMResource(
        warehouse=warehouse_resource(settings),
        model_cache_dir=str(workdir / "models"),
        metrics_path=str(settings.metrics_path),
        delay_s=delay_s,
        marker=marker,
        calls_log=calls_log,
    )
    defs = build_defs(settings, resources={"llm": llm})
    stage(defs, instance)  # adds the partitions; nothing to do on a re-run
    return defs.resolve_job_def(PIPELINE_JOB).execute_in_process(
        instance=instance, tags=range_tags(keys), raise_on_error=False
    )


def make_instance(home: Path):
    home.mkdir(parents=True, exist_ok=True)
    return dg.instance_for_test(temp_dir=str(home))


def main() -> None:
    workdir, delay = Path(sys.argv[1]), float(sys.argv[2])
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as `reviewlens run`: a graceful interrupt
    with make_instance(workdir / "dagster_home") as instance:
        result = run(workdir, instance, delay, marker=str(workdir / "engine_closed"))
    sys.exit(0 if result.success else 1)


if __name__ == "__main__":
    main()

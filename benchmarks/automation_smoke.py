"""`make smoke-automation`: declarative automation with the real Dagster daemon (~6 min on 2 CPU cores).

Starts `dagster dev` on a fresh instance (sensors on, `tiny` LLM preset, K=4), drops a file with
two restaurants into the incoming folder, waits until the chain reaches `comparisons`, drops a
second file for one restaurant, and checks that only that restaurant was refreshed. Prints the
runs. tests/test_automation.py covers the same flow by ticking the sensors itself; this checks
that the daemon does what that test simulates. Exit status 1 when the expectation fails.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

from reviewlens_dagster.devserver import ROOT, dagster_dev

RUN_TAGS = (
    "dagster/partition",
    "dagster/asset_partition_range_start",
    "dagster/asset_partition_range_end",
    "dagster/backfill",
    "reviewlens/writer",
)


def write(incoming: Path, name: str, rows) -> None:
    with open(incoming / name, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["review_id", "restaurant_id", "text", "rating", "category", "area"])
        w.writerows(rows)


def materializations(inst: dg.DagsterInstance, asset: str, partition: str) -> int:
    flt = dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), asset_partitions=[partition])
    return len(inst.fetch_materializations(flt, limit=100).records)


def wait_for(inst, asset: str, partition: str, count: int, timeout_s: float = 900) -> None:
    deadline = time.monotonic() + timeout_s
    while materializations(inst, asset, partition) < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{asset}[{partition}] did not reach {count} materializations in {timeout_s} s")
        time.sleep(5)


def show_runs(inst: dg.DagsterInstance) -> None:
    for r in reversed(inst.get_runs(limit=50)):
        tags = {k: v for k, v in r.tags.items() if k in RUN_TAGS}
        assets = sorted(k.to_user_string() for k in (r.asset_selection or []))
        print(f"  {r.run_id[:8]}  {r.job_name:<15} {r.status.value:<8} {tags} {assets}")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="reviewlens-smoke-"))
    home, data = work / "home", work / "data"
    (data / "incoming").mkdir(parents=True)
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    env = {"REVIEWLENS_DATA_DIR": str(data), "REVIEWLENS_LLM_PRESET": "tiny", "REVIEWLENS_TOP_K": "4"}
    t0 = time.monotonic()
    try:
        with dagster_dev(home, env, work / "dagster_dev.log"), dg.DagsterInstance.from_config(str(home)) as inst:
            print(f"{time.monotonic() - t0:6.1f} s  dagster dev up; 40 s for the sensors' first ticks", flush=True)
            time.sleep(40)
            write(
                data / "incoming",
                "first.csv",
                [
                    (f"{r}-{i}", r, text, 5, "Chicken", "Gangnam")
                    for r in ("ea", "eb")
                    for i, text in enumerate(["Crispy and tasty.", "Fast delivery.", "Friendly staff."])
                ],
            )
            print(f"{time.monotonic() - t0:6.1f} s  dropped first.csv (restaurants ea, eb)", flush=True)
            for p in ("ea", "eb"):
                wait_for(inst, "comparisons", p, 1)
            print(f"{time.monotonic() - t0:6.1f} s  both restaurants analysed", flush=True)
            write(data / "incoming", "late.csv", [("ea-new", "ea", "Rude waiter tonight.", 1, "Chicken", "Gangnam")])
            print(f"{time.monotonic() - t0:6.1f} s  dropped late.csv (restaurant ea)", flush=True)
            wait_for(inst, "comparisons", "ea", 2)
            time.sleep(40)  # another automation tick: nothing more may start
            final = {p: materializations(inst, "summaries", p) for p in ("ea", "eb")}
            print(f"{time.monotonic() - t0:6.1f} s  summaries materializations per restaurant: {final}")
            show_runs(inst)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = final == {"ea": 2, "eb": 1}
    print("OK: only the changed restaurant was refreshed" if ok else "FAILED: see the runs above")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

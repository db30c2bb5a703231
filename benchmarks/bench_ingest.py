"""Staging throughput and the cost of "nothing changed" (issue targets in the table).

Generates a review set (default 1,000,000 rows of 10,000 restaurants) in two layouts: one file
per restaurant (10,000 files) and 100 large files; then, for each layout:

- cold staging into a fresh warehouse file (rows/s), next to DuckDB's own ``read_csv`` of the same
  files into a table (the limit: parsing only, no validation), and their ratio;
- staging again with nothing changed; with one file changed (that file is the only one parsed);
- the incoming sensor's tick (file sizes and mtimes against the staging manifest), unchanged and
  on a first drop (no manifest): its run requests, and the `reviews` runs the fan-out asks for.

    python benchmarks/bench_ingest.py [--rows 1000000] [--restaurants 10000] [--repeat 3] [--keep DIR]
                                      [--workbook-rows 100000] [--only-workbook]

First, the same delivery-app export (menu and three per-aspect star columns) as one 100,000-row
workbook and as a CSV, each read and validated by the product's reader: rows/s of both.

Each layout is generated and measured --repeat times (a fresh set each time); the table shows
the median of each figure and the range of the staging throughput.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

TEXTS = [
    "맛있어요 배달도 빨라요",
    "양이 적고 비싸요",
    "사장님이 친절하시고 음식이 따뜻해요 😊",
    "Great fried chicken, a bit salty",
    "포장이 깔끔하고 맛도 최고! <b>추천</b>",
    "주차가 불편해요",
    "3일 전에 시켰는데 식어서 왔어요",
    "가성비 &amp; 분위기 좋음",
]
DATES = ["2024-03-01", "2024.03.02", "2024년 3월 3일", "3일 전", "어제", "2024-03-05T12:30:00+09:00"]
RATINGS = ["5", "4", "4점", "★★★☆☆", "2", "1", "4.5"]
HEADER = [
    "review_id",
    "restaurant_id",
    "text",
    "rating",
    "created_at",
    "restaurant_name",
    "category",
    "area",
    "helpful_count",
]


def review_row(n: int, r: int, store: str) -> list:
    """Generated review ``n`` of restaurant ``r`` (HEADER's columns)."""
    return [
        f"rv{n}",
        store,
        f"{TEXTS[n % len(TEXTS)]} {n}",
        RATINGS[n % len(RATINGS)],
        DATES[n % len(DATES)],
        f"식당 {r}",
        "치킨",
        "강남",
        n % 7,
    ]


def generate(folder: Path, rows: int, restaurants: int, files: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_file = rows // files
    for f in range(files):
        with open(folder / f"part-{f:05d}.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(HEADER)
            for i in range(per_file):
                n = f * per_file + i
                r = n * restaurants // rows if files >= restaurants else rnd.randrange(restaurants)
                store = f"교촌치킨-{r:05d}호점" if r % 3 == 0 else f"r{r:05d}"
                w.writerow(review_row(n, r, store))


def _settings(root: Path):
    from reviewlens_dagster.core.config import settings_in

    return settings_in(root, automation=False)


def measure(root: Path, label: str) -> dict:
    import dagster as dg
    import duckdb

    from reviewlens_dagster.core.changes import partition_ranges
    from reviewlens_dagster.definitions import build_defs
    from reviewlens_dagster.defs.resources import StagingResource

    s = _settings(root)
    defs = build_defs(s)
    res: StagingResource = defs.resources["ingest_settings"]
    sensor = defs.resolve_sensor_def("incoming_reviews_sensor")

    def tick(instance):
        with dg.build_sensor_context(instance=instance, definitions=defs, resources={"ingest_settings": res}) as ctx:
            return sensor(ctx)

    out = {"layout": label, "files": len(list(s.incoming_dir.glob("*.csv")))}
    with dg.instance_for_test() as instance:
        t = time.perf_counter()
        first = tick(instance)
        out["sensor_first_drop_s"] = time.perf_counter() - t
        out["staging_runs_requested"] = len(first.run_requests)

    with res.staging_store() as store:
        t = time.perf_counter()
        report = store.stage(s.incoming_dir, res.sources(), s.max_text_chars)
        out["stage_s"] = time.perf_counter() - t
        out["rows"] = report.rows_read
        out["reviews"] = report.reviews
        out["warnings"] = report.warnings
        out["restaurants"] = report.restaurants
        keys = store.restaurant_keys()
        res.write_manifest(store.manifest())
        out["reviews_runs_for_first_drop"] = len(partition_ranges(keys, report.changed_restaurants, 20))
        t = time.perf_counter()
        again = store.stage(s.incoming_dir, res.sources(), s.max_text_chars)
        out["restage_unchanged_s"] = time.perf_counter() - t
        assert not again.wrote and again.unchanged == out["files"]
        victim = sorted(s.incoming_dir.glob("*.csv"))[len(keys) % out["files"]]
        with open(victim, "a", encoding="utf-8") as fh:
            fh.write("rv-new,r00042,새로 추가된 리뷰,5,2024-04-01,식당 42,치킨,강남,0\r\n")
        t = time.perf_counter()
        one = store.stage(s.incoming_dir, res.sources(), s.max_text_chars)
        out["restage_one_changed_s"] = time.perf_counter() - t
        out["files_parsed_after_one_change"] = len(one.parsed)
        res.write_manifest(store.manifest())
    with dg.instance_for_test() as instance:
        t = time.perf_counter()
        result = tick(instance)
        out["sensor_unchanged_s"] = time.perf_counter() - t
        assert isinstance(result, dg.SkipReason), result
    con = duckdb.connect()
    t = time.perf_counter()
    con.execute(
        f"create table t as select * from read_csv('{s.incoming_dir}/*.csv', all_varchar = true, "
        "header = true, delim = ',', quote = '\"')"
    )
    out["duckdb_read_csv_s"] = time.perf_counter() - t
    con.close()
    out["stage_rows_per_s"] = out["rows"] / out["stage_s"]
    out["duckdb_rows_per_s"] = out["rows"] / out["duckdb_read_csv_s"]
    out["staging_vs_duckdb"] = out["duckdb_read_csv_s"] / out["stage_s"]
    return out


def median_of(runs: list[dict]) -> dict:
    """Per figure, the median over the runs (the layout name kept), plus the throughput's range."""
    out = {}
    for k, v in runs[0].items():
        if isinstance(v, (int, float)):
            pick = statistics.median_low if isinstance(v, int) else statistics.median
            out[k] = pick([r[k] for r in runs])
        else:
            out[k] = v
    rates = [r["stage_rows_per_s"] for r in runs]
    out["stage_min"], out["stage_max"] = min(rates), max(rates)
    return out


MENUS = [
    "양념치킨/1,콜라 1.25L/1",
    "후라이드(순살, 뼈 변경)/1",
    "반반치킨（양념(순한맛), 후라이드）/1,치즈볼 5개/2",
    "떡볶이 2인분/1",
]
EXPORT_HEADER = [*HEADER, "menu", "taste_rating", "quantity_rating", "delivery_rating"]


def export_rows(rows: int, restaurants: int = 100):
    """A delivery-app export's rows: the review columns plus a menu and three per-aspect stars."""
    for n in range(rows):
        r = n % restaurants
        stars = [1 + n % 5, 1 + (n // 5) % 5, 1 + (n // 25) % 5]
        yield [*review_row(n, r, f"r{r:05d}"), MENUS[n % len(MENUS)], *stars]


def bench_workbook(rows: int, repeat: int, base: Path) -> None:
    """The same rows as one .xlsx and one CSV, each read and validated by the product's reader
    (`read_review_file`: parse, map, validate, menus, sub-ratings): rows/s of each, median of ``repeat``."""
    import xlsxwriter

    from reviewlens_dagster.core.ingest.readers import read_review_file

    base.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = base / "export.csv", base / "export.xlsx"
    t = time.perf_counter()
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(EXPORT_HEADER)
        w.writerows(export_rows(rows))
    wb = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    ws = wb.add_worksheet("리뷰")
    ws.write_row(0, 0, EXPORT_HEADER)
    for i, row in enumerate(export_rows(rows), start=1):
        ws.write_row(i, 0, row)
    wb.close()
    print(f"generated {rows:,} rows as CSV and .xlsx ({time.perf_counter() - t:.1f} s)", flush=True)
    got = {}
    for label, path in (("CSV", csv_path), ("workbook (.xlsx)", xlsx_path)):
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            res = read_review_file(path)
            times.append(time.perf_counter() - t)
        assert len(res.rows) == rows and res.rows["menu_items"].notna().all(), (label, len(res.rows))
        got[label] = statistics.median(times)
    load = os.getloadavg()
    print(
        f"\n## make bench-ingest, workbooks — {date.today()}, {os.cpu_count()} CPUs, load {load[0]:.2f}, "
        f"{rows:,} rows with a menu and three sub-rating columns (median of n = {repeat})\n"
    )
    print("| file | read + validate, s | rows/s | file size, MB |")
    print("|---|---:|---:|---:|")
    for label, path in (("CSV", csv_path), ("workbook (.xlsx)", xlsx_path)):
        print(f"| {label} | {got[label]:.2f} | {rows / got[label]:,.0f} | {path.stat().st_size / 1e6:.1f} |")
    print(f"| workbook / CSV time | {got['workbook (.xlsx)'] / got['CSV']:.2f} | | |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--restaurants", type=int, default=10_000)
    ap.add_argument("--keep", type=Path, default=None, help="keep the generated sets here")
    ap.add_argument("--repeat", type=int, default=3, help="runs per layout (fresh set each); the table shows medians")
    ap.add_argument("--workbook-rows", type=int, default=100_000, help="rows of the workbook-vs-CSV figure (0: skip)")
    ap.add_argument("--only-workbook", action="store_true", help="only the workbook-vs-CSV figure")
    args = ap.parse_args()
    base = args.keep or Path(
        tempfile.mkdtemp(prefix="bench-ingest-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    )
    if args.workbook_rows:
        try:
            bench_workbook(args.workbook_rows, args.repeat, base / "workbook")
        finally:
            if args.keep is None:
                shutil.rmtree(base / "workbook", ignore_errors=True)
    if args.only_workbook:
        return
    results = []
    try:
        for label, files in (("one file per restaurant", args.restaurants), ("100 large files", 100)):
            runs = []
            for k in range(args.repeat):
                root = base / f"{label.replace(' ', '-')}-{k}"
                t = time.perf_counter()
                generate(root / "incoming", args.rows, args.restaurants, files)
                print(f"generated {args.rows:,} rows in {files:,} files ({time.perf_counter() - t:.1f} s)", flush=True)
                runs.append(measure(root, label))
                print(f"  {label}, run {k + 1}: {runs[-1]['stage_rows_per_s']:,.0f} rows/s staged", flush=True)
                if args.keep is None:
                    shutil.rmtree(root, ignore_errors=True)
            results.append(median_of(runs))
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
    load = os.getloadavg()
    print(
        f"\n## make bench-ingest — {date.today()}, {os.cpu_count()} CPUs, load {load[0]:.2f} / {load[1]:.2f}, "
        f"{args.rows:,} rows, {args.restaurants:,} restaurants (median of n = {args.repeat} runs per figure; "
        f"throughput min-max in parentheses)\n"
    )
    rows = [
        ("files", "{:,}", "files", ""),
        ("rows staged", "{:,}", "rows", ""),
        ("reviews after dedup / warnings", None, None, ""),
        ("cold staging, s", "{:.2f}", "stage_s", ""),
        ("staging throughput, rows/s", "{:,.0f}", "stage_rows_per_s", ">= 100,000"),
        ("DuckDB read_csv (all varchar) into a table, s", "{:.2f}", "duckdb_read_csv_s", ""),
        ("DuckDB read_csv throughput, rows/s (the limit)", "{:,.0f}", "duckdb_rows_per_s", ""),
        ("staging / DuckDB read_csv speed", "{:.2f}", "staging_vs_duckdb", ""),
        ("re-staging, nothing changed, s", "{:.3f}", "restage_unchanged_s", "< 2"),
        ("re-staging after one file changed, s", "{:.2f}", "restage_one_changed_s", ""),
        ("files parsed after one change", "{}", "files_parsed_after_one_change", "1"),
        ("sensor tick on the first drop, s", "{:.2f}", "sensor_first_drop_s", "< 5"),
        ("staging runs requested by it", "{}", "staging_runs_requested", "1"),
        ("`reviews` runs the fan-out requests for it", "{}", "reviews_runs_for_first_drop", "not 10,000"),
        ("sensor tick, nothing changed, s", "{:.3f}", "sensor_unchanged_s", "< 5"),
    ]
    print("| figure | " + " | ".join(r["layout"] for r in results) + " | target |")
    print("|---|" + "---:|" * len(results) + "---|")
    for name, fmt, key, target in rows:
        if key is None:
            cells = [f"{r['reviews']:,} / {r['warnings']:,}" for r in results]
        elif key == "stage_rows_per_s":
            cells = [f"{fmt.format(r[key])} ({r['stage_min']:,.0f}-{r['stage_max']:,.0f})" for r in results]
        else:
            cells = [fmt.format(r[key]) for r in results]
        print(f"| {name} | " + " | ".join(cells) + f" | {target} |")


if __name__ == "__main__":
    main()

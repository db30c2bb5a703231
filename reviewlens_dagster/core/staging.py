"""Stage once, fan out: every incoming file is parsed once into DuckDB tables, and the
per-restaurant `reviews` read them.

Tables (schema ``reviewlens`` of the warehouse):

- ``staged_files``: one row per file ever staged: size, mtime, sha256, the parser/mapping
  fingerprint, what it produced, and whether it is still in the folder (``present``);
- ``staged_rows``: every valid row of every staged file (duplicates included);
- ``staged_file_rejections``: each file's rejected rows and warnings;
- ``staged_reviews``: ``staged_rows`` deduplicated by ``review_id`` (newest ``created_at`` wins;
  ties: the later file name, then the later row) — what `reviews` reads;
- ``rejected_reviews``: the file rejections plus superseded duplicates and partition-key
  collisions (every rejected row has a reason).

:meth:`StagingStore.stage` looks at the folder: a file whose size and mtime (or, when those
changed, whose sha256) and fingerprint match its ``staged_files`` row is not read again; new and
changed files are parsed and validated together (:func:`.ingest.validate_parts`); the tables are
rewritten in one transaction; and the restaurants whose deduplicated rows changed are reported,
so only their partitions refresh. Nothing changed: nothing is written.

A file that leaves the folder keeps its reviews by default (``on_deleted="keep"``: a moved or
archived export must not delete data); ``"drop"`` removes them (docs/data.md "Deleted files").
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from .config import DEFAULT_MAX_TEXT_CHARS
from .config import WAREHOUSE_SCHEMA as SCHEMA
from .ingest import (
    REJECT_COLUMNS,
    REJECTED,
    REVIEW_COLUMNS,
    WARNING,
    list_review_files,
    normalize_reviews_frame,
    read_many,
    rejections_frame,
    validate_parts,
)
from .sources import SourcesFile
from .staged_files import (
    StagingReport,
    changed_files,
    count_per_file,
    folder_listing,
    parts_and_file_rows,
)

log = logging.getLogger(__name__)

ON_DELETED = ("keep", "drop")
_REVIEW_TYPES = {
    "review_id": "VARCHAR",
    "restaurant_id": "VARCHAR",
    "text": "VARCHAR",
    "rating": "DOUBLE",
    "created_at": "TIMESTAMP",
    "restaurant_name": "VARCHAR",
    "category": "VARCHAR",
    "area": "VARCHAR",
    "helpful_count": "BIGINT",
    "menu_items": "VARCHAR",  # JSON list of dishes
    "aspect_ratings": "VARCHAR",  # JSON object aspect -> 1-5
    "source_restaurant_id": "VARCHAR",
    "source_file": "VARCHAR",
    "source_row": "BIGINT",
    "content_hash": "VARCHAR",
}
_REJECT_TYPES = {
    "source_file": "VARCHAR",
    "source_row": "BIGINT",
    "review_id": "VARCHAR",
    "restaurant_id": "VARCHAR",
    "severity": "VARCHAR",
    "reason": "VARCHAR",
    "raw": "VARCHAR",
}
_FILE_TYPES = {
    "staged_file": "VARCHAR",  # one row per file: written by delete + insert in one transaction (DuckLake has no keys)
    "size": "BIGINT",
    "mtime_ns": "BIGINT",
    "sha256": "VARCHAR",
    "config": "VARCHAR",
    "source": "VARCHAR",
    "encoding": "VARCHAR",
    "fatal": "VARCHAR",
    "rows": "BIGINT",
    "rejected": "BIGINT",
    "warnings": "BIGINT",
    "present": "BOOLEAN",
    "staged_at": "TIMESTAMP",
}
assert tuple(_REVIEW_TYPES) == REVIEW_COLUMNS and tuple(_REJECT_TYPES) == REJECT_COLUMNS


#: files hashed at once (hashlib releases the GIL)


ProgressFn = Callable[[str], None]


class StagingStore:
    """The staging tables on a DuckDB connection (the warehouse file, or ``:memory:``)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str = SCHEMA) -> None:
        self.con, self.s = con, schema

    # ------------------------------------------------------------------ tables
    def ensure_tables(self) -> None:
        s = self.s
        self.con.execute(f"create schema if not exists {s}")
        for name, types in (
            ("staged_rows", {**_REVIEW_TYPES, "staged_file": "VARCHAR"}),
            ("staged_file_rejections", {**_REJECT_TYPES, "staged_file": "VARCHAR"}),
            ("staged_files", _FILE_TYPES),
            ("staged_reviews", _REVIEW_TYPES),
            ("rejected_reviews", _REJECT_TYPES),
        ):
            cols = ", ".join(f'"{c}" {t}' for c, t in types.items())
            self.con.execute(f"create table if not exists {s}.{name} ({cols})")

        # tables written by an older release: the quarantine table is derived (rebuilt on the next
        # change), a renamed column is renamed in place (staged rows of deleted files must survive)
        def columns(table: str) -> list[str]:
            return [
                r[0]
                for r in self.con.execute(
                    "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
                    "order by ordinal_position",
                    [s, table],
                ).fetchall()
            ]

        for table in ("staged_rows", "staged_reviews"):  # columns added since (NULL for rows staged before)
            have = columns(table)
            for col, typ in _REVIEW_TYPES.items():
                if col not in have:
                    self.con.execute(f'alter table {s}.{table} add column "{col}" {typ}')
        if "row_number" in columns("staged_file_rejections"):
            self.con.execute(f"alter table {s}.staged_file_rejections rename column row_number to source_row")
        if columns("rejected_reviews") != list(_REJECT_TYPES):
            self.con.execute(f"drop table {s}.rejected_reviews")
            cols = ", ".join(f'"{c}" {t}' for c, t in _REJECT_TYPES.items())
            self.con.execute(f"create table {s}.rejected_reviews ({cols})")
            self._rebuild()

    def staged_files(self) -> pd.DataFrame:
        return self.con.execute(f"select * from {self.s}.staged_files").df()

    # ------------------------------------------------------------------ staging
    def stage(
        self,
        folder: Path,
        sources: SourcesFile | None = None,
        max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
        on_deleted: str = "keep",
        files: list[Path] | None = None,
        progress: ProgressFn | None = None,
    ) -> StagingReport:
        """Stage the folder's new and changed files (or ``files``): read them once, validate them
        together, replace their rows; unchanged files (size, mtime, then content hash) are not
        read; deleted ones are kept or dropped (``on_deleted``)."""
        if on_deleted not in ON_DELETED:
            raise ValueError(f"on_deleted must be one of {ON_DELETED}, not {on_deleted!r}")
        t0 = time.perf_counter()
        say = progress or (lambda m: None)
        sources = sources or SourcesFile()
        self.ensure_tables()
        report = StagingReport()
        prev = {r["staged_file"]: r for r in self.staged_files().to_dict(orient="records")}
        listing = folder_listing(files if files is not None else list_review_files(Path(folder)), Path(folder))
        report.files = len(listing)
        specs = {name: sources.spec_for(name) for name in listing}  # the sources.yaml entry of each file
        to_parse, touched = changed_files(listing, prev, specs, max_text_chars, report)
        say(f"staging: reading {len(to_parse)} new or changed file(s) of {len(listing)}")
        parsed = read_many([(path, name, specs[name]) for name, path, *_ in to_parse], progress=say)
        report.touched = len(touched)
        gone = [n for n, r in prev.items() if r["present"] and n not in listing] if files is None else []
        report.deleted = gone
        if to_parse or gone or touched:
            # the new and changed files were read above (one pass over each); validated together
            parts, file_rows = parts_and_file_rows(to_parse, parsed, specs, report)
            report.rows_read = sum(len(p) for p in parts)
            validated = validate_parts(parts, max_text_chars)
            rows, rej = validated.reviews, validated.rejections
            say(
                f"staging: validated {report.rows_read:,} rows: {len(rows):,} valid, "
                f"{int((rej['severity'] == REJECTED).sum()):,} rejected, "
                f"{int((rej['severity'] == WARNING).sum()):,} warnings"
            )
            count_per_file(file_rows, rows, rej)
            files_frame = pd.DataFrame([*file_rows, *touched], columns=list(_FILE_TYPES))
            now = pd.Timestamp.now(tz="UTC").tz_convert(None)
            files_frame["staged_at"] = files_frame["staged_at"].fillna(now) if len(touched) else now
            drop = [n for n, *_ in to_parse] + (gone if on_deleted == "drop" else [])
            report.changed_restaurants = self._write(rows, rej, files_frame, drop, gone if on_deleted == "keep" else [])
            report.parsed = [n for n, *_ in to_parse]
        self._totals(report)
        report.seconds = time.perf_counter() - t0
        return report

    def _totals(self, report: StagingReport) -> None:
        """What the staged tables hold now (whether or not this run wrote anything)."""
        totals = self.con.execute(
            f"select (select count(*) from {self.s}.staged_reviews), "
            f"(select count(distinct restaurant_id) from {self.s}.staged_reviews), "
            f"(select count(*) filter (where severity = 'rejected') from {self.s}.rejected_reviews), "
            f"(select count(*) filter (where severity = 'warning') from {self.s}.rejected_reviews)"
        ).fetchone()
        report.reviews, report.restaurants, report.rejected, report.warnings = (int(x) for x in totals)

    def _write(
        self, rows: pd.DataFrame, rej: pd.DataFrame, files_frame: pd.DataFrame, drop: list[str], absent: list[str]
    ) -> list[str]:
        """One transaction: replace the rows of ``drop`` files, record files, rebuild the deduplicated
        and quarantine tables; returns the restaurants whose staged reviews changed."""
        s, con = self.s, self.con
        con.register("_new_rows", rows)
        con.register("_new_rej", rej)
        con.register("_files", files_frame)
        con.register("_drop", pd.DataFrame({"f": pd.Series(drop, dtype=object)}))
        con.register("_absent", pd.DataFrame({"f": pd.Series(absent, dtype=object)}))
        digest = (
            f"select restaurant_id, bit_xor(hash(review_id, content_hash, source_file, source_row, "
            f"source_restaurant_id)) as d, count(*) as n from {s}.staged_reviews group by 1"
        )
        con.execute("begin transaction")
        try:
            before = con.execute(digest).df()
            con.execute(f"delete from {s}.staged_rows where staged_file in (select f from _drop)")
            con.execute(f"delete from {s}.staged_file_rejections where staged_file in (select f from _drop)")
            con.execute(f"insert into {s}.staged_rows by name select * from _new_rows")
            con.execute(f"insert into {s}.staged_file_rejections by name select * from _new_rej")
            con.execute(f"delete from {s}.staged_files where staged_file in (select staged_file from _files)")
            con.execute(f"insert into {s}.staged_files by name select * from _files")
            con.execute(f"update {s}.staged_files set present = false where staged_file in (select f from _absent)")
            con.execute(
                f"delete from {s}.staged_files where staged_file in (select f from _drop) "
                f"and staged_file not in (select staged_file from _files)"
            )
            self._rebuild()
            after = con.execute(digest).df()
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise
        finally:
            for name in ("_new_rows", "_new_rej", "_files", "_drop", "_absent"):
                con.unregister(name)
        merged = before.merge(after, on="restaurant_id", how="outer", suffixes=("_b", "_a"), indicator=True)
        changed = merged[
            (merged["_merge"] != "both") | (merged["d_b"] != merged["d_a"]) | (merged["n_b"] != merged["n_a"])
        ]
        return sorted(changed["restaurant_id"].tolist())

    def _rebuild(self) -> None:
        s, con = self.s, self.con
        cols = ", ".join(f'"{c}"' for c in REVIEW_COLUMNS)
        preview = (
            "case when length(text) <= 500 then text else left(text, 500) || '… (+' || "
            "(length(text) - 500) || ' chars)' end"
        )
        # two source ids that share a partition key (the key's hash makes this near impossible by
        # accident): the first id in sort order keeps the key, the other's rows are rejected
        con.execute(f"""
            create or replace temp table _collisions as
            select r.*, k.keeper from {s}.staged_rows r join (
                select restaurant_id, min(source_restaurant_id) as keeper from {s}.staged_rows group by 1
                having count(distinct source_restaurant_id) > 1) k using (restaurant_id)
            where r.source_restaurant_id <> k.keeper""")
        con.execute(f"""
            create or replace temp table _ranked as
            select *, row_number() over (partition by review_id
                order by created_at desc nulls last, source_file desc, source_row desc) as rn
            from {s}.staged_rows r
            where not exists (select 1 from _collisions c where c.source_file = r.source_file
                              and c.source_row = r.source_row)""")
        con.execute(f"delete from {s}.staged_reviews")
        con.execute(
            f"insert into {s}.staged_reviews by name select {cols} from _ranked where rn = 1 order by restaurant_id, review_id"
        )
        con.execute(f"delete from {s}.rejected_reviews")
        con.execute(f"""
            insert into {s}.rejected_reviews by name
            select source_file, source_row, review_id, restaurant_id, severity, reason, raw
            from {s}.staged_file_rejections
            union all
            select l.source_file, l.source_row, l.review_id, l.restaurant_id, '{REJECTED}',
                   'duplicate review_id superseded by ' || w.source_file || ' row ' || w.source_row
                   || ' (newest wins)', {preview.replace("text", "l.text")}
            from _ranked l join _ranked w on l.review_id = w.review_id and w.rn = 1 where l.rn > 1
            union all
            select source_file, source_row, review_id, restaurant_id, '{REJECTED}',
                   'restaurant id ' || source_restaurant_id || ' maps to partition key ' || restaurant_id
                   || ', which ' || keeper || ' already uses: rename one of them', {preview}
            from _collisions""")
        con.execute("drop table _ranked")
        con.execute("drop table _collisions")

    # ------------------------------------------------------------------ reads
    def reviews_for(self, keys: list[str]) -> pd.DataFrame:
        cols = ", ".join(f'"{c}"' for c in REVIEW_COLUMNS)
        df = self.con.execute(
            f"select {cols} from {self.s}.staged_reviews where restaurant_id in "
            "(select unnest(?::varchar[])) order by restaurant_id, review_id",
            [keys],
        ).df()
        return normalize_reviews_frame(df)

    def all_reviews(self) -> pd.DataFrame:
        cols = ", ".join(f'"{c}"' for c in REVIEW_COLUMNS)
        return normalize_reviews_frame(self.con.execute(f"select {cols} from {self.s}.staged_reviews").df())

    def rejected(self, keys: list[str] | None = None) -> pd.DataFrame:
        where = "" if keys is None else " where restaurant_id in (select unnest(?::varchar[]))"
        df = self.con.execute(f"select * from {self.s}.rejected_reviews{where}", [] if keys is None else [keys]).df()
        return rejections_frame(df.to_dict(orient="records"))

    def restaurant_keys(self) -> list[str]:
        return [
            r[0]
            for r in self.con.execute(
                f"select distinct restaurant_id from {self.s}.staged_reviews order by 1"
            ).fetchall()
        ]

    def restaurant_names(self, keys: list[str]) -> pd.DataFrame:
        """Partition key -> the id as the source writes it and the restaurant's name (for the UI)."""
        return self.con.execute(
            f"select restaurant_id, min(source_restaurant_id) as source_restaurant_id, "
            f"min(restaurant_name) as restaurant_name, count(*) as reviews from {self.s}.staged_reviews "
            "where restaurant_id in (select unnest(?::varchar[])) group by 1 order by 1",
            [keys],
        ).df()

    def manifest(self) -> dict[str, list[int]]:
        """Present files -> [size, mtime_ns]: what the sensor compares the folder with."""
        return {
            r[0]: [int(r[1]), int(r[2])]
            for r in self.con.execute(
                f"select staged_file, size, mtime_ns from {self.s}.staged_files where present"
            ).fetchall()
        }


def rows_version(df: pd.DataFrame) -> str:
    """A version of a set of reviews: equal for the same rows (content, source file and row), in any
    order; what the `reviews` asset reports as its data version."""
    cols = ["review_id", "content_hash", "source_restaurant_id", "source_file", "source_row"]
    h = pd.util.hash_pandas_object(df[cols].astype(str), index=False)
    return hashlib.sha256(f"{len(df)}:{int(h.sum()) & 0xFFFFFFFFFFFFFFFF:016x}".encode()).hexdigest()[:16]


# ---------------------------------------------------------------------- without a warehouse


@dataclass
class ScanResult:
    reviews: pd.DataFrame
    rejected: pd.DataFrame
    report: StagingReport

    @property
    def restaurant_ids(self) -> list[str]:
        return sorted(self.reviews["restaurant_id"].unique().tolist())


def scan_folder(
    folder: Path,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
    files: list[Path] | None = None,
    sources: SourcesFile | None = None,
) -> ScanResult:
    """Stage a folder (or some of its files) in memory: the same code path as the staging asset,
    for the CLI, benchmarks and tests."""
    con = duckdb.connect()
    try:
        store = StagingStore(con)
        report = store.stage(Path(folder), sources, max_text_chars, files=files)
        return ScanResult(store.all_reviews(), store.rejected(), report)
    finally:
        con.close()

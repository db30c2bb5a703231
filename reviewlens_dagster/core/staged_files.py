"""Which files staging reads: the folder's listing against the ``staged_files`` rows (size, mtime,
then the content hash; the configuration's fingerprint), and what each file read produced (its
``staged_files`` row, its counts). What a staging run did: :class:`StagingReport`."""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.compute as pc

from .ingest import REJECTED, WARNING, file_sha256

#: bump when reading / validation change what they produce for the same bytes: every file is
#: staged again on the next run
PARSER_VERSION = "2026-12-04.1"  # rating strings ("5 star rating", "4.5 out of 5"), menus, sub-ratings, workbooks
READ_WORKERS = max(2, min(8, os.cpu_count() or 1))


def config_fingerprint(max_text_chars: int, spec_digest: str) -> str:
    """What, besides a file's bytes, decides what staging makes of it."""
    return hashlib.sha256(f"{PARSER_VERSION}|{max_text_chars}|{spec_digest}".encode()).hexdigest()[:16]


@dataclass
class StagingReport:
    files: int = 0
    parsed: list[str] = field(default_factory=list)
    unchanged: int = 0
    touched: int = 0  # mtime changed, bytes did not
    deleted: list[str] = field(default_factory=list)
    quarantined: dict[str, str] = field(default_factory=dict)
    rows_read: int = 0
    reviews: int = 0
    rejected: int = 0
    warnings: int = 0
    restaurants: int = 0
    changed_restaurants: list[str] = field(default_factory=list)
    sources_used: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def wrote(self) -> bool:
        return bool(self.parsed or self.deleted or self.touched)

    def problems(self, on_deleted: str) -> list[str]:
        """What a data engineer should look at: files quarantined whole, files that left the folder."""
        out = [f"file quarantined whole: {name}: {reason}" for name, reason in self.quarantined.items()]
        if self.deleted:
            out.append(
                f"{len(self.deleted)} file(s) left the folder: {self.deleted[:10]}; their reviews were "
                f"{'kept' if on_deleted == 'keep' else 'removed'} (REVIEWLENS_ON_DELETED_FILE)"
            )
        return out

    def summary(self, new_partitions: int) -> str:
        return (
            f"staged {len(self.parsed)} of {self.files} file(s) ({self.unchanged} unchanged) in "
            f"{self.seconds:.2f} s: {self.rows_read:,} rows read, {len(self.changed_restaurants)} restaurant(s) "
            f"changed, {new_partitions} new partition(s)"
        )


def changed_files(listing, prev, specs, max_text_chars: int, report: StagingReport):
    """(files to read, files only touched): a file whose size and mtime match what was staged
    with the same configuration is unchanged; else its content hash decides (files hashed on
    every core); a touched file keeps its rows, with the new mtime."""
    maybe: list[tuple[str, Path, os.stat_result, str]] = []
    for name, (path, st) in listing.items():
        spec = specs[name]
        config = config_fingerprint(max_text_chars, spec.digest() if spec else "auto")
        used = spec.name if spec else "auto"
        report.sources_used[used] = report.sources_used.get(used, 0) + 1
        old = prev.get(name)
        if (
            old is not None
            and old["config"] == config
            and old["present"]
            and old["size"] == st.st_size
            and old["mtime_ns"] == st.st_mtime_ns
        ):
            report.unchanged += 1
        else:
            maybe.append((name, path, st, config))
    to_parse: list[tuple[str, Path, os.stat_result, str, str]] = []
    touched: list[dict] = []
    with ThreadPoolExecutor(READ_WORKERS) as pool:
        digests = list(pool.map(lambda m: _sha256_or_none(m[1]), maybe))
    for (name, path, st, config), digest in zip(maybe, digests):
        old = prev.get(name)
        if digest is None:  # gone or unreadable since the listing: as it was, until the next run
            report.files -= 1
            continue
        if old is not None and old["config"] == config and old["size"] == st.st_size and old["sha256"] == digest:
            touched.append({**old, "mtime_ns": st.st_mtime_ns, "present": True})
        else:
            to_parse.append((name, path, st, digest, config))
    return to_parse, touched


def _sha256_or_none(path: Path) -> str | None:
    try:
        return file_sha256(path)
    except OSError:
        return None


def _relative(path: Path, folder: Path) -> str:
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return Path(path).name


def folder_listing(paths: list[Path], folder: Path) -> dict[str, tuple[Path, os.stat_result]]:
    """Staged name (relative to the folder) -> (path, stat) of the files present now."""
    listing: dict[str, tuple[Path, os.stat_result]] = {}
    for p in paths:
        try:
            listing[_relative(p, folder)] = (p, p.stat())
        except OSError:
            continue  # removed between listing and stat: treated as absent
    return listing


def parts_and_file_rows(to_parse, parsed, specs, report: StagingReport) -> tuple[list, list[dict]]:
    """The parts read from each file (tagged with the file), and each file's ``staged_files`` row;
    a file none of whose tables could be used is quarantined whole (``report.quarantined``)."""
    parts, file_rows = [], []
    for (name, _, st, digest, config), got in zip(to_parse, parsed):
        spec = specs[name]
        for part in got:
            part.file = name
        parts.extend(got)
        fatal = got[0].fatal if all(p.fatal for p in got) else None  # else some members of a .zip
        if fatal:
            report.quarantined[name] = fatal
        file_rows.append(
            {
                "staged_file": name,
                "size": st.st_size,
                "mtime_ns": st.st_mtime_ns,
                "sha256": digest,
                "config": config,
                "source": spec.name if spec else "auto",
                "encoding": next((p.encoding for p in got if p.encoding), None),
                "fatal": fatal,
                "present": True,
            }
        )
    return parts, file_rows


def count_per_file(file_rows: list[dict], rows, rej: pd.DataFrame) -> None:
    """Rows, rejections and warnings of each file, into its ``staged_files`` row."""
    counts = {
        "rows": pd.Series(
            {c["values"]: c["counts"] for c in pc.value_counts(rows.column("staged_file")).to_pylist()},
            dtype="int64",
        ),
        "rejected": rej[rej["severity"] == REJECTED].groupby("staged_file").size(),
        "warnings": rej[rej["severity"] == WARNING].groupby("staged_file").size(),
    }
    for fr in file_rows:
        for k, series in counts.items():
            fr[k] = int(series.get(fr["staged_file"], 0))

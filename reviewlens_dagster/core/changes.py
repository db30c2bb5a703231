"""What the sensors see without opening the warehouse (which a running writer may lock): the
manifest staging writes (each staged file's size and mtime, and a digest of the configuration),
the folder's changes against it, and the partition ranges a change set is run in."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import list_review_files
from .staged_files import PARSER_VERSION


def sources_digest(sources_path: Path | None, max_text_chars: int) -> str:
    """Changes when the parser, the text limit or sources.yaml change (every file may stage anew)."""
    h = hashlib.sha256(f"{PARSER_VERSION}|{max_text_chars}".encode())
    if sources_path is not None and Path(sources_path).exists():
        h.update(Path(sources_path).read_bytes())
    return h.hexdigest()[:16]


def write_manifest(path: Path, files: dict[str, list[int]], digest: str) -> None:
    """What staging holds, as a small JSON file next to the warehouse: the sensor reads it instead of
    the warehouse (which a running writer locks). Written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"digest": digest, "files": files}, fh, ensure_ascii=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@dataclass
class FolderChanges:
    changed: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    config_changed: bool = False

    @property
    def any(self) -> bool:
        return bool(self.changed or self.deleted or self.config_changed)

    def run_key(self, stats: dict[str, list[int]], digest: str) -> str:
        """Stable for one change set: a second tick over the same changes requests nothing new."""
        payload = json.dumps([digest, {n: stats.get(n) for n in sorted(self.changed + self.deleted)}])
        return "staging:" + hashlib.sha256(payload.encode()).hexdigest()[:16]


def detect_changes(folder: Path, manifest_path: Path, digest: str) -> tuple[FolderChanges, dict[str, list[int]]]:
    """Compare the folder (file sizes and mtimes only: no file is opened) with the manifest."""
    try:
        doc = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        staged, staged_digest = doc["files"], doc["digest"]
    except (OSError, ValueError, KeyError, TypeError):
        staged, staged_digest = {}, None
    folder = Path(folder)
    stats: dict[str, list[int]] = {}
    for p in list_review_files(folder):
        try:
            st = p.stat()
        except OSError:
            continue
        stats[p.relative_to(folder).as_posix()] = [st.st_size, st.st_mtime_ns]
    out = FolderChanges(config_changed=staged_digest is not None and staged_digest != digest and bool(stats))
    out.changed = sorted(n for n, st in stats.items() if staged.get(n) != st)
    out.deleted = sorted(n for n in staged if n not in stats)
    return out, stats


def partition_ranges(order: list[str], keys: list[str], max_ranges: int) -> list[tuple[str, str]]:
    """Contiguous blocks of ``keys`` in partition order (dynamic partitions keep insertion order),
    as (first, last) pairs: a range run covers every partition between them. Beyond ``max_ranges``
    the blocks separated by the smallest gaps are merged."""
    position = {k: i for i, k in enumerate(order)}
    idx = sorted(position[k] for k in set(keys) if k in position)
    if not idx:
        return []
    blocks = [[idx[0], idx[0]]]
    for i in idx[1:]:
        if i == blocks[-1][1] + 1:
            blocks[-1][1] = i
        else:
            blocks.append([i, i])
    while len(blocks) > max(1, max_ranges):
        j = min(range(len(blocks) - 1), key=lambda b: blocks[b + 1][0] - blocks[b][1])
        blocks[j : j + 2] = [[blocks[j][0], blocks[j + 1][1]]]
    return [(order[a], order[b]) for a, b in blocks]

"""Change detection over the incoming folder (used by the sensor; no Dagster import).

The cursor maps each file (path relative to the folder) to ``[fingerprint, restaurant_ids]``.
The fingerprint is ``size:mtime_ns``; restaurant ids are remembered so that a deleted or
rewritten file also refreshes the restaurants it used to hold.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .ingest import list_review_files, read_review_file


@dataclass
class FolderChanges:
    changed_files: list[str] = field(default_factory=list)
    deleted_files: list[str] = field(default_factory=list)
    quarantined_files: dict[str, str] = field(default_factory=dict)  # path -> reason
    restaurant_ids: set[str] = field(default_factory=set)
    cursor: dict[str, list] = field(default_factory=dict)

    @property
    def any(self) -> bool:
        return bool(self.changed_files or self.deleted_files)

    @property
    def digest(self) -> str:
        """A short stable id of this change set: used in run keys so a tick is idempotent."""
        payload = json.dumps(
            {k: self.cursor.get(k, ["deleted"])[0] for k in sorted(self.changed_files + self.deleted_files)}
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


def _fingerprint(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def load_cursor(raw: str | None) -> dict[str, list]:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def detect_changes(folder: Path, cursor: dict[str, list], max_text_chars: int = 5000, cache=None) -> FolderChanges:
    """Compare the folder with the cursor; parse only new or changed files (through ``cache``, a
    parse_cache.ParsedFileCache, when given: the runs the sensor requests then find them parsed)."""
    folder = Path(folder)
    out = FolderChanges()
    present: set[str] = set()
    for path in list_review_files(folder):
        name = path.relative_to(folder).as_posix()
        present.add(name)
        fp = _fingerprint(path)
        previous = cursor.get(name)
        if previous and previous[0] == fp:
            out.cursor[name] = previous
            continue
        result = (cache.load if cache is not None else read_review_file)(path, name, max_text_chars)
        ids = sorted({r["restaurant_id"] for r in result.rows})
        out.changed_files.append(name)
        out.restaurant_ids.update(ids)
        if previous:
            out.restaurant_ids.update(previous[1])
        if result.fatal:
            out.quarantined_files[name] = result.fatal
        out.cursor[name] = [fp, ids]
    for name, previous in cursor.items():
        if name not in present:
            out.deleted_files.append(name)
            out.restaurant_ids.update(previous[1] if isinstance(previous, list) and len(previous) > 1 else [])
    return out
